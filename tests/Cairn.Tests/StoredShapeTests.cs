using System.Text;
using System.Text.Json;
using Cairn.Backends;
using Cairn.OpenAI;
using Cairn.Storage;
using Cairn.Upstream;

namespace Cairn.Tests;

/// <summary>
/// The one definition of the stored completion (<see cref="ChatCompletion"/>): the bytes its two mappers store (the
/// same bytes the hand-written writers stored before), that a stored body reads back as the record and writes the
/// same bytes again, that the dashboard summary made from the typed value is the one the bytes give, and that the
/// dashboard's metadata form follows the API's metadata rules.
/// </summary>
public sealed class StoredShapeTests
{
    private static readonly ChatCompletionRequest Request = ChatCompletionRequestParser.Parse(Encoding.UTF8.GetBytes(
        """{"model":"m","seed":7,"temperature":0.5,"metadata":{"team":"a"},"tool_choice":"auto","tools":[{"type":"function","function":{"name":"get_time"}}],"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What time is it in Paris?"}]}"""));

    private const string Upstream = """
        {"id":"up1","object":"chat.completion","created":1,"model":"gpt-x-2025","choices":[{"index":0,"message":{"role":"assistant","content":"It is noon.","refusal":null,"annotations":[],"reasoning_content":"Paris is UTC+1."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":4,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0}},"service_tier":"default","system_fingerprint":"fp_up"}
        """;

    /// <summary>A stored body with this request's parameters around the given parts.</summary>
    private static string Body(string head, string usage, string fingerprint, string choice, string tail) =>
        head + $$$"""
            "tool_choice":"auto","usage":{{{usage}}},"seed":7,"top_p":1.0,"temperature":0.5,"presence_penalty":0.0,"frequency_penalty":0.0,"system_fingerprint":"{{{fingerprint}}}","input_user":null,"service_tier":"default","tools":[{"type":"function","function":{"name":"get_time"}}],"metadata":{"team":"a"},"choices":[{{{choice}}}],"response_format":null
            """ + tail;

    private static StoredCompletion Local() => StoredCompletionWriter.Build(1, "chatcmpl-1", "req_1", 1700000000, Request,
        new ChatOutcome("echo", [new(0, null, FinishReasons.ToolCalls, [new("call_1", "get_time", "{\"city\":\"Paris\"}")])], new(12, 5), "fp_1"));

    private static StoredCompletion Proxied(ChatUsage? counted)
    {
        using var upstream = JsonDocument.Parse(Upstream);
        return StoredCompletionWriter.BuildProxied(1, "chatcmpl-2", "req_2", 1700000001, Request, upstream.RootElement,
            new ProxyRecord("openai", "main", "gpt-x") { Tokenizer = counted is null ? null : "o200k_base" }, counted);
    }

    [Fact]
    public void ALocalAnswer_IsStoredInOpenAIsKeyOrder_ByteForByte()
    {
        var stored = Local();

        Assert.Equal(
            Body("""{"object":"chat.completion","id":"chatcmpl-1","model":"echo","created":1700000000,"request_id":"req_1",""",
                """{"total_tokens":17,"completion_tokens":5,"prompt_tokens":12}""", "fp_1",
                """{"index":0,"message":{"content":null,"refusal":null,"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_time","arguments":"{\"city\":\"Paris\"}"}}],"function_call":null},"finish_reason":"tool_calls","logprobs":null}""",
                "}"),
            Encoding.UTF8.GetString(stored.Body));
        Assert.Equal("echo", stored.Model);
    }

    [Fact]
    public void AnUpstreamAnswer_KeepsWhatTheUpstreamAdded_AndSaysWhereItCameFrom()
    {
        var stored = Proxied(counted: null);

        Assert.Equal(
            Body("""{"object":"chat.completion","id":"chatcmpl-2","model":"gpt-x-2025","created":1700000001,"request_id":"req_2",""",
                """{"total_tokens":15,"completion_tokens":4,"prompt_tokens":11,"prompt_tokens_details":{"cached_tokens":0}}""", "fp_up",
                """{"index":0,"message":{"content":"It is noon.","refusal":null,"role":"assistant","tool_calls":null,"function_call":null,"reasoning_content":"Paris is UTC+1."},"finish_reason":"stop","logprobs":null}""",
                ""","cairn":{"provider":"openai","deployment":"main","upstream_model":"gpt-x","upstream_id":"up1","usage_source":"upstream"}}"""),
            Encoding.UTF8.GetString(stored.Body));
        Assert.Equal("m", stored.Model);
    }

    [Fact]
    public void CountedUsage_ReplacesTheUpstreamsAndNamesTheTokenizer()
    {
        var body = JsonDocument.Parse(Proxied(new ChatUsage(9, 2)).Body).RootElement;

        Assert.Equal("""{"total_tokens":11,"completion_tokens":2,"prompt_tokens":9}""", body.GetProperty("usage").GetRawText());
        Assert.Equal("""{"provider":"openai","deployment":"main","upstream_model":"gpt-x","upstream_id":"up1","usage_source":"counted","usage_tokenizer":"o200k_base"}""",
            body.GetProperty("cairn").GetRawText());
    }

    [Fact]
    public void Logprobs_AreStoredInOpenAIsKeyOrder_AFloatAsItPrints()
    {
        var outcome = new ChatOutcome("echo", [new(0, "a", FinishReasons.Stop, null, [new("a", -0.1f, [97], [new("b", -2.5f, [98], [])])])], new(1, 1), null);

        var stored = StoredCompletionWriter.Build(1, "chatcmpl-1", "req_1", 1700000000, Request, outcome);

        Assert.Equal("""{"content":[{"token":"a","logprob":-0.1,"bytes":[97],"top_logprobs":[{"token":"b","logprob":-2.5,"bytes":[98]}]}],"refusal":null}""",
            JsonDocument.Parse(stored.Body).RootElement.GetProperty("choices")[0].GetProperty("logprobs").GetRawText());
        Assert.Equal(Encoding.UTF8.GetString(stored.Body), Encoding.UTF8.GetString(ChatCompletion.TryRead(stored.Body)!.ToUtf8()));
    }

    [Fact]
    public void AStoredBody_ReadsBackAsTheRecord_AndWritesTheSameBytes()
    {
        foreach (var stored in (StoredCompletion[])[Local(), Proxied(null), Proxied(new ChatUsage(9, 2))])
        {
            var read = ChatCompletion.TryRead(stored.Body);

            Assert.NotNull(read);
            Assert.Equal(Encoding.UTF8.GetString(stored.Body), Encoding.UTF8.GetString(read.ToUtf8()));
        }
    }

    [Fact]
    public void TheSummaryMadeFromTheTypedValue_IsTheOneTheStoredBytesGive()
    {
        foreach (var stored in (StoredCompletion[])[Local(), Proxied(null)])
        {
            Assert.NotNull(stored.Summary);
            Assert.Equal(stored.Summary, CompletionSummary.Of(stored with { Summary = null }));
        }
        var summary = Local().Summary!;
        Assert.Equal(("What time is it in Paris?", "get_time({\"city\":\"Paris\"})", 12L, 5L), (summary.Prompt, summary.Answer, summary.PromptTokens, summary.CompletionTokens));
        Assert.Equal("Be brief.\nWhat time is it in Paris?", summary.PromptText);
    }

    [Fact]
    public void TheSummary_CleansWhatNeitherStoreHolds_AndCutsLongText()
    {
        var wide = new string('w', CompletionSummary.SearchChars);
        var summary = CompletionSummary.Of(new ChatCompletion(), [("system", "a\0b"), ("user", "x \uD800 y \U0001F600\n\n  z"), ("user", wide)]);
        Assert.Equal(CompletionSummary.SearchChars, summary.PromptText.Length);
        Assert.StartsWith("a b\nx \uFFFD y \U0001F600\n\n  z\nwww", summary.PromptText);
        Assert.Equal(wide[..CompletionSummary.PreviewChars], summary.Prompt);
        Assert.Equal((null, ""), (summary.Answer, summary.AnswerText));

        var one = CompletionSummary.Of(new ChatCompletion(), [("user", "x \uD800 y \U0001F600\n\n  z\0")]);
        Assert.Equal(("x \uFFFD y \U0001F600 z", "x \uFFFD y \U0001F600\n\n  z "), (one.Prompt, one.PromptText));
        var clean = CompletionSummary.Of(new ChatCompletion(), [("user", "plain words")]);
        Assert.Equal(("plain words", "plain words"), (clean.Prompt, clean.PromptText));
    }

    [Fact]
    public void AJsonWriteInsideAnother_GetsABufferOfItsOwn()
    {
        var outer = JsonWriting.ToUtf8(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("a"u8, "1");
            var inner = JsonWriting.ToUtf8(nested => nested.WriteStringValue("inner"));
            writer.WriteString("b"u8, Encoding.UTF8.GetString(inner));
            writer.WriteEndObject();
        });
        Assert.Equal("""{"a":"1","b":"\"inner\""}""", Encoding.UTF8.GetString(outer));
        var big = JsonWriting.ToUtf8(writer => writer.WriteStringValue(new string('x', 300_000)));
        Assert.Equal(300_002, big.Length);
        Assert.Equal("\"é\"", Encoding.UTF8.GetString(JsonWriting.ToUtf8(writer => writer.WriteStringValue("é"))));
    }

    [Fact]
    public void ABodyThatDoesNotFitTheShape_IsNotRead()
    {
        Assert.Null(ChatCompletion.TryRead("""{"object":"chat.completion","id":"x","usage":{"prompt_tokens":"many"}}"""u8));
        Assert.Null(ChatCompletion.TryRead("""{"object":"chat.completion","id":"x","choices":[{"index":0,"message":null}]}"""u8));
        Assert.Equal([], ChatCompletion.TryRead("{}"u8)!.Choices);
    }

    [Fact]
    public void AnImportLineWhoseBodyDoesNotFitTheShape_IsRefused_NamingTheField()
    {
        var line = """{"object":"chat.completion","id":"x","created":1,"choices":[],"usage":{"prompt_tokens":"many"},"cairn_export":{"version":1,"model":"m","project":"p","messages":[]}}""";

        var error = Assert.Throws<FormatException>(() => Cairn.Export.ImportLine.Parse(Encoding.UTF8.GetBytes(line), project: null));

        Assert.Contains("'usage.prompt_tokens' does not have the type", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnImportLine_CarriesTheSummaryOfItsTypedValue()
    {
        var line = """{"object":"chat.completion","id":"x","created":1,"choices":[{"index":0,"message":{"content":"Noon.","role":"assistant"}}],"usage":{"prompt_tokens":3,"completion_tokens":2},"cairn_export":{"version":1,"model":"m","project":"p","messages":[{"role":"user","content":"Time?"}]}}""";

        var summary = Cairn.Export.ImportLine.Parse(Encoding.UTF8.GetBytes(line), project: null).Summary;

        Assert.Equal(("Time?", "Noon.", 3L, 2L), (summary.Prompt, summary.Answer, summary.PromptTokens, summary.CompletionTokens));
    }

    [Theory]
    [InlineData(17, 1, 1)]
    [InlineData(1, 65, 1)]
    [InlineData(1, 1, 513)]
    [InlineData(1, 0, 0)]
    public void TheMetadataForm_FollowsTheApisRules_WithTheSameMessages(int pairs, int keyLength, int valueLength)
    {
        var given = Enumerable.Range(0, pairs)
            .Select(i => KeyValuePair.Create(keyLength == 0 ? $"k\0{i}" : new string('k', keyLength - 1) + (char)('a' + i), new string('v', valueLength)))
            .ToList();
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(given.ToDictionary(p => p.Key, p => p.Value), JsonTestContext.Default.DictionaryStringString));

        var fromJson = Assert.Throws<OpenAIException>(() => MetadataParser.Parse(json.RootElement, "metadata"));
        var fromForm = Assert.Throws<OpenAIException>(() => MetadataParser.Check(given, "metadata"));

        Assert.Equal(fromJson.Error, fromForm.Error);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class JsonTestContext : System.Text.Json.Serialization.JsonSerializerContext;
