using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// Every kind of bad input, sent as raw HTTP, gets OpenAI's error envelope with the status, <c>param</c> and
/// <c>code</c> a client can act on: malformed create bodies, bad list queries, bad updates, media type, size, routes.
/// </summary>
public sealed class BadInputTests(CairnServer server) : IClassFixture<CairnServer>
{
    private const string Hi = """{"role":"user","content":"hi"}""";
    private const string FunctionTool = """[{"type":"function","function":{"name":"get_weather"}}]""";

    /// <summary>A valid echo request with <paramref name="fields"/> added at the top level.</summary>
    private static string With(string fields) => $$"""{"model":"echo","messages":[{{Hi}}],{{fields}}}""";

    /// <summary>An echo request whose <c>messages</c> are <paramref name="messages"/>.</summary>
    private static string Messages(params string[] messages) => $$"""{"model":"echo","messages":[{{string.Join(",", messages)}}]}""";

    /// <summary>An echo request with one user message whose content is the array of <paramref name="parts"/>.</summary>
    private static string UserParts(string parts) => Messages($$"""{"role":"user","content":[{{parts}}]}""");

    /// <summary>
    /// Stands for the raw byte <paramref name="b"/> in a table body (a private-use character, which
    /// <see cref="Bytes"/> sends as that one byte), so bodies that are not UTF-8 fit in the table.
    /// </summary>
    private static string X(params int[] bytes) => string.Concat(bytes.Select(b => (char)(0xF800 + b)));

    /// <summary>A table body as sent: UTF-8, but each <see cref="X"/> character as its raw byte.</summary>
    public static byte[] Bytes(string body)
    {
        var bytes = new List<byte>(body.Length);
        foreach (var c in body)
        {
            if (c is >= '\uF800' and <= '\uF8FF')
            {
                bytes.Add((byte)(c - 0xF800));
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }
        return [.. bytes];
    }

    private static Task<HttpResponseMessage> PostBytesAsync(HttpClient http, string path, string body)
    {
        var content = new ByteArrayContent(Bytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return http.PostAsync(path, content);
    }

    private static string Deep(int levels) => new string('[', levels) + new string(']', levels);

    private static string Pairs(int count) =>
        "{" + string.Join(",", Enumerable.Range(0, count).Select(i => $"\"k{i}\":\"v\"")) + "}";

    /// <summary>Body, expected status, expected <c>param</c> (null for JSON null), expected <c>code</c>.</summary>
    public static TheoryData<string, int, string?, string> MalformedCreates => new()
    {
        // The body itself.
        { "{\"model\":\"echo\",", 400, null, "invalid_json" },
        { "{not json}", 400, null, "invalid_json" },
        { With("\"n\":1") + " trailing", 400, null, "invalid_json" },
        { "", 400, null, "invalid_json" },
        { "   ", 400, null, "invalid_json" },
        { "[" + With("\"n\":1") + "]", 400, null, "invalid_type" },
        { "\"echo\"", 400, null, "invalid_type" },
        { "42", 400, null, "invalid_type" },
        { "null", 400, null, "invalid_type" },
        { new string('[', 200) + new string(']', 200), 400, null, "invalid_json" },

        // Bytes that are not UTF-8, in every position: a value, a key, nested; overlong and surrogate encodings.
        { With("\"user\":\"a" + X(0xFF) + "\""), 400, "user", "invalid_json" },
        { With("\"service_tier\":\"" + X(0xFE) + "\""), 400, "service_tier", "invalid_json" },
        { "{\"mo" + X(0xFF) + "del\":\"echo\",\"messages\":[" + Hi + "]}", 400, null, "invalid_json" },
        { With("\"metadata\":{\"k" + X(0xFF) + "\":\"v\"}"), 400, "metadata", "invalid_json" },
        { With("\"metadata\":{\"k\":\"" + X(0x80) + "\"}"), 400, "metadata.k", "invalid_json" },
        { Messages("{\"role\":\"user\",\"content\":\"caf" + X(0xC3) + "\"}"), 400, "messages[0].content", "invalid_json" },
        { UserParts("{\"type\":\"text\",\"text\":\"" + X(0xC0, 0xAF) + "\"}"), 400, "messages[0].content[0].text", "invalid_json" },
        { With("\"user\":\"" + X(0xC0, 0x80) + "\""), 400, "user", "invalid_json" },
        { With("\"user\":\"" + X(0xE0, 0x80, 0xAF) + "\""), 400, "user", "invalid_json" },
        { With("\"user\":\"" + X(0xF0, 0x80, 0x80, 0xAF) + "\""), 400, "user", "invalid_json" },
        { With("\"user\":\"" + X(0xED, 0xA0, 0x80) + "\""), 400, "user", "invalid_json" },
        { With("\"user\":\"" + X(0xF4, 0x90, 0x80, 0x80) + "\""), 400, "user", "invalid_json" },
        { With("\"stop\":[\"a\",\"" + X(0xE2, 0x82) + "\"]"), 400, "stop[1]", "invalid_json" },
        { With("\"n\":1" + X(0xFF)), 400, null, "invalid_json" },
        { X(0xFF) + With("\"n\":1"), 400, null, "invalid_json" },

        // Lone surrogate escapes, high and low, in values and keys.
        { With("\"service_tier\":\"\\ud800\""), 400, "service_tier", "invalid_json" },
        { With("\"prompt_cache_key\":\"\\udc00\""), 400, "prompt_cache_key", "invalid_json" },
        { Messages("{\"role\":\"user\",\"content\":\"hi \\ud83d\"}"), 400, "messages[0].content", "invalid_json" },
        { UserParts("{\"type\":\"text\",\"text\":\"\\udfff\\ud800\"}"), 400, "messages[0].content[0].text", "invalid_json" },
        { With("\"stop\":[\"a\",\"\\ud800x\"]"), 400, "stop[1]", "invalid_json" },
        { With("\"metadata\":{\"\\ud800\":\"v\"}"), 400, "metadata", "invalid_json" },
        { With("\"metadata\":{\"k\":\"\\udc00\"}"), 400, "metadata.k", "invalid_json" },
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":\"\\ud800\"}}]"), 400, "tools[0].function.description", "invalid_json" },
        { With("\"\\udc00\":1"), 400, null, "invalid_json" },

        // NUL: a raw byte is not JSON; the escape is refused where it would be stored in a text column.
        { With("\"user\":\"a" + X(0x00) + "b\""), 400, null, "invalid_json" },
        { With("\"metadata\":{\"k\":\"a\\u0000b\"}"), 400, "metadata.k", "invalid_value" },
        { With("\"metadata\":{\"a\\u0000\":\"v\"}"), 400, "metadata.a\0", "invalid_value" },

        // A byte order mark only at the very start is skipped (see TheBodyMayStartWithAByteOrderMark).
        { X(0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF) + With("\"n\":1"), 400, null, "invalid_json" },
        { With("\"user\":\"a\"," + X(0xEF, 0xBB, 0xBF) + "\"n\":1"), 400, null, "invalid_json" },

        // Nesting: 10,000 levels of arrays and of objects, at the top and inside a message; one past the limit.
        { Deep(10_000), 400, null, "invalid_json" },
        { string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000), 400, null, "invalid_json" },
        { Messages("{\"role\":\"user\",\"content\":" + Deep(10_000) + "}"), 400, null, "invalid_json" },
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":" + string.Concat(Enumerable.Repeat("{\"a\":", 125)) + "1" + new string('}', 125) + "}}]"), 400, null, "invalid_json" },

        // Numbers out of range: beyond a double, beyond a long, for every integer and decimal.
        { With("\"temperature\":-1e400"), 400, "temperature", "decimal_below_min_value" },
        { With("\"top_p\":1e400"), 400, "top_p", "decimal_above_max_value" },
        { With("\"n\":1e400"), 400, "n", "integer_above_max_value" },
        { With("\"n\":-1e400"), 400, "n", "integer_below_min_value" },
        { With("\"n\":99999999999999999999999999"), 400, "n", "integer_above_max_value" },
        { With("\"max_tokens\":1e400"), 400, "max_tokens", "integer_above_max_value" },
        { With("\"max_tokens\":18446744073709551616"), 400, "max_tokens", "integer_above_max_value" },
        { With("\"max_completion_tokens\":2147483648"), 400, "max_completion_tokens", "integer_above_max_value" },
        { With("\"seed\":1e30"), 400, "seed", "integer_above_max_value" },
        { With("\"seed\":-99999999999999999999999"), 400, "seed", "integer_below_min_value" },
        { With("\"seed\":1e400"), 400, "seed", "integer_above_max_value" },
        { With("\"logit_bias\":{\"50256\":1e400}"), 400, "logit_bias.50256", "integer_above_max_value" },
        { With("\"logit_bias\":{\"50256\":-99999999999999999999}"), 400, "logit_bias.50256", "integer_below_min_value" },
        { With("\"logit_bias\":{\"99999999999999999999\":1}"), 400, "logit_bias", "invalid_value" },
        { With("\"logprobs\":true,\"top_logprobs\":1e400"), 400, "top_logprobs", "integer_above_max_value" },

        // Duplicate keys, named by their path (escaped spellings of one key are the same key).
        { $$"""{"model":"echo","messages":[{{Hi}}],"messages":[{{Hi}}]}""", 400, "messages", "invalid_json" },
        { $$"""{"model":"echo","model":"echo","messages":[{{Hi}}]}""", 400, "model", "invalid_json" },
        { With("\"metadata\":{\"k\":\"a\",\"k\":\"b\"}"), 400, "metadata.k", "invalid_json" },
        { Messages("""{"role":"user","content":"a","role":"user"}"""), 400, "messages[0].role", "invalid_json" },
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"type\":\"string\"}}}]"), 400, "tools[0].function.parameters.type", "invalid_json" },

        // model and messages.
        { $$"""{"messages":[{{Hi}}]}""", 400, "model", "missing_required_parameter" },
        { $$"""{"model":null,"messages":[{{Hi}}]}""", 400, "model", "missing_required_parameter" },
        { $$"""{"model":7,"messages":[{{Hi}}]}""", 400, "model", "invalid_type" },
        { """{"model":"echo"}""", 400, "messages", "missing_required_parameter" },
        { """{"model":"echo","messages":[]}""", 400, "messages", "empty_array" },
        { """{"model":"echo","messages":"hi"}""", 400, "messages", "invalid_type" },
        { """{"model":"echo","messages":{"role":"user","content":"hi"}}""", 400, "messages", "invalid_type" },
        { Messages("null"), 400, "messages[0]", "invalid_type" },

        // Roles.
        { Messages(Hi, """{"role":"robot","content":"x"}"""), 400, "messages[1].role", "invalid_value" },
        { Messages("""{"content":"x"}"""), 400, "messages[0].role", "missing_required_parameter" },
        { Messages("""{"role":1,"content":"x"}"""), 400, "messages[0].role", "invalid_type" },

        // Content that each role requires.
        { Messages("""{"role":"system"}"""), 400, "messages[0].content", "missing_required_parameter" },
        { Messages("""{"role":"developer"}"""), 400, "messages[0].content", "missing_required_parameter" },
        { Messages("""{"role":"user"}"""), 400, "messages[0].content", "missing_required_parameter" },
        { Messages("""{"role":"user","content":null}"""), 400, "messages[0].content", "missing_required_parameter" },
        { Messages("""{"role":"tool","tool_call_id":"call_1"}"""), 400, "messages[0].content", "missing_required_parameter" },
        { Messages("""{"role":"function","name":"f"}"""), 400, "messages[0].content", "missing_required_parameter" },
        { Messages("""{"role":"user","content":5}"""), 400, "messages[0].content", "invalid_type" },
        { Messages("""{"role":"user","content":[]}"""), 400, "messages[0].content", "empty_array" },
        { Messages(Hi, """{"role":"assistant","content":[]}"""), 400, "messages[1].content", "empty_array" },

        // Content part types each role may carry.
        { Messages("""{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}"""), 400, "messages[0].content[0].type", "invalid_value" },
        { Messages("""{"role":"developer","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}"""), 400, "messages[0].content[0].type", "invalid_value" },
        { Messages("""{"role":"tool","tool_call_id":"call_1","content":[{"type":"file","file":{"file_id":"file-1"}}]}"""), 400, "messages[0].content[0].type", "invalid_value" },
        { Messages("""{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}"""), 400, "messages[0].content[0].type", "invalid_value" },
        { Messages(Hi, """{"role":"user","content":[{"type":"text","text":"a"},{"type":"refusal","refusal":"no"}]}"""), 400, "messages[1].content[1].type", "invalid_value" },
        { UserParts("""{"type":"video","video":{}}"""), 400, "messages[0].content[0].type", "invalid_value" },
        { UserParts("""{"text":"no type"}"""), 400, "messages[0].content[0].type", "missing_required_parameter" },
        { UserParts("\"a bare string\""), 400, "messages[0].content[0]", "invalid_type" },
        { UserParts("""{"type":"text"}"""), 400, "messages[0].content[0].text", "missing_required_parameter" },

        // Images, audio and files.
        { UserParts("""{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"ultra"}}"""), 400, "messages[0].content[0].image_url.detail", "invalid_value" },
        { UserParts("""{"type":"image_url","image_url":{"detail":"low"}}"""), 400, "messages[0].content[0].image_url.url", "missing_required_parameter" },
        { UserParts("""{"type":"image_url","image_url":"https://example.com/a.png"}"""), 400, "messages[0].content[0].image_url", "invalid_type" },
        { UserParts("""{"type":"input_audio","input_audio":{"data":"AAAA","format":"ogg"}}"""), 400, "messages[0].content[0].input_audio.format", "invalid_value" },
        { UserParts("""{"type":"input_audio","input_audio":{"data":"AAAA"}}"""), 400, "messages[0].content[0].input_audio.format", "missing_required_parameter" },
        { UserParts("""{"type":"file","file":{"filename":"a.pdf"}}"""), 400, "messages[0].content[0].file", "missing_required_parameter" },

        // Tool, assistant and function messages.
        { Messages("""{"role":"tool","content":"42"}"""), 400, "messages[0].tool_call_id", "missing_required_parameter" },
        { Messages("""{"role":"assistant"}"""), 400, "messages[0].content", "missing_required_parameter" },
        { Messages("""{"role":"assistant","content":null}"""), 400, "messages[0].content", "missing_required_parameter" },
        { Messages("""{"role":"assistant","tool_calls":{"id":"call_1"}}"""), 400, "messages[0].tool_calls", "invalid_type" },
        { Messages("""{"role":"assistant","tool_calls":[7]}"""), 400, "messages[0].tool_calls[0]", "invalid_type" },
        { Messages("""{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}"""), 400, "messages[0].tool_calls[0].id", "missing_required_parameter" },
        { Messages("""{"role":"assistant","tool_calls":[{"id":"call_1","type":"retrieval","retrieval":{}}]}"""), 400, "messages[0].tool_calls[0].type", "invalid_value" },
        { Messages("""{"role":"assistant","tool_calls":[{"id":"call_1","type":"function"}]}"""), 400, "messages[0].tool_calls[0].function", "missing_required_parameter" },
        { Messages("""{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f"}}]}"""), 400, "messages[0].tool_calls[0].function.arguments", "missing_required_parameter" },
        { Messages("""{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":{"city":"Oslo"}}}]}"""), 400, "messages[0].tool_calls[0].function.arguments", "invalid_type" },
        { Messages("""{"role":"function","content":"x"}"""), 400, "messages[0].name", "missing_required_parameter" },
        { Messages("""{"role":"user","content":"x","name":7}"""), 400, "messages[0].name", "invalid_type" },

        // Sampling numbers: types and ranges.
        { With("\"temperature\":\"hot\""), 400, "temperature", "invalid_type" },
        { With("\"temperature\":2.5"), 400, "temperature", "decimal_above_max_value" },
        { With("\"temperature\":-0.1"), 400, "temperature", "decimal_below_min_value" },
        { With("\"temperature\":1e400"), 400, "temperature", "decimal_above_max_value" },
        { With("\"top_p\":1.01"), 400, "top_p", "decimal_above_max_value" },
        { With("\"top_p\":true"), 400, "top_p", "invalid_type" },
        { With("\"frequency_penalty\":2.5"), 400, "frequency_penalty", "decimal_above_max_value" },
        { With("\"frequency_penalty\":-3"), 400, "frequency_penalty", "decimal_below_min_value" },
        { With("\"presence_penalty\":\"0\""), 400, "presence_penalty", "invalid_type" },
        { With("\"presence_penalty\":-2.01"), 400, "presence_penalty", "decimal_below_min_value" },
        { With("\"n\":0"), 400, "n", "integer_below_min_value" },
        { With("\"n\":129"), 400, "n", "integer_above_max_value" },
        { With("\"n\":1.5"), 400, "n", "invalid_type" },
        { With("\"max_tokens\":0"), 400, "max_tokens", "integer_below_min_value" },
        { With("\"max_completion_tokens\":\"100\""), 400, "max_completion_tokens", "invalid_type" },
        { With("\"max_completion_tokens\":0"), 400, "max_completion_tokens", "integer_below_min_value" },
        { With("\"seed\":1.5"), 400, "seed", "invalid_type" },
        { With("\"seed\":\"42\""), 400, "seed", "invalid_type" },

        // stop.
        { With("\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), 400, "stop", "array_above_max_length" },
        { With("\"stop\":[\"a\",1]"), 400, "stop[1]", "invalid_type" },
        { With("\"stop\":[]"), 400, "stop", "empty_array" },
        { With("\"stop\":7"), 400, "stop", "invalid_type" },

        // Streaming switches.
        { With("\"stream\":\"true\""), 400, "stream", "invalid_type" },
        { With("\"stream_options\":{\"include_usage\":true}"), 400, "stream_options", "invalid_value" },
        { With("\"stream\":false,\"stream_options\":{\"include_usage\":true}"), 400, "stream_options", "invalid_value" },
        { With("\"stream\":true,\"stream_options\":{\"include_usage\":\"yes\"}"), 400, "stream_options.include_usage", "invalid_type" },
        { With("\"store\":\"yes\""), 400, "store", "invalid_type" },

        // Log probabilities.
        { With("\"top_logprobs\":2"), 400, "top_logprobs", "invalid_value" },
        { With("\"logprobs\":false,\"top_logprobs\":2"), 400, "top_logprobs", "invalid_value" },
        { With("\"logprobs\":true,\"top_logprobs\":21"), 400, "top_logprobs", "integer_above_max_value" },
        { With("\"logprobs\":\"yes\""), 400, "logprobs", "invalid_type" },
        { With("\"logprobs\":true,\"top_logprobs\":-1"), 400, "top_logprobs", "integer_below_min_value" },

        // metadata.
        { With("\"metadata\":" + Pairs(17)), 400, "metadata", "object_above_max_properties" },
        { With("\"metadata\":{\"" + new string('k', 65) + "\":\"v\"}"), 400, "metadata." + new string('k', 65), "string_above_max_length" },
        { With("\"metadata\":{\"k\":\"" + new string('v', 513) + "\"}"), 400, "metadata.k", "string_above_max_length" },
        { With("\"metadata\":{\"k\":1}"), 400, "metadata.k", "invalid_type" },
        { With("\"metadata\":{\"k\":true}"), 400, "metadata.k", "invalid_type" },
        { With("\"metadata\":{\"k\":null}"), 400, "metadata.k", "invalid_type" },
        { With("\"metadata\":[\"k\"]"), 400, "metadata", "invalid_type" },

        // tools and tool_choice.
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"bad name!\"}}]"), 400, "tools[0].function.name", "invalid_value" },
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"" + new string('f', 65) + "\"}}]"), 400, "tools[0].function.name", "invalid_value" },
        { With("\"tools\":[{\"type\":\"plugin\",\"plugin\":{\"name\":\"p\"}}]"), 400, "tools[0].type", "invalid_value" },
        { With("\"tools\":[{\"type\":\"function\"}]"), 400, "tools[0].function", "missing_required_parameter" },
        { With("\"tools\":{\"type\":\"function\"}"), 400, "tools", "invalid_type" },
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":\"{}\"}}]"), 400, "tools[0].function.parameters", "invalid_type" },
        { With("\"tool_choice\":\"auto\""), 400, "tool_choice", "invalid_value" },
        { With("\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}"), 400, "tool_choice", "invalid_value" },
        { With($"\"tools\":{FunctionTool},\"tool_choice\":{{\"type\":\"function\",\"function\":{{\"name\":\"get_time\"}}}}"), 400, "tool_choice.function.name", "invalid_value" },
        { With($"\"tools\":{FunctionTool},\"tool_choice\":\"sometimes\""), 400, "tool_choice", "invalid_value" },
        { With($"\"tools\":{FunctionTool},\"tool_choice\":{{\"type\":\"function\"}}"), 400, "tool_choice.function", "missing_required_parameter" },
        { With("\"parallel_tool_calls\":\"yes\""), 400, "parallel_tool_calls", "invalid_type" },
        { With("\"functions\":[]"), 400, "functions", "empty_array" },
        { With("\"function_call\":\"maybe\""), 400, "function_call", "invalid_value" },

        // response_format.
        { With("\"response_format\":{\"type\":\"yaml\"}"), 400, "response_format.type", "invalid_value" },
        { With("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"type\":\"object\"}}}"), 400, "response_format.json_schema.name", "missing_required_parameter" },
        { With("\"response_format\":{\"type\":\"json_schema\"}"), 400, "response_format.json_schema", "missing_required_parameter" },
        { With("\"response_format\":\"json\""), 400, "response_format", "invalid_type" },
        { With("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"my schema\"}}"), 400, "response_format.json_schema.name", "invalid_value" },

        // logit_bias.
        { With("\"logit_bias\":{\"50256\":101}"), 400, "logit_bias.50256", "integer_above_max_value" },
        { With("\"logit_bias\":{\"50256\":-101}"), 400, "logit_bias.50256", "integer_below_min_value" },
        { With("\"logit_bias\":{\"50256\":\"5\"}"), 400, "logit_bias.50256", "invalid_type" },

        // Enums.
        { With("\"service_tier\":\"gold\""), 400, "service_tier", "invalid_value" },
        { With("\"reasoning_effort\":\"extreme\""), 400, "reasoning_effort", "invalid_value" },
        { With("\"verbosity\":\"loud\""), 400, "verbosity", "invalid_value" },
        { With("\"prompt_cache_retention\":\"1h\""), 400, "prompt_cache_retention", "invalid_value" },
        { With("\"safety_identifier\":\"" + new string('s', 65) + "\""), 400, "safety_identifier", "string_above_max_length" },
        { With("\"user\":5"), 400, "user", "invalid_type" },

        // Predicted outputs: a string, or at least one text part.
        { With("\"prediction\":{\"type\":\"content\"}"), 400, "prediction.content", "missing_required_parameter" },
        { With("\"prediction\":{\"type\":\"content\",\"content\":[]}"), 400, "prediction.content", "empty_array" },
        { With("\"prediction\":{\"type\":\"content\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/a.png\"}}]}"), 400, "prediction.content[0].type", "invalid_value" },

        // Modalities and audio.
        { With("\"modalities\":[\"text\",\"audio\"]"), 400, "audio", "missing_required_parameter" },
        { With("\"modalities\":[\"video\"]"), 400, "modalities[0]", "invalid_value" },
        { With("\"modalities\":[\"text\",\"audio\"],\"audio\":{\"voice\":\"alloy\",\"format\":\"ogg\"}"), 400, "audio.format", "invalid_value" },

        // Unknown parameters, top-level and nested.
        { With("\"top_k\":40"), 400, "top_k", "unknown_parameter" },
        { Messages("""{"role":"user","content":"x","mood":"happy"}"""), 400, "messages[0].mood", "unknown_parameter" },
        { With("\"stream\":true,\"stream_options\":{\"include_usage\":true,\"chunk_size\":3}"), 400, "stream_options.chunk_size", "unknown_parameter" },
        { UserParts("""{"type":"text","text":"a","color":"red"}"""), 400, "messages[0].content[0].color", "unknown_parameter" },
        { With($"\"tools\":[{{\"type\":\"function\",\"function\":{{\"name\":\"f\",\"returns\":\"string\"}}}}]"), 400, "tools[0].function.returns", "unknown_parameter" },

        // The model.
        { $$"""{"model":"no-such-model","messages":[{{Hi}}]}""", 404, "model", "model_not_found" },
        { $$"""{"model":"","messages":[{{Hi}}]}""", 400, "model", "empty_string" },

        // What the echo model refuses by name rather than ignores.
        { With("\"logprobs\":true"), 400, "logprobs", "unsupported_parameter" },
        { With("\"logit_bias\":{\"50256\":5}"), 400, "logit_bias", "unsupported_parameter" },
        { With("\"response_format\":{\"type\":\"json_object\"}"), 400, "response_format", "unsupported_parameter" },
        { With($"\"tools\":{FunctionTool},\"tool_choice\":\"required\""), 400, "tool_choice", "unsupported_parameter" },
    };

    [Theory]
    [MemberData(nameof(MalformedCreates))]
    public async Task MalformedCreate_GetsTheErrorEnvelope_WithStatusParamAndCode(string body, int status, string? param, string code)
    {
        using var response = await PostBytesAsync(server.Http, "/v1/chat/completions", body);

        await AssertErrorAsync(response, status, param, code);
    }

    [Fact]
    public async Task AnUnparseableBody_GetsOpenAIsMessage()
    {
        using var response = await server.PostJsonAsync("/v1/chat/completions", "{not json}");

        var error = await AssertErrorAsync(response, 400, null, "invalid_json");
        Assert.StartsWith("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.",
            error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBodyMayStartWithAByteOrderMark()
    {
        using var response = await PostBytesAsync(server.Http, "/v1/chat/completions", X(0xEF, 0xBB, 0xBF) + With("\"n\":1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AStringHoldingTheNulEscape_IsAnsweredAndStored()
    {
        using var response = await server.PostJsonAsync("/v1/chat/completions",
            Messages("""{"role":"user","content":"a\u0000b"}""").Replace("\"echo\",", "\"echo\",\"store\":true,", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        using var messages = JsonDocument.Parse(await server.Http.GetStringAsync($"/v1/chat/completions/{id}/messages"));

        Assert.Equal("a\0b", messages.RootElement.GetProperty("data")[0].GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    public async Task CreateWithANonJsonContentType_Is415(string contentType)
    {
        using var content = new StringContent(With("\"n\":1"));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        using var response = await server.Http.PostAsync("/v1/chat/completions", content);

        await AssertErrorAsync(response, 415, null, "unsupported_media_type");
    }

    [Fact]
    public async Task UpdateWithANonJsonContentType_Is415()
    {
        var id = await StoreAsync();
        using var content = new StringContent("""{"metadata":{}}""", Encoding.UTF8, "text/plain");

        using var response = await server.Http.PostAsync($"/v1/chat/completions/{id}", content);

        await AssertErrorAsync(response, 415, null, "unsupported_media_type");
    }

    [Fact]
    public async Task CreateWithoutAContentType_Is415()
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(With("\"n\":1")));
        Assert.Null(content.Headers.ContentType);

        using var response = await server.Http.PostAsync("/v1/chat/completions", content);

        var error = await AssertErrorAsync(response, 415, null, "unsupported_media_type");
        Assert.Contains("Missing Content-Type", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateWithoutAContentType_Is415()
    {
        var id = await StoreAsync();
        using var content = new ByteArrayContent("""{"metadata":{}}"""u8.ToArray());

        using var response = await server.Http.PostAsync($"/v1/chat/completions/{id}", content);

        await AssertErrorAsync(response, 415, null, "unsupported_media_type");
    }

    [Theory]
    [InlineData("application/vnd.api+json")]
    [InlineData("APPLICATION/JSON")]
    public async Task JsonMediaTypes_AreAccepted(string contentType)
    {
        using var content = new StringContent(With("\"n\":1"));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        using var response = await server.Http.PostAsync("/v1/chat/completions", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task JsonWithACharsetParameter_IsAccepted()
    {
        using var content = new StringContent(With("\"n\":1"), Encoding.UTF8, "application/json");
        Assert.Equal("utf-8", content.Headers.ContentType?.CharSet);

        using var response = await server.Http.PostAsync("/v1/chat/completions", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task DeclaredContentLengthOverTheLimit_Is413_BeforeTheBodyIsSent()
    {
        const long limit = 32L * 1024 * 1024;

        var (status, headers, body) = await RawAsync(
            $"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {limit + 1}\r\nConnection: close\r\n\r\n");

        Assert.Equal(413, status);
        Assert.Matches("^req_[0-9a-f]{32}$", headers["x-request-id"]);
        Assert.StartsWith("application/json", headers["Content-Type"], StringComparison.Ordinal);
        AssertEnvelope(body, null, "request_too_large");
    }

    [Fact]
    public async Task BrokenChunkedEncoding_Is400_WithTheEnvelope()
    {
        var (status, headers, body) = await RawAsync(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n");

        Assert.Equal(400, status);
        Assert.Matches("^req_[0-9a-f]{32}$", headers["x-request-id"]);
        AssertEnvelope(body, null, null);
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimit_Is413()
    {
        using var content = new OversizedContent(32L * 1024 * 1024 + 64 * 1024);

        using var response = await server.Http.PostAsync("/v1/chat/completions", content);

        Assert.Null(response.RequestMessage?.Content?.Headers.ContentLength);
        await AssertErrorAsync(response, 413, null, "request_too_large");
    }

    [Theory]
    [InlineData("limit=0", "limit", "integer_below_min_value")]
    [InlineData("limit=101", "limit", "integer_above_max_value")]
    [InlineData("limit=-5", "limit", "integer_below_min_value")]
    [InlineData("limit=abc", "limit", "invalid_type")]
    [InlineData("limit=2.5", "limit", "invalid_type")]
    [InlineData("order=up", "order", "invalid_value")]
    [InlineData("order=ASC", "order", "invalid_value")]
    [InlineData("after=chatcmpl-NoSuchCompletionEverStoredHere0", "after", "invalid_value")]
    public async Task BadListQuery_Is400_NamingTheQueryParameter(string query, string param, string code)
    {
        using var response = await server.Http.GetAsync($"/v1/chat/completions?{query}");

        await AssertErrorAsync(response, 400, param, code);
    }

    [Theory]
    [InlineData("metadata[a=x", "metadata[a")]
    [InlineData("metadata[]=x", "metadata[]")]
    [InlineData("metadata[]", "metadata[]")]
    [InlineData("metadata[a]b=x", "metadata[a]b")]
    [InlineData("metadata[a][b]=x", "metadata[a][b]")]
    [InlineData("metadata=x", "metadata")]
    [InlineData("metadata%5Ba=x", "metadata[a")]
    [InlineData("metadata[a]=x%00", "metadata[a]")]
    [InlineData("model=%00", "model")]
    [InlineData("after=%00", "after")]
    public async Task AMalformedMetadataFilterOrANulValue_Is400_NamingTheQueryParameter(string query, string param)
    {
        using var response = await server.Http.GetAsync($"/v1/chat/completions?{query}");

        await AssertErrorAsync(response, 400, param, "invalid_value");
    }

    [Theory]
    [InlineData("GET", "/v1/chat/completions/")]
    [InlineData("POST", "/v1/chat/completions/")]
    [InlineData("DELETE", "/v1/chat/completions/")]
    [InlineData("GET", "/v1/chat/completions//messages")]
    [InlineData("GET", "/v1/models/")]
    public async Task AnEmptyIdOrSegment_Is404_AsAnUnknownUrl(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method == "GET" ? null : new StringContent(With("\"n\":1"), Encoding.UTF8, "application/json"),
        };

        using var response = await server.Http.SendAsync(request);

        await AssertErrorAsync(response, 404, null, "unknown_url");
    }

    [Theory]
    [InlineData("/dashboard", "/dashboard")]
    [InlineData("/dashboard/completions/chatcmpl-x?tab=raw", "/dashboard/completions/chatcmpl-x?tab=raw")]
    [InlineData("/dashboard?q=a%20b", "/dashboard?q=a b")]
    [InlineData("//evil.example", "/dashboard")]
    [InlineData("/\\evil.example", "/dashboard")]
    [InlineData("/dashboard/\\evil", "/dashboard")]
    [InlineData("/dashboard//evil.example", "/dashboard")]
    [InlineData("https://evil.example/dashboard", "/dashboard")]
    [InlineData("/dashboardevil", "/dashboard")]
    [InlineData("/dashboard/../admin/keys", "/dashboard")]
    [InlineData("/dashboard/%2e%2e/admin", "/dashboard")]
    [InlineData("%", "/dashboard")]
    [InlineData("%zz", "/dashboard")]
    [InlineData("/dashboard/%FF%FE", "/dashboard/%FF%FE")]
    [InlineData("/dashboard/%0d%0aSet-Cookie:%20x=y", "/dashboard")]
    [InlineData("/dashboard/%00", "/dashboard")]
    [InlineData("/dashboard/caf%C3%A9", "/dashboard")]
    [InlineData("/dashboard/%ED%A0%80", "/dashboard/%ED%A0%80")]
    [InlineData("/dashboard/sign-in", "/dashboard")]
    public async Task TheSignInReturnValue_IsFollowedOnlyWithinTheDashboard_NeverA500(string value, string location)
    {
        // With authentication off the sign-in page sends the viewer straight on to where they were going.
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseUrl };

        using var response = await http.GetAsync("/dashboard/sign-in?return=" + value.Replace(" ", "%20", StringComparison.Ordinal).Replace("\\", "%5C", StringComparison.Ordinal)
            .Replace("/dashboard?q=a%20b", "%2Fdashboard%3Fq%3Da%2520b", StringComparison.Ordinal).Replace("chatcmpl-x?tab=raw", "chatcmpl-x%3Ftab%3Draw", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(location.Replace(" ", "%20", StringComparison.Ordinal), response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task AVeryLongReturnValue_GoesToTheDashboardHome()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseUrl };

        using var response = await http.GetAsync("/dashboard/sign-in?return=/dashboard/" + new string('a', 5000));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard", response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("utf-8", "key=k&value=%FF", "value")]
    [InlineData("utf-8", "key=%C0%AF&value=v", "key")]
    [InlineData("utf-8", "key=k&value=%ED%A0%80", "value")]
    [InlineData("utf-16", "key=k&value=~", "value")]
    [InlineData("utf-16", "key=~&value=v", "key")]
    [InlineData("utf-8", "key=k&value=a%00b", "value")]
    public async Task TheDashboardsMetadataForm_RefusesTextThatCannotBeDecoded_StoringNothing(string charset, string fields, string _)
    {
        var id = await StoreAsync();
        using var dashboard = new Cairn.Tests.Dashboard.DashboardClient(server.BaseUrl);
        var page = await dashboard.Http.GetStringAsync($"/dashboard/completions/{id}");
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        // Every name and value percent-encoded in the form's charset, byte by byte, lone surrogates included.
        // In UTF-16, ~ stands for a lone high surrogate (the bytes 00 D8).
        string Encode(string text) => string.Concat(text.SelectMany(c => charset == "utf-8" ? [(byte)c] : c == '~' ? new byte[] { 0x00, 0xD8 } : [(byte)(c & 0xFF), (byte)(c >> 8)])
            .Select(b => charset == "utf-8" && b is not ((byte)'%' or (byte)'=' or (byte)'&') && b < 0x80 ? ((char)b).ToString() : $"%{b:X2}"));
        var form = string.Join("&", $"{fields}&__RequestVerificationToken={token}".Split('&').Select(pair => pair.Split('=', 2))
            .Select(p => charset == "utf-8" ? $"{p[0]}={p[1]}" : $"{Encode(p[0])}={Encode(p[1])}"));
        using var content = new StringContent(form, Encoding.ASCII);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"application/x-www-form-urlencoded; charset={charset}");

        using var response = await dashboard.Http.PostAsync($"/dashboard/completions/{id}?handler=Metadata", content);

        // Refused with the form shown again, or (ASP.NET leaves an undecodable escape such as %FF as its literal
        // text, and refuses some forms itself) stored as the literal text sent: never a 5xx, never U+FFFD or a lone surrogate.
        Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        using var stored = JsonDocument.Parse(await server.Http.GetStringAsync($"/v1/chat/completions/{id}"));
        foreach (var pair in stored.RootElement.GetProperty("metadata").EnumerateObject())
        {
            Assert.DoesNotContain('\uFFFD', pair.Name + pair.Value.GetString());
            Assert.True(pair.Value.GetString()!.All(c => !char.IsSurrogate(c)) && pair.Name.All(c => !char.IsSurrogate(c)));
        }
    }

    [Fact]
    public async Task TheTextOfMixedParts_IsJoinedAsOpenAIJoinsIt()
    {
        // OpenAI's recorded /messages answer (spec §10, GetChatCompletionMessagesWithPagination): parts' texts joined by
        // single spaces, a non-text part counting as an empty string: "Whose logo is this?: " + image = "Whose logo is this?:  ".
        const string image = """{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}""";
        using var response = await server.PostJsonAsync("/v1/chat/completions",
            $$"""{"model":"echo","store":true,"messages":[{"role":"user","content":[{{image}},{"type":"text","text":"describe"},{{image}},{"type":"text","text":"both"}]},{"role":"user","content":[{"type":"text","text":"Whose logo is this?: "},{{image}}]}]}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        using var messages = JsonDocument.Parse(await server.Http.GetStringAsync($"/v1/chat/completions/{id}/messages"));

        var data = messages.RootElement.GetProperty("data");
        Assert.Equal(" describe  both", data[0].GetProperty("content").GetString());
        Assert.Equal("Whose logo is this?:  ", data[1].GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("after=garbage", "after", "invalid_value")]
    [InlineData("after=chatcmpl-Other-0", "after", "invalid_value")]
    [InlineData("limit=0", "limit", "integer_below_min_value")]
    [InlineData("limit=101", "limit", "integer_above_max_value")]
    [InlineData("order=sideways", "order", "invalid_value")]
    public async Task BadMessagesQuery_Is400_NamingTheQueryParameter(string query, string param, string code)
    {
        var id = await StoreAsync();

        using var response = await server.Http.GetAsync($"/v1/chat/completions/{id}/messages?{query}");

        await AssertErrorAsync(response, 400, param, code);
    }

    public static TheoryData<string, string?, string> BadUpdates => new()
    {
        { "{}", "metadata", "missing_required_parameter" },
        { """{"metadata":{"k":2}}""", "metadata.k", "invalid_type" },
        { """{"metadata":"k=v"}""", "metadata", "invalid_type" },
        { """{"metadata":{"k":"v"},"model":"echo"}""", "model", "unknown_parameter" },
        { "{\"metadata\":" + Pairs(17) + "}", "metadata", "object_above_max_properties" },
        { "{\"metadata\":{\"k\":\"" + new string('v', 513) + "\"}}", "metadata.k", "string_above_max_length" },
        { "{\"metadata\":", null, "invalid_json" },
        { "", null, "invalid_json" },
        { """[{"metadata":{}}]""", null, "invalid_type" },
        { "{\"metadata\":{\"k\":\"" + X(0xFF) + "\"}}", "metadata.k", "invalid_json" },
        { "{\"metadata\":{\"k" + X(0xC0, 0xAF) + "\":\"v\"}}", "metadata", "invalid_json" },
        { """{"metadata":{"k":"\ud800"}}""", "metadata.k", "invalid_json" },
        { """{"metadata":{"k":"\u0000"}}""", "metadata.k", "invalid_value" },
        { """{"metadata":{"k":"a","k":"b"}}""", "metadata.k", "invalid_json" },
        { """{"metadata":{},"metadata":{"k":"v"}}""", "metadata", "invalid_json" },
        { "{\"metadata\":" + Deep(10_000) + "}", null, "invalid_json" },
    };

    [Theory]
    [MemberData(nameof(BadUpdates))]
    public async Task BadUpdate_Is400_NamingTheParameter(string body, string? param, string code)
    {
        var id = await StoreAsync();

        using var response = await PostBytesAsync(server.Http, $"/v1/chat/completions/{id}", body);

        await AssertErrorAsync(response, 400, param, code);
    }

    [Theory]
    [InlineData("GET", "/v1/no/such/thing")]
    [InlineData("POST", "/v1/embeddings")]
    [InlineData("GET", "/v1/chat/completions/chatcmpl-x/messages/extra")]
    [InlineData("GET", "/v1")]
    public async Task UnknownRouteUnderV1_Is404_WithTheEnvelope(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        using var response = await server.Http.SendAsync(request);

        var error = await AssertErrorAsync(response, 404, null, "unknown_url");
        Assert.Equal($"Invalid URL ({method} {path})", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("PUT", "/v1/chat/completions")]
    [InlineData("DELETE", "/v1/chat/completions")]
    [InlineData("PATCH", "/v1/chat/completions/chatcmpl-x")]
    [InlineData("POST", "/v1/chat/completions/chatcmpl-x/messages")]
    [InlineData("POST", "/v1/models")]
    public async Task WrongMethodOnAKnownRoute_Is405_WithTheEnvelope(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };

        using var response = await server.Http.SendAsync(request);

        await AssertErrorAsync(response, 405, null, "method_not_allowed");
    }

    private async Task<string> StoreAsync()
    {
        using var response = await server.PostJsonAsync("/v1/chat/completions", With("\"store\":true"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Checks status, media type and the envelope; returns the <c>error</c> object.</summary>
    private static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, int status, string? param, string? code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected HTTP {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Matches("^req_[0-9a-f]{32}$", Assert.Single(response.Headers.GetValues("x-request-id")));
        return AssertEnvelope(text, param, code);
    }

    private static JsonElement AssertEnvelope(string text, string? param, string? code)
    {
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(["error"], root.EnumerateObject().Select(p => p.Name));
        var error = root.GetProperty("error");
        Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        var actualParam = error.GetProperty("param");
        if (param is null)
        {
            Assert.True(actualParam.ValueKind == JsonValueKind.Null, $"expected param null, got {actualParam.GetRawText()}: {text}");
        }
        else
        {
            Assert.True(actualParam.ValueKind == JsonValueKind.String && actualParam.GetString() == param,
                $"expected param '{param}', got {actualParam.GetRawText()}: {text}");
        }
        var actualCode = error.GetProperty("code");
        Assert.True(code is null ? actualCode.ValueKind == JsonValueKind.Null : actualCode.ValueKind == JsonValueKind.String && actualCode.GetString() == code,
            $"expected code {(code is null ? "null" : $"'{code}'")}, got {actualCode.GetRawText()}: {text}");
        return error.Clone();
    }

    /// <summary>Sends <paramref name="head"/> as the bytes of a request and reads one response (its body by Content-Length).</summary>
    private async Task<(int Status, Dictionary<string, string> Headers, string Body)> RawAsync(string head)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.BaseUrl.Host, server.BaseUrl.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var received = new List<byte>();
        var buffer = new byte[8192];
        int headEnd;
        while ((headEnd = IndexOfHeadEnd(received)) < 0)
        {
            var read = await stream.ReadAsync(buffer);
            Assert.True(read > 0, "the connection closed before the response head");
            received.AddRange(buffer.AsSpan(0, read));
        }
        var lines = Encoding.ASCII.GetString(received.GetRange(0, headEnd).ToArray()).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2))
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var length = int.Parse(headers["Content-Length"], System.Globalization.CultureInfo.InvariantCulture);
        while (received.Count < headEnd + 4 + length)
        {
            var read = await stream.ReadAsync(buffer);
            Assert.True(read > 0, "the connection closed before the whole response body");
            received.AddRange(buffer.AsSpan(0, read));
        }
        return (status, headers, Encoding.UTF8.GetString(received.GetRange(headEnd + 4, length).ToArray()));
    }

    private static int IndexOfHeadEnd(List<byte> bytes)
    {
        for (var i = 0; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>A JSON-typed body of <c>size</c> bytes sent without a Content-Length (chunked), so only reading it reveals its size.</summary>
    private sealed class OversizedContent : HttpContent
    {
        private readonly long size;

        public OversizedContent(long size)
        {
            this.size = size;
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var block = new byte[64 * 1024];
            block.AsSpan().Fill((byte)' ');
            try
            {
                for (long sent = 0; sent < size; sent += block.Length)
                {
                    await stream.WriteAsync(block);
                }
            }
            catch (IOException)
            {
                // The server may answer 413 and stop reading before the whole body is sent.
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
