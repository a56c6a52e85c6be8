using System.Text;
using System.Text.Json;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;
using static Cairn.Tests.Infrastructure.ResponseFixtures;

namespace Cairn.Tests;

/// <summary>The response object and its output items, set against the live API's recorded create responses: keys, order, echoed defaults, outcomes.</summary>
public sealed class ResponseObjectTests
{
    /// <summary>The keys the response has gained since September 2025 (the recordings of 2026 have them).</summary>
    private static readonly HashSet<string> Later = ["completed_at", "frequency_penalty", "moderation", "presence_penalty", "prompt_cache_retention", "reasoning.context"];

    private const string ResponseId = "resp_0123456789abcdef0068c9ef3acb74819590c9bfdd9025e969";

    [Theory]
    [InlineData("ResponsesTests/CanDeleteResponse.json", 0)]
    [InlineData("ResponsesTests/AllInstructionMethodsWork_InstructionsProperty.json", 0)]
    [InlineData("ResponsesTests/FunctionCallWorks.json", 0)]
    [InlineData("ResponsesTests/FunctionCallWorks.json", 1)]
    [InlineData("ResponsesTests/FunctionToolChoiceWorks.json", 0)]
    [InlineData("ResponsesTests/MaxTokens.json", 0)]
    [InlineData("ResponsesTests/StructuredOutputs_gpt-4o-mini.json", 0)]
    public void CreateResponse_IsTheRecordedOne_ButForTheKeysAddedSinceAndTheCallItemIds(string file, int index)
    {
        var entry = Entry(file, index);
        var recorded = entry.GetProperty("ResponseBody");
        using var request = Request(entry.GetProperty("RequestBody").GetRawText());
        var id = recorded.GetProperty("id").GetString()!;
        var createdAt = recorded.GetProperty("created_at").GetInt64();
        var response = ResponseObject.Start(request, id, createdAt);

        response.Complete(ResponseOutcome.FromCompletion(CompletionFor(recorded), id, MessageId(recorded, id)), createdAt + 2);

        using var written = JsonDocument.Parse(response.ToUtf8());
        var output = recorded.GetProperty("output");
        var callIds = Enumerable.Range(0, output.GetArrayLength())
            .Where(i => output[i].GetProperty("type").GetString() == "function_call").Select(i => $"output[{i}].id").ToHashSet();
        AssertLike(recorded, written.RootElement, Later, callIds.Contains);
        Assert.Equal(createdAt + 2, written.RootElement.GetProperty("completed_at").GetInt64());
        foreach (var path in callIds)
        {
            var callId = written.RootElement.GetProperty("output")[int.Parse(path[7..^4], System.Globalization.CultureInfo.InvariantCulture)].GetProperty("id").GetString()!;
            Assert.Matches("^fc_" + id[5..21] + "[0-9a-f]{34}$", callId);
        }
    }

    [Fact]
    public void CreateResponse_HasTheKeysOfTheNewestChatModelRecording_LessOpenAIsAccounting()
    {
        var recorded = Entry("ResponsesTests/ResponseUsingConversations.json", 1).GetProperty("ResponseBody");
        using var request = Request("""{"model":"gpt-4o-mini","input":"Tell me a joke."}""");
        var response = ResponseObject.Start(request, ResponseId, 1782520122);
        response.Complete(ResponseOutcome.FromCompletion(CompletionFor(recorded), ResponseId, Ids.Item("msg", ResponseId)), 1782520123);

        using var written = JsonDocument.Parse(response.ToUtf8());
        var root = written.RootElement;
        Assert.Equal(Keys(recorded).Except(["billing", "conversation", "tool_usage"]), Keys(root));
        foreach (var nested in new[] { "reasoning", "text", "usage" })
        {
            Assert.Equal(Keys(recorded.GetProperty(nested)), Keys(root.GetProperty(nested)));
        }
        Assert.Equal(Keys(recorded.GetProperty("usage").GetProperty("input_tokens_details")), Keys(root.GetProperty("usage").GetProperty("input_tokens_details")));
        Assert.Equal("""{"context":null,"effort":null,"summary":null}""", root.GetProperty("reasoning").GetRawText());
        Assert.Equal("0.0", root.GetProperty("frequency_penalty").GetRawText());
        Assert.Equal("0.0", root.GetProperty("presence_penalty").GetRawText());
    }

    [Fact]
    public void StartedResponse_IsInProgress_WithTheRequestedModel_NoOutput_NoUsage()
    {
        using var request = Request("""{"model":"gpt-4o-mini","input":"Hi"}""");

        using var written = JsonDocument.Parse(ResponseObject.Start(request, ResponseId, 1758064478).ToUtf8());

        var root = written.RootElement;
        Assert.Equal("in_progress", root.GetProperty("status").GetString());
        Assert.Equal("gpt-4o-mini", root.GetProperty("model").GetString());
        Assert.Equal("[]", root.GetProperty("output").GetRawText());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("usage").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("completed_at").ValueKind);
        Assert.Equal("auto", root.GetProperty("service_tier").GetString());
        Assert.Equal("metadata", Keys(root).Last());
    }

    [Fact]
    public void FunctionTool_IsEchoedWithItsDefaults_DescriptionNull_StrictTrue_EmptyParametersAnObjectSchema()
    {
        using var request = Request("""{"model":"m","input":"Hi","tools":[{"name":"get_time","type":"function","parameters":{}},{"type":"function","name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}},"strict":false}]}""");

        using var written = JsonDocument.Parse(ResponseObject.Start(request, ResponseId, 1).ToUtf8());

        Assert.Equal(
            """[{"type":"function","description":null,"name":"get_time","parameters":{"type":"object","properties":{}},"strict":true},{"type":"function","description":"d","name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}},"strict":false}]""",
            written.RootElement.GetProperty("tools").GetRawText());
        Assert.Equal("\"auto\"", written.RootElement.GetProperty("tool_choice").GetRawText());
    }

    [Fact]
    public void RequestParameters_AreEchoed_AsSent_OrAsTheLiveApiFillsThem()
    {
        using var request = Request("""
            {"model":"m","input":"Hi","instructions":"Be brief.","temperature":0.5,"top_p":1,"max_output_tokens":50,"store":false,
             "metadata":{"team":"a"},"reasoning":{"effort":"low"},"tool_choice":"required","user":"u1","frequency_penalty":0.25,
             "text":{"format":{"type":"json_schema","strict":false,"name":"n","description":"d","schema":{"type":"object"}}}}
            """);

        using var written = JsonDocument.Parse(ResponseObject.Start(request, ResponseId, 1).ToUtf8());

        var root = written.RootElement;
        Assert.Equal("Be brief.", root.GetProperty("instructions").GetString());
        Assert.Equal("0.5", root.GetProperty("temperature").GetRawText());
        Assert.Equal("1.0", root.GetProperty("top_p").GetRawText());
        Assert.Equal("0.25", root.GetProperty("frequency_penalty").GetRawText());
        Assert.Equal(50, root.GetProperty("max_output_tokens").GetInt32());
        Assert.False(root.GetProperty("store").GetBoolean());
        Assert.Equal("""{"team":"a"}""", root.GetProperty("metadata").GetRawText());
        Assert.Equal("""{"context":null,"effort":"low","summary":null}""", root.GetProperty("reasoning").GetRawText());
        Assert.Equal("\"required\"", root.GetProperty("tool_choice").GetRawText());
        Assert.Equal("u1", root.GetProperty("user").GetString());
        Assert.Equal("""{"format":{"type":"json_schema","description":"d","name":"n","schema":{"type":"object"},"strict":false},"verbosity":"medium"}""",
            root.GetProperty("text").GetRawText());
    }

    [Fact]
    public void Refusal_IsAMessageWithARefusalPart()
    {
        var outcome = ResponseOutcome.FromCompletion(Completion("m", null, FinishReasons.Stop, refusal: "I can't help with that."), ResponseId, "msg_1");

        Assert.Equal("completed", outcome.Status);
        var item = Assert.Single(outcome.Output);
        Assert.Equal("msg_1", item.Id);
        Assert.Equal("""{"id":"msg_1","type":"message","status":"completed","content":[{"type":"refusal","refusal":"I can't help with that."}],"role":"assistant"}""",
            Encoding.UTF8.GetString(item.Json));
    }

    [Fact]
    public void TextAndToolCalls_AreTheMessageFirst_ThenOneFunctionCallEach_KeepingOrMintingTheCallId()
    {
        var completion = Completion("m", "Let me check.", FinishReasons.ToolCalls,
            calls: [Call("call_S2X9KuEJpYvFcF4hgv1XwM0j", "get_weather", """{"city":"Paris"}"""), Call(null, "get_time", "{}")]);

        var outcome = ResponseOutcome.FromCompletion(completion, ResponseId, "msg_1");

        Assert.Equal("completed", outcome.Status);
        Assert.Equal(3, outcome.Output.Count);
        Assert.Equal("""{"id":"msg_1","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"Let me check."}],"role":"assistant"}""",
            Encoding.UTF8.GetString(outcome.Output[0].Json));
        var first = outcome.Output[1];
        Assert.Matches("^fc_0123456789abcdef[0-9a-f]{34}$", first.Id);
        Assert.Equal($$"""{"id":"{{first.Id}}","type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_S2X9KuEJpYvFcF4hgv1XwM0j","name":"get_weather"}""",
            Encoding.UTF8.GetString(first.Json));
        using var second = JsonDocument.Parse(outcome.Output[2].Json);
        Assert.Equal(outcome.Output[2].Id, second.RootElement.GetProperty("id").GetString());
        Assert.NotEqual(first.Id, outcome.Output[2].Id);
        Assert.Matches("^call_[0-9A-Za-z]{24}$", second.RootElement.GetProperty("call_id").GetString());
    }

    [Fact]
    public void EmptyText_BesideToolCalls_IsNoMessage_ButAnEmptyAnswerAloneIsOne()
    {
        var withCalls = ResponseOutcome.FromCompletion(Completion("m", "", FinishReasons.ToolCalls, calls: [Call("call_1", "f", "{}")]), ResponseId, "msg_1");
        var alone = ResponseOutcome.FromCompletion(Completion("m", "", FinishReasons.Stop), ResponseId, "msg_1");

        Assert.StartsWith("fc_", Assert.Single(withCalls.Output).Id);
        Assert.Contains("\"text\":\"\"", Encoding.UTF8.GetString(Assert.Single(alone.Output).Json), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(FinishReasons.Stop, "completed", null)]
    [InlineData(FinishReasons.ToolCalls, "completed", null)]
    [InlineData(FinishReasons.Length, "incomplete", "max_output_tokens")]
    [InlineData(FinishReasons.ContentFilter, "incomplete", "content_filter")]
    public void FinishReason_GivesTheStatus_AndTheMessageItsStatus(string finishReason, string status, string? reason)
    {
        using var request = Request("""{"model":"gpt-4o-mini","input":"Hi"}""");
        var response = ResponseObject.Start(request, ResponseId, 1);
        var outcome = ResponseOutcome.FromCompletion(Completion("gpt-4o-mini-2024-07-18", "Mango sun-kissed", finishReason), ResponseId, "msg_1");

        response.Complete(outcome, 2);

        using var written = JsonDocument.Parse(response.ToUtf8());
        var root = written.RootElement;
        Assert.Equal(status, root.GetProperty("status").GetString());
        Assert.Equal(status, root.GetProperty("output")[0].GetProperty("status").GetString());
        Assert.Equal(reason is null ? "null" : $$"""{"reason":"{{reason}}"}""", root.GetProperty("incomplete_details").GetRawText());
        Assert.Equal("gpt-4o-mini-2024-07-18", root.GetProperty("model").GetString());
        Assert.Equal("default", root.GetProperty("service_tier").GetString());
    }

    [Fact]
    public void Usage_MapsChatsCounts_AndTheirDetails()
    {
        using var request = Request("""{"model":"m","input":"Hi"}""");
        var counted = ResponseObject.Start(request, ResponseId, 1);
        counted.Complete(ResponseOutcome.FromCompletion(Completion("m", "Hi", FinishReasons.Stop, Usage(100, 40, cached: 64, reasoning: 16)), ResponseId, "msg_1"), 2);
        var uncounted = ResponseObject.Start(request, ResponseId, 1);
        uncounted.Complete(ResponseOutcome.FromCompletion(Completion("m", "Hi", FinishReasons.Stop), ResponseId, "msg_1"), 2);

        using var withUsage = JsonDocument.Parse(counted.ToUtf8());
        using var withoutUsage = JsonDocument.Parse(uncounted.ToUtf8());

        Assert.Equal("""{"input_tokens":100,"input_tokens_details":{"cached_tokens":64},"output_tokens":40,"output_tokens_details":{"reasoning_tokens":16},"total_tokens":140}""",
            withUsage.RootElement.GetProperty("usage").GetRawText());
        Assert.Equal("""{"input_tokens":0,"input_tokens_details":{"cached_tokens":0},"output_tokens":0,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":0}""",
            withoutUsage.RootElement.GetProperty("usage").GetRawText());
    }

    [Fact]
    public void FailedResponse_HasItsError_NoOutput_NoUsage_AndCannotBeCompletedAfter()
    {
        using var request = Request("""{"model":"m","input":"Hi"}""");
        var response = ResponseObject.Start(request, ResponseId, 1);

        response.Fail("server_error", "The model failed to answer.");

        using var written = JsonDocument.Parse(response.ToUtf8());
        var root = written.RootElement;
        Assert.Equal("failed", root.GetProperty("status").GetString());
        Assert.Equal("""{"code":"server_error","message":"The model failed to answer."}""", root.GetProperty("error").GetRawText());
        Assert.Equal("[]", root.GetProperty("output").GetRawText());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("usage").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("completed_at").ValueKind);
        Assert.Throws<InvalidOperationException>(() => response.Complete(ResponseOutcome.FromCompletion(Completion("m", "Hi", FinishReasons.Stop), ResponseId, "msg_1"), 2));
    }

    [Fact]
    public void Text_IsWrittenAsOpenAIEscapesIt()
    {
        var outcome = ResponseOutcome.FromCompletion(Completion("m", "It's \"café\" <b>—</b>", FinishReasons.Stop), ResponseId, "msg_1");

        Assert.Contains("\"text\":\"It's \\\"café\\\" <b>—</b>\"", Encoding.UTF8.GetString(outcome.Output[0].Json), StringComparison.Ordinal);
    }

    private static List<string> Keys(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];
}
