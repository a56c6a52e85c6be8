using System.Text;
using System.Text.Json;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// <c>POST /v1/responses</c> bodies as <see cref="ResponseRequestParser"/> reads them: every recorded SDK body, the
/// live API's defaults, and a 400 naming the parameter (its <c>param</c> and <c>code</c>) for every kind of bad field.
/// </summary>
public sealed class ResponseRequestParserTests
{
    private const string Function = """{"type":"function","name":"f","parameters":{"type":"object","properties":{}}}""";

    /// <summary>A valid request with <paramref name="fields"/> added at the top level.</summary>
    private static string With(string fields) => $$"""{"model":"m","input":"hi",{{fields}}}""";

    /// <summary>A request whose <c>input</c> items are <paramref name="items"/>.</summary>
    private static string Items(params string[] items) => $$"""{"model":"m","input":[{{string.Join(",", items)}}]}""";

    /// <summary>A request with one message of <paramref name="role"/> whose content parts are <paramref name="parts"/>.</summary>
    private static string Parts(string role, string parts) => Items($$"""{"type":"message","role":"{{role}}","content":[{{parts}}]}""");

    /// <summary>A request with function tool <c>f</c> and <paramref name="choice"/> as its tool choice.</summary>
    private static string Choice(string choice) => With($"\"tools\":[{Function}],\"tool_choice\":{choice}");

    private static ResponseRequest Parse(string body) => ResponseRequestParser.Parse(Encoding.UTF8.GetBytes(body));

    /// <summary>Body, expected <c>param</c> (null for JSON null), expected <c>code</c> (null for JSON null).</summary>
    public static TheoryData<string, string?, string?> BadBodies => new()
    {
        // The body and the model.
        { "[]", null, "invalid_type" },
        { "{\"model\":", null, "invalid_json" },
        { """{"input":"hi"}""", "model", "missing_required_parameter" },
        { """{"model":"","input":"hi"}""", "model", "empty_string" },
        { """{"model":5,"input":"hi"}""", "model", "invalid_type" },
        { """{"model":"m","input":"hi","model":"n"}""", "model", "invalid_json" },

        // input and the items in it.
        { """{"model":"m"}""", "input", "missing_required_parameter" },
        { """{"model":"m","input":5}""", "input", "invalid_type" },
        { """{"model":"m","input":{"role":"user","content":"hi"}}""", "input", "invalid_type" },
        { """{"model":"m","input":[]}""", "input", "empty_array" },
        { Items("5"), "input[0]", "invalid_type" },
        { Items("{}"), "input[0].type", "missing_required_parameter" },
        { Items("""{"type":"nope"}"""), "input[0].type", "invalid_value" },
        { Items("""{"type":"web_search_call","id":"ws_1","status":"completed"}"""), "input[0].type", "invalid_value" },
        { Items("""{"type":"item_reference","id":"msg_1"}"""), "input[0]", "unsupported_value" },
        { Items("""{"id":"msg_1"}"""), "input[0]", "unsupported_value" },
        { Items("""{"role":"robot","content":"hi"}"""), "input[0].role", "invalid_value" },
        { Items("""{"type":"message","content":"hi"}"""), "input[0].role", "missing_required_parameter" },
        { Items("""{"role":"user"}"""), "input[0].content", "missing_required_parameter" },
        { Items("""{"role":"user","content":5}"""), "input[0].content", "invalid_type" },
        { Items("""{"role":"user","content":[]}"""), "input[0].content", "empty_array" },
        { Items("""{"role":"user","content":"hi","name":"bob"}"""), "input[0].name", "unknown_parameter" },
        { Items("""{"role":"user","content":"hi","status":"done"}"""), "input[0].status", "invalid_value" },
        { Items("""{"role":"assistant","content":"hi","phase":"draft"}"""), "input[0].phase", "invalid_value" },
        { Items("""{"role":"user","content":"hi","id":5}"""), "input[0].id", "invalid_type" },
        { Items("""{"role":"user","content":"hi","id":""}"""), "input[0].id", "empty_string" },
        { Items("""{"role":"user","content":"hi","id":"msg_\u0000"}"""), "input[0].id", "invalid_value" },
        { Items("""{"role":"user","content":"a","id":"msg_1"}""", """{"role":"user","content":"b","id":"msg_1"}"""), "input", null },
        { Items("""{"role":"user","content":"a"}""", """{"role":"user","content":"b"}""", """{"role":"user","content":[{"type":"input_text","text":5}]}"""), "input[2].content[0].text", "invalid_type" },

        // Content parts: the types each role takes, and what chat can be sent.
        { Parts("user", "5"), "input[0].content[0]", "invalid_type" },
        { Parts("user", """{"type":"text","text":"hi"}"""), "input[0].content[0].type", "invalid_value" },
        { Parts("user", """{"type":"output_text","text":"hi"}"""), "input[0].content[0].type", "invalid_value" },
        { Parts("user", """{"type":"input_text"}"""), "input[0].content[0].text", "missing_required_parameter" },
        { Parts("user", """{"type":"input_text","text":"hi","cache":true}"""), "input[0].content[0].cache", "unknown_parameter" },
        { Parts("user", """{"type":"input_image"}"""), "input[0].content[0]", "missing_required_parameter" },
        { Parts("user", """{"type":"input_image","image_url":5}"""), "input[0].content[0].image_url", "invalid_type" },
        { Parts("user", """{"type":"input_image","file_id":"file-1"}"""), "input[0].content[0].file_id", "unsupported_value" },
        { Parts("user", """{"type":"input_image","image_url":"https://x/a.png","detail":"original"}"""), "input[0].content[0].detail", "invalid_value" },
        { Parts("user", """{"type":"input_file","filename":"a.pdf"}"""), "input[0].content[0]", "missing_required_parameter" },
        { Parts("user", """{"type":"input_file","file_url":"https://x/a.pdf"}"""), "input[0].content[0].file_url", "unsupported_value" },
        { Parts("user", """{"type":"input_file","file_data":"data:application/pdf;base64,AA==","filename":5}"""), "input[0].content[0].filename", "invalid_type" },
        { Parts("system", """{"type":"input_image","image_url":"https://x/a.png"}"""), "input[0].content[0].type", "unsupported_value" },
        { Parts("developer", """{"type":"input_file","file_id":"file-1"}"""), "input[0].content[0].type", "unsupported_value" },
        { Parts("assistant", """{"type":"input_text","text":"hi"}"""), "input[0].content[0].type", "invalid_value" },
        { Parts("assistant", """{"type":"refusal"}"""), "input[0].content[0].refusal", "missing_required_parameter" },
        { Parts("assistant", """{"type":"output_text","text":"hi","annotations":"none"}"""), "input[0].content[0].annotations", "invalid_type" },

        // Function calls, their outputs, reasoning.
        { Items("""{"type":"function_call","name":"f","arguments":"{}"}"""), "input[0].call_id", "missing_required_parameter" },
        { Items("""{"type":"function_call","call_id":"","name":"f","arguments":"{}"}"""), "input[0].call_id", "empty_string" },
        { Items($$"""{"type":"function_call","call_id":"{{new string('c', 65)}}","name":"f","arguments":"{}"}"""), "input[0].call_id", "string_above_max_length" },
        { Items("""{"type":"function_call","call_id":"call_1","arguments":"{}"}"""), "input[0].name", "missing_required_parameter" },
        { Items("""{"type":"function_call","call_id":"call_1","name":"f","arguments":{}}"""), "input[0].arguments", "invalid_type" },
        { Items("""{"type":"function_call_output","call_id":"call_1"}"""), "input[0].output", "missing_required_parameter" },
        { Items("""{"type":"function_call_output","call_id":"call_1","output":5}"""), "input[0].output", "invalid_type" },
        { Items("""{"type":"function_call_output","call_id":"call_1","output":[{"type":"input_image","image_url":"https://x/a.png"}]}"""), "input[0].output[0].type", "unsupported_value" },
        { Items("""{"type":"function_call_output","output":"22 C"}"""), "input[0].call_id", "missing_required_parameter" },
        { Items("""{"type":"reasoning","id":"rs_1"}"""), "input[0].summary", "missing_required_parameter" },
        { Items("""{"type":"reasoning","id":"rs_1","summary":[{"type":"text","text":"x"}]}"""), "input[0].summary[0].type", "invalid_value" },
        { Items("""{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":5}"""), "input[0].encrypted_content", "invalid_type" },

        // instructions, ids and what Cairn does not implement.
        { With("\"instructions\":5"), "instructions", "invalid_type" },
        { With("\"previous_response_id\":\"msg_1\""), "previous_response_id", "invalid_id_prefix" },
        { With("\"previous_response_id\":5"), "previous_response_id", "invalid_type" },
        { With("\"previous_response_id\":\"resp_\\u0000\""), "previous_response_id", "invalid_value" },
        { With("\"conversation\":\"conv_1\""), "conversation", "unsupported_parameter" },
        { With("\"conversation\":{\"id\":\"conv_1\"}"), "conversation", "unsupported_parameter" },
        { With("\"prompt\":{\"id\":\"pmpt_1\"}"), "prompt", "unsupported_parameter" },

        // Flags and streaming.
        { With("\"store\":\"yes\""), "store", "invalid_type" },
        { With("\"background\":1"), "background", "invalid_type" },
        { With("\"stream\":\"true\""), "stream", "invalid_type" },
        { With("\"stream_options\":{}"), "stream_options", "invalid_value" },
        { With("\"stream\":true,\"stream_options\":5"), "stream_options", "invalid_type" },
        { With("\"stream\":true,\"stream_options\":{\"include_usage\":true}"), "stream_options.include_usage", "unknown_parameter" },
        { With("\"stream\":true,\"stream_options\":{\"include_obfuscation\":\"no\"}"), "stream_options.include_obfuscation", "invalid_type" },
        { With("\"include\":\"message.output_text.logprobs\""), "include", "invalid_type" },
        { With("\"include\":[\"nope\"]"), "include[0]", "invalid_value" },
        { With("\"include\":[5]"), "include[0]", "invalid_type" },

        // tools: functions only, flat.
        { With("\"tools\":{}"), "tools", "invalid_type" },
        { With("\"tools\":[5]"), "tools[0]", "invalid_type" },
        { With("\"tools\":[{}]"), "tools[0].type", "missing_required_parameter" },
        { With("\"tools\":[{\"type\":\"web_search\"}]"), "tools[0].type", "unsupported_value" },
        { With("\"tools\":[{\"type\":\"web_search_preview\"}]"), "tools[0].type", "unsupported_value" },
        { With("\"tools\":[{\"type\":\"file_search\",\"vector_store_ids\":[\"vs_1\"]}]"), "tools[0].type", "unsupported_value" },
        { With("\"tools\":[{\"type\":\"computer_use_preview\",\"display_width\":1,\"display_height\":1,\"environment\":\"linux\"}]"), "tools[0].type", "unsupported_value" },
        { With("\"tools\":[{\"type\":\"code_interpreter\",\"container\":{\"type\":\"auto\"}}]"), "tools[0].type", "unsupported_value" },
        { With("\"tools\":[{\"type\":\"image_generation\"}]"), "tools[0].type", "unsupported_value" },
        { With("\"tools\":[{\"type\":\"mcp\",\"server_label\":\"x\"}]"), "tools[0].type", "unsupported_value" },
        { With("\"tools\":[{\"type\":\"local_shell\"}]"), "tools[0].type", "unsupported_value" },
        { With("\"tools\":[{\"type\":\"custom\",\"name\":\"c\"}]"), "tools[0].type", "unsupported_value" },
        { With($"\"tools\":[{Function},{{\"type\":\"web_search\"}}]"), "tools[1].type", "unsupported_value" },
        { With("\"tools\":[{\"type\":\"function\"}]"), "tools[0].name", "missing_required_parameter" },
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]"), "tools[0].function", "unknown_parameter" },
        { With("\"tools\":[{\"type\":\"function\",\"name\":\"bad name\"}]"), "tools[0].name", "invalid_value" },
        { With($"\"tools\":[{{\"type\":\"function\",\"name\":\"{new string('f', 65)}\"}}]"), "tools[0].name", "invalid_value" },
        { With("\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"description\":5}]"), "tools[0].description", "invalid_type" },
        { With("\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"parameters\":\"{}\"}]"), "tools[0].parameters", "invalid_type" },
        { With("\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"strict\":\"yes\"}]"), "tools[0].strict", "invalid_type" },
        { With("\"tools\":[" + string.Join(",", Enumerable.Repeat(Function, 129)) + "]"), "tools", "array_above_max_length" },

        // tool_choice.
        { Choice("\"sometimes\""), "tool_choice", "invalid_value" },
        { Choice("5"), "tool_choice", "invalid_type" },
        { With("\"tool_choice\":\"required\""), "tool_choice", "invalid_value" },
        { With("\"tools\":[],\"tool_choice\":\"required\""), "tool_choice", "invalid_value" },
        { With("\"tool_choice\":{\"type\":\"function\",\"name\":\"f\"}"), "tool_choice.name", "invalid_value" },
        { Choice("{\"type\":\"function\",\"name\":\"g\"}"), "tool_choice.name", "invalid_value" },
        { Choice("{\"type\":\"function\"}"), "tool_choice.name", "missing_required_parameter" },
        { Choice("{\"type\":\"function\",\"function\":{\"name\":\"f\"}}"), "tool_choice.function", "unknown_parameter" },
        { Choice("{}"), "tool_choice.type", "missing_required_parameter" },
        { Choice("{\"type\":\"file_search\"}"), "tool_choice.type", "unsupported_value" },
        { Choice("{\"type\":\"mcp\",\"server_label\":\"x\"}"), "tool_choice.type", "unsupported_value" },
        { Choice("{\"type\":\"allowed_tools\",\"mode\":\"sometimes\",\"tools\":[{\"type\":\"function\",\"name\":\"f\"}]}"), "tool_choice.mode", "invalid_value" },
        { Choice("{\"type\":\"allowed_tools\",\"mode\":\"auto\"}"), "tool_choice.tools", "missing_required_parameter" },
        { Choice("{\"type\":\"allowed_tools\",\"mode\":\"auto\",\"tools\":[]}"), "tool_choice.tools", "empty_array" },
        { Choice("{\"type\":\"allowed_tools\",\"mode\":\"auto\",\"tools\":[{\"type\":\"image_generation\"}]}"), "tool_choice.tools[0].type", "unsupported_value" },
        { Choice("{\"type\":\"allowed_tools\",\"mode\":\"auto\",\"tools\":[{\"type\":\"function\",\"name\":\"g\"}]}"), "tool_choice.tools[0].name", "invalid_value" },
        { With("\"parallel_tool_calls\":\"no\""), "parallel_tool_calls", "invalid_type" },

        // text and reasoning.
        { With("\"text\":\"json\""), "text", "invalid_type" },
        { With("\"text\":{\"size\":1}"), "text.size", "unknown_parameter" },
        { With("\"text\":{\"format\":\"json\"}"), "text.format", "invalid_type" },
        { With("\"text\":{\"format\":{}}"), "text.format.type", "missing_required_parameter" },
        { With("\"text\":{\"format\":{\"type\":\"xml\"}}"), "text.format.type", "invalid_value" },
        { With("\"text\":{\"format\":{\"type\":\"text\",\"name\":\"x\"}}"), "text.format.name", "unknown_parameter" },
        { With("\"text\":{\"format\":{\"type\":\"json_schema\",\"schema\":{}}}"), "text.format.name", "missing_required_parameter" },
        { With("\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"a b\",\"schema\":{}}}"), "text.format.name", "invalid_value" },
        { With("\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"s\"}}"), "text.format.schema", "missing_required_parameter" },
        { With("\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"s\",\"schema\":\"{}\"}}"), "text.format.schema", "invalid_type" },
        { With("\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"s\",\"schema\":{},\"strict\":\"yes\"}}"), "text.format.strict", "invalid_type" },
        { With("\"text\":{\"format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"s\",\"schema\":{}}}}"), "text.format.json_schema", "unknown_parameter" },
        { With("\"text\":{\"verbosity\":\"loud\"}"), "text.verbosity", "invalid_value" },
        { With("\"reasoning\":\"high\""), "reasoning", "invalid_type" },
        { With("\"reasoning\":{\"effort\":\"extreme\"}"), "reasoning.effort", "invalid_value" },
        { With("\"reasoning\":{\"summary\":\"long\"}"), "reasoning.summary", "invalid_value" },
        { With("\"reasoning\":{\"context\":\"forever\"}"), "reasoning.context", "invalid_value" },
        { With("\"reasoning\":{\"budget\":1}"), "reasoning.budget", "unknown_parameter" },

        // Numbers.
        { With("\"max_output_tokens\":15"), "max_output_tokens", "integer_below_min_value" },
        { With("\"max_output_tokens\":16.5"), "max_output_tokens", "invalid_type" },
        { With("\"max_output_tokens\":\"16\""), "max_output_tokens", "invalid_type" },
        { With("\"max_output_tokens\":1e20"), "max_output_tokens", "integer_above_max_value" },
        { With("\"max_tool_calls\":-1"), "max_tool_calls", "integer_below_min_value" },
        { With("\"temperature\":2.5"), "temperature", "decimal_above_max_value" },
        { With("\"temperature\":-0.1"), "temperature", "decimal_below_min_value" },
        { With("\"temperature\":\"1\""), "temperature", "invalid_type" },
        { With("\"top_p\":1.5"), "top_p", "decimal_above_max_value" },
        { With("\"top_logprobs\":21"), "top_logprobs", "integer_above_max_value" },
        { With("\"top_logprobs\":-1"), "top_logprobs", "integer_below_min_value" },
        { With("\"truncation\":\"sometimes\""), "truncation", "invalid_value" },

        // metadata and the other strings.
        { With("\"metadata\":\"x\""), "metadata", "invalid_type" },
        { With("\"metadata\":{\"k\":5}"), "metadata.k", "invalid_type" },
        { With("\"metadata\":" + Pairs(17)), "metadata", "object_above_max_properties" },
        { With($"\"metadata\":{{\"{new string('k', 65)}\":\"v\"}}"), $"metadata.{new string('k', 65)}", "string_above_max_length" },
        { With($"\"metadata\":{{\"k\":\"{new string('v', 513)}\"}}"), "metadata.k", "string_above_max_length" },
        { With("\"user\":5"), "user", "invalid_type" },
        { With($"\"safety_identifier\":\"{new string('s', 65)}\""), "safety_identifier", "string_above_max_length" },
        { With("\"prompt_cache_key\":5"), "prompt_cache_key", "invalid_type" },
        { With("\"prompt_cache_retention\":\"forever\""), "prompt_cache_retention", "invalid_value" },
        { With("\"prompt_cache_options\":{\"ttl\":\"1h\"}"), "prompt_cache_options.ttl", "invalid_value" },
        { With("\"service_tier\":\"gold\""), "service_tier", "invalid_value" },
        { With("\"moderation\":{}"), "moderation.model", "missing_required_parameter" },
        { With("\"context_management\":[]"), "context_management", "empty_array" },
        { With("\"context_management\":[{\"type\":\"compaction\",\"compact_threshold\":10}]"), "context_management[0].compact_threshold", "integer_below_min_value" },

        // Chat Completions' names for what the Responses API names otherwise.
        { With("\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"), "messages", "unknown_parameter" },
        { With("\"max_tokens\":100"), "max_tokens", "unknown_parameter" },
        { With("\"max_completion_tokens\":100"), "max_completion_tokens", "unknown_parameter" },
        { With("\"response_format\":{\"type\":\"json_object\"}"), "response_format", "unknown_parameter" },
        { With("\"reasoning_effort\":\"low\""), "reasoning_effort", "unknown_parameter" },
        { With("\"n\":2"), "n", "unknown_parameter" },
    };

    private static string Pairs(int count) =>
        "{" + string.Join(",", Enumerable.Range(0, count).Select(i => $"\"k{i}\":\"v\"")) + "}";

    [Theory]
    [MemberData(nameof(BadBodies))]
    public void ABadField_IsA400_NamingIt(string body, string? param, string? code)
    {
        var error = Assert.Throws<OpenAIException>(() => Parse(body)).Error;

        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal(param, error.Param);
        Assert.Equal(code, error.Code);
    }

    [Fact]
    public void EveryRecordedSdkBody_Parses_ButTheConversationOne()
    {
        var bodies = 0;
        foreach (var file in RecordedJson.Files("ResponsesTests").Concat(RecordedJson.Files("ResponseStoreTests")))
        {
            var entries = RecordedJson.Entries(file);
            for (var i = 0; i < entries.GetArrayLength(); i++)
            {
                if (entries[i].GetProperty("RequestMethod").GetString() != "POST" || !entries[i].GetProperty("RequestUri").GetString()!.EndsWith("/v1/responses", StringComparison.Ordinal))
                {
                    continue;
                }
                bodies++;
                var body = RecordedJson.RequestBody(file, i);
                if (file.EndsWith("ResponseUsingConversations.json", StringComparison.Ordinal))
                {
                    Assert.Equal("conversation", Assert.Throws<OpenAIException>(() => ResponseRequestParser.Parse(body)).Error.Param);
                    continue;
                }
                using var request = ResponseRequestParser.Parse(body);
                Assert.Equal(entries[i].GetProperty("RequestBody").GetProperty("model").GetString(), request.Model);
            }
        }
        Assert.True(bodies >= 20, $"{bodies} recorded bodies");
    }

    [Fact]
    public void Defaults_AreTheLiveApis()
    {
        using var request = Parse("""{"model":"gpt-4o-mini","input":"Hello"}""");

        Assert.Equal("gpt-4o-mini", request.Model);
        Assert.Equal("Hello", request.InputText);
        Assert.Equal(JsonValueKind.String, Assert.Single(request.Input).ValueKind);
        Assert.True(request.Store);
        Assert.False(request.Background);
        Assert.False(request.Stream);
        Assert.True(request.IncludeObfuscation);
        Assert.True(request.ParallelToolCalls);
        Assert.Null(request.Tools);
        Assert.Null(request.ToolChoice);
        Assert.Null(request.TextFormat);
        Assert.Equal("medium", request.Verbosity);
        Assert.Equal("disabled", request.Truncation);
        Assert.Empty(request.Metadata);
        Assert.Empty(request.Include);
        Assert.Empty(request.Extensions);
        Assert.Null(request.Instructions);
        Assert.Null(request.PreviousResponseId);
        Assert.Null(request.MaxOutputTokens);
        Assert.Null(request.Temperature);
    }

    [Fact]
    public void NullMeansAbsent_EvenForWhatCairnRefuses()
    {
        using var request = Parse("""
            {"model":"m","input":"hi","conversation":null,"prompt":null,"instructions":null,"tools":null,"tool_choice":null,
             "temperature":null,"store":null,"metadata":null,"previous_response_id":null,"text":null,"reasoning":null,
             "stream_options":null,"include":null,"max_output_tokens":null,"messages":null,"top_k":null}
            """);

        Assert.True(request.Store);
        Assert.Null(request.Tools);
        Assert.Empty(request.Extensions);
        Assert.Equal(["input", "model"], request.Given.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EveryField_IsReadIntoTheRequest()
    {
        using var request = Parse($$"""
            {"model":"m","input":[{"role":"user","content":"hi"}],"instructions":"Be brief.","previous_response_id":"resp_1",
             "store":false,"background":true,"stream":true,"stream_options":{"include_obfuscation":false},
             "include":["message.output_text.logprobs","reasoning.encrypted_content"],"tools":[{{Function}}],
             "tool_choice":{"type":"function","name":"f"},"parallel_tool_calls":false,
             "text":{"format":{"type":"json_object"},"verbosity":"low"},"reasoning":{"effort":"high","summary":"auto"},
             "max_output_tokens":16,"max_tool_calls":3,"temperature":0.5,"top_p":0.9,"top_logprobs":20,"truncation":"auto",
             "metadata":{"team":"a"},"user":"u","safety_identifier":"s","prompt_cache_key":"k","service_tier":"flex",
             "prompt_cache_retention":"24h","context_management":[{"type":"compaction","compact_threshold":1000}],
             "top_k":40,"seed":7}
            """);

        Assert.Null(request.InputText);
        Assert.Equal("user", Assert.Single(request.Input).GetProperty("role").GetString());
        Assert.Equal("Be brief.", request.Instructions);
        Assert.Equal("resp_1", request.PreviousResponseId);
        Assert.False(request.Store);
        Assert.True(request.Background);
        Assert.True(request.Stream);
        Assert.False(request.IncludeObfuscation);
        Assert.Equal(["message.output_text.logprobs", "reasoning.encrypted_content"], request.Include);
        Assert.Equal(1, request.Tools!.Value.GetArrayLength());
        Assert.Equal("f", request.ToolChoice!.Value.GetProperty("name").GetString());
        Assert.False(request.ParallelToolCalls);
        Assert.Equal("json_object", request.TextFormat!.Value.GetProperty("type").GetString());
        Assert.Equal("low", request.Verbosity);
        Assert.Equal("high", request.Reasoning!.Value.GetProperty("effort").GetString());
        Assert.Equal(16, request.MaxOutputTokens);
        Assert.Equal(3, request.MaxToolCalls);
        Assert.Equal(0.5, request.Temperature);
        Assert.Equal(0.9, request.TopP);
        Assert.Equal(20, request.TopLogprobs);
        Assert.Equal("auto", request.Truncation);
        Assert.Equal("a", request.Metadata["team"]);
        Assert.Equal("u", request.User);
        Assert.Equal("s", request.SafetyIdentifier);
        Assert.Equal("k", request.PromptCacheKey);
        Assert.Equal("flex", request.ServiceTier);
        Assert.Equal(["top_k", "seed"], request.Extensions);
    }

    [Fact]
    public void AContinuation_MayLeaveInputOut_OrSendNone()
    {
        using var without = Parse("""{"model":"m","previous_response_id":"resp_1"}""");
        using var empty = Parse("""{"model":"m","previous_response_id":"resp_1","input":[]}""");

        Assert.Empty(without.Input);
        Assert.Empty(empty.Input);
    }

    [Fact]
    public void TheWordsOfTheRefusals_SayWhatToDoInstead()
    {
        static string Message(string body) => Assert.Throws<OpenAIException>(() => Parse(body)).Error.Message;

        Assert.Equal("Invalid 'previous_response_id': 'chatcmpl-1'. Expected an ID that begins with 'resp'.",
            Message(With("\"previous_response_id\":\"chatcmpl-1\"")));
        Assert.Contains("does not implement the Conversations API", Message(With("\"conversation\":\"conv_1\"")), StringComparison.Ordinal);
        Assert.Equal("Tool 'web_search' is not supported with m: Cairn answers through Chat Completions models, which call function tools only.",
            Message(With("\"tools\":[{\"type\":\"web_search\"}]")));
        Assert.Equal("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 15 instead.",
            Message(With("\"max_output_tokens\":15")));
        Assert.Equal("Duplicate item found with id msg_1. Remove duplicate items from your input and try again.",
            Message(Items("""{"role":"user","content":"a","id":"msg_1"}""", """{"role":"user","content":"b","id":"msg_1"}""")));
        Assert.Equal("Unrecognized request argument supplied: 'max_tokens'. The Responses API calls it 'max_output_tokens'.", Message(With("\"max_tokens\":100")));
        Assert.Equal("Invalid value: 'input_text'. Supported values are: 'output_text', 'refusal'.",
            Message(Parts("assistant", """{"type":"input_text","text":"hi"}""")));
    }

    [Fact]
    public void MessagesMayLeaveTypeOut_AndEveryItemKindIsAccepted()
    {
        using var request = Parse("""
            {"model":"m","input":[
             {"role":"developer","content":"Be brief."},
             {"role":"user","content":[{"type":"input_text","text":"Look"},{"type":"input_image","image_url":"https://x/a.png","detail":"low"},
               {"type":"input_file","file_data":"data:application/pdf;base64,AA==","filename":"a.pdf"},{"type":"input_file","file_id":"file-1"}]},
             {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Thinking."}],"encrypted_content":"gAAA"},
             {"type":"message","role":"assistant","id":"msg_1","status":"completed","content":[{"type":"output_text","text":"Calling.","annotations":[],"logprobs":[]},{"type":"refusal","refusal":"No."}]},
             {"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{}","status":"completed"},
             {"type":"function_call_output","call_id":"call_1","output":[{"type":"input_text","text":"22 C"}]}]}
            """);

        Assert.Equal(6, request.Input.Count);
    }
}
