using System.Buffers;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;
using OpenAI.Responses;
using static Cairn.Tests.Infrastructure.ResponseFixtures;

namespace Cairn.Tests;

/// <summary>The Responses stream: the recorded live event sequences and payloads, SSE framing, sequence numbers, and item ids and output indexes as openai-node's accumulator checks them.</summary>
public sealed class ResponseEventsTests
{
    /// <summary>The keys the streamed response has gained since the recordings were made (2025).</summary>
    private static readonly HashSet<string> Later =
        ["response.completed_at", "response.frequency_penalty", "response.moderation", "response.presence_penalty", "response.prompt_cache_retention", "response.reasoning.context"];

    private const string ResponseId = "resp_0123456789abcdef0068c9ef3acb74819590c9bfdd9025e969";

    private sealed record Frame(string Type, JsonElement Data);

    [Fact]
    public void TextStream_IsTheRecordedStreamingResponses_EventForEvent()
    {
        var entry = Entry("ResponsesTests/StreamingResponses.json", 0);
        var recorded = Parse(string.Concat(entry.GetProperty("ResponseBody").EnumerateArray().Select(line => line.GetString())));
        var final = recorded[^1].Data.GetProperty("response");
        using var request = Request(entry.GetProperty("RequestBody").GetRawText());
        var deltas = recorded.Where(f => f.Type == "response.output_text.delta").Select(f => f.Data.GetProperty("delta").GetString()!);

        var frames = Stream(request, CompletionFor(final), deltas, final.GetProperty("id").GetString()!, final.GetProperty("created_at").GetInt64(), MessageId(final, ""));

        Assert.Equal(recorded.Select(f => f.Type), frames.Select(f => f.Type));
        for (var i = 0; i < frames.Count; i++)
        {
            // The live API names the model's snapshot from the start; Cairn knows it once the model has answered.
            var answered = i == frames.Count - 1;
            AssertLike(recorded[i].Data, frames[i].Data, Later, path => path == "obfuscation" || (!answered && path == "response.model"));
        }
        AssertConsistent(frames);
        Assert.All(frames.Where(f => f.Type == "response.output_text.delta"),
            f => Assert.Equal(16, f.Data.GetProperty("delta").GetString()!.Length + f.Data.GetProperty("obfuscation").GetString()!.Length));
    }

    [Fact]
    public void FunctionCallStream_IsTheRecordedFunctionCallStreamingWorks_WithTheArgumentsAsOneDelta()
    {
        var entry = Entry("ResponsesTests/FunctionCallStreamingWorks.json", 0);
        var recorded = Parse(string.Concat(entry.GetProperty("ResponseBody").EnumerateArray().Select(line => line.GetString())));
        var final = recorded[^1].Data.GetProperty("response");
        using var request = Request(entry.GetProperty("RequestBody").GetRawText());
        var arguments = final.GetProperty("output")[0].GetProperty("arguments").GetString()!;

        var frames = Stream(request, CompletionFor(final), [], final.GetProperty("id").GetString()!, final.GetProperty("created_at").GetInt64(), Ids.Item("msg", ResponseId));

        var firstDelta = recorded.FindIndex(f => f.Type == "response.function_call_arguments.delta");
        var expected = recorded.Where(f => f.Type != "response.function_call_arguments.delta").ToList();
        expected.Insert(firstDelta, recorded[firstDelta]);
        Assert.Equal(expected.Select(f => f.Type), frames.Select(f => f.Type));
        var callId = frames[2].Data.GetProperty("item").GetProperty("id").GetString()!;
        Assert.Matches("^fc_" + ResponseIdOf(final)[5..21] + "[0-9a-f]{34}$", callId);
        for (var i = 0; i < frames.Count; i++)
        {
            // The live API leaves the spec-required name out of arguments.done; Cairn sends it. Its one delta is checked below.
            AssertLike(expected[i].Data, frames[i].Data, new HashSet<string>(Later) { "name" }, path =>
                path is "sequence_number" or "obfuscation" or "delta" or "item.id" or "item_id" or "response.output[0].id" || (i < frames.Count - 1 && path == "response.model"));
        }
        Assert.Equal(arguments, frames[3].Data.GetProperty("delta").GetString());
        Assert.Equal("get_weather_at_location", frames[4].Data.GetProperty("name").GetString());
        AssertConsistent(frames);
    }

    [Fact]
    public void Frames_AreEventThenData_TheEventNamedAsTheDatasType_WithNoDone()
    {
        using var request = Request("""{"model":"m","input":"Hi"}""");
        var buffer = new ArrayBufferWriter<byte>();
        var response = ResponseObject.Start(request, ResponseId, 1);
        using (var events = new ResponseEvents(buffer, response, "msg_1"))
        {
            events.Start();
            events.Text("Hello");
            response.Complete(ResponseOutcome.FromCompletion(Completion("m", "Hello", FinishReasons.Stop), ResponseId, "msg_1"), 2);
            events.Finish();
        }

        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.StartsWith("event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":", text, StringComparison.Ordinal);
        Assert.EndsWith("}}\n\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.Equal(9, Parse(text).Count);
    }

    [Fact]
    public void Obfuscation_IsLeftOut_WhenTheRequestTurnsItOff()
    {
        using var request = Request("""{"model":"m","input":"Hi","stream":true,"stream_options":{"include_obfuscation":false}}""");

        var frames = Stream(request, Completion("m", "Hello there", FinishReasons.ToolCalls, calls: [Call("call_1", "f", "{}")]), ["Hello", " there"]);

        Assert.Contains(frames, f => f.Type == "response.function_call_arguments.delta");
        Assert.All(frames, f => Assert.False(f.Data.TryGetProperty("obfuscation", out _)));
    }

    [Fact]
    public void CutShortAnswer_EndsWithResponseIncomplete_TheMessageIncomplete()
    {
        using var request = Request("""{"model":"m","input":"Write three haikus","max_output_tokens":20}""");

        var frames = Stream(request, Completion("m", "Mango sun-kissed sweet", FinishReasons.Length), ["Mango", " sun-kissed", " sweet"]);

        Assert.Equal("response.incomplete", frames[^1].Type);
        var final = frames[^1].Data.GetProperty("response");
        Assert.Equal("incomplete", final.GetProperty("status").GetString());
        Assert.Equal("""{"reason":"max_output_tokens"}""", final.GetProperty("incomplete_details").GetRawText());
        Assert.Equal("incomplete", frames.Single(f => f.Type == "response.output_item.done").Data.GetProperty("item").GetProperty("status").GetString());
        Assert.Equal("Mango sun-kissed sweet", frames.Single(f => f.Type == "response.output_text.done").Data.GetProperty("text").GetString());
        AssertConsistent(frames);
    }

    [Fact]
    public void Refusal_IsWrittenWhole_AsItsPartsEvents()
    {
        using var request = Request("""{"model":"m","input":"Hi"}""");

        var frames = Stream(request, Completion("m", null, FinishReasons.Stop, refusal: "I can't help with that."), []);

        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.refusal.delta",
             "response.refusal.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            frames.Select(f => f.Type));
        Assert.Equal("""{"type":"refusal","refusal":""}""", frames[3].Data.GetProperty("part").GetRawText());
        Assert.Equal(["type", "sequence_number", "item_id", "output_index", "content_index", "delta"], Keys(frames[4].Data));
        Assert.Equal(["type", "sequence_number", "item_id", "output_index", "content_index", "refusal"], Keys(frames[5].Data));
        Assert.Equal("I can't help with that.", frames[5].Data.GetProperty("refusal").GetString());
        AssertConsistent(frames);
    }

    [Fact]
    public void TextThenToolCalls_StreamTheMessageAtZero_ThenEachCallAtItsIndex()
    {
        using var request = Request("""{"model":"m","input":"Weather and time in Paris?"}""");
        var completion = Completion("m", "Let me check.", FinishReasons.ToolCalls,
            calls: [Call("call_a", "get_weather", """{"city":"Paris"}"""), Call("call_b", "get_time", """{"city":"Paris"}""")]);

        var frames = Stream(request, completion, ["Let me", " check."]);

        Assert.Equal(
            ["response.created", "response.in_progress",
             "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
             "response.output_text.done", "response.content_part.done", "response.output_item.done",
             "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
             "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
             "response.completed"],
            frames.Select(f => f.Type));
        var added = frames[9].Data.GetProperty("item");
        Assert.Equal(1, frames[9].Data.GetProperty("output_index").GetInt32());
        Assert.Equal($$"""{"id":"{{added.GetProperty("id").GetString()}}","type":"function_call","status":"in_progress","arguments":"","call_id":"call_a","name":"get_weather"}""", added.GetRawText());
        Assert.Equal(["type", "sequence_number", "item_id", "output_index", "delta", "obfuscation"], Keys(frames[10].Data));
        Assert.Equal(["type", "sequence_number", "item_id", "output_index", "arguments", "name"], Keys(frames[11].Data));
        Assert.Equal("get_time", frames[15].Data.GetProperty("name").GetString());
        AssertConsistent(frames);
    }

    [Fact]
    public void AnswerNotStreamedAsText_IsStillAnnouncedPartByPart()
    {
        using var request = Request("""{"model":"m","input":"Hi"}""");

        var frames = Stream(request, Completion("m", "Hello!", FinishReasons.Stop), []);

        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta",
             "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            frames.Select(f => f.Type));
        Assert.Equal("Hello!", frames[4].Data.GetProperty("delta").GetString());
        AssertConsistent(frames);
    }

    [Fact]
    public void FailedAnswer_EndsWithResponseFailed_CarryingTheError()
    {
        using var request = Request("""{"model":"m","input":"Hi"}""");
        var buffer = new ArrayBufferWriter<byte>();
        var response = ResponseObject.Start(request, ResponseId, 1);
        using (var events = new ResponseEvents(buffer, response, "msg_1"))
        {
            events.Start();
            events.Text("Hel");
            response.Fail("server_error", "The model stopped answering.");
            events.Failed();
        }

        var frames = Parse(Encoding.UTF8.GetString(buffer.WrittenSpan));

        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.failed"],
            frames.Select(f => f.Type));
        Assert.Equal(["type", "sequence_number", "response"], Keys(frames[^1].Data));
        var failed = frames[^1].Data.GetProperty("response");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("""{"code":"server_error","message":"The model stopped answering."}""", failed.GetProperty("error").GetRawText());
        Assert.Equal(Enumerable.Range(0, frames.Count), frames.Select(f => f.Data.GetProperty("sequence_number").GetInt32()));
    }

    [Fact]
    public void OfficialDotNetClient_ReadsEveryEvent_AndTheFinishedResponse()
    {
        using var request = Request("""{"model":"m","input":"Weather in Paris?"}""");
        var completion = Completion("m-2025", "Let me check.", FinishReasons.ToolCalls, Usage(20, 9, cached: 4), calls: [Call("call_a", "get_weather", """{"city":"Paris"}""")]);

        var frames = Stream(request, completion, ["Let me", " check."]);

        var updates = frames.Select(f => ModelReaderWriter.Read<StreamingResponseUpdate>(BinaryData.FromString(f.Data.GetRawText()))!).ToList();
        Assert.IsType<StreamingResponseCreatedUpdate>(updates[0]);
        Assert.Equal(2, updates.OfType<StreamingResponseOutputItemAddedUpdate>().Count());
        Assert.Equal("Let me check.", string.Concat(updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(u => u.Delta)));
        Assert.Equal("""{"city":"Paris"}""", Assert.Single(updates.OfType<StreamingResponseFunctionCallArgumentsDoneUpdate>()).FunctionArguments.ToString());
        var result = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]).Response;
        Assert.Equal(ResponseStatus.Completed, result.Status);
        Assert.Equal("m-2025", result.Model);
        Assert.Equal("Let me check.", result.GetOutputText());
        var call = Assert.IsType<FunctionCallResponseItem>(result.OutputItems[1]);
        Assert.Equal(("call_a", "get_weather"), (call.CallId, call.FunctionName));
        Assert.Equal((20, 4, 9, 29), (result.Usage.InputTokenCount, result.Usage.InputTokenDetails.CachedTokenCount, result.Usage.OutputTokenCount, result.Usage.TotalTokenCount));
    }

    /// <summary>The frames of a whole stream answered by <paramref name="completion"/>, its text streamed as <paramref name="deltas"/>.</summary>
    private static List<Frame> Stream(ResponseRequest request, ChatCompletion completion, IEnumerable<string> deltas,
        string id = ResponseId, long createdAt = 1758064478, string? messageId = null)
    {
        messageId ??= Ids.Item("msg", id);
        var buffer = new ArrayBufferWriter<byte>();
        var response = ResponseObject.Start(request, id, createdAt);
        using (var events = new ResponseEvents(buffer, response, messageId))
        {
            events.Start();
            foreach (var delta in deltas)
            {
                events.Text(delta);
            }
            response.Complete(ResponseOutcome.FromCompletion(completion, id, messageId), createdAt + 1);
            events.Finish();
        }
        return Parse(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>SSE frames, each exactly <c>event: type\ndata: json\n\n</c> with the data's <c>type</c> the event's.</summary>
    private static List<Frame> Parse(string stream)
    {
        Assert.EndsWith("\n\n", stream, StringComparison.Ordinal);
        var frames = new List<Frame>();
        foreach (var frame in stream[..^2].Split("\n\n"))
        {
            var lines = frame.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            using var data = JsonDocument.Parse(lines[1]["data: ".Length..]);
            Assert.Equal(lines[0]["event: ".Length..], data.RootElement.GetProperty("type").GetString());
            frames.Add(new(lines[0]["event: ".Length..], data.RootElement.Clone()));
        }
        return frames;
    }

    /// <summary>
    /// What openai-node's <c>responses.stream()</c> holds a stream to: sequence numbers from 0, <c>response.created</c>
    /// first, an item added at the end of the output, every event's item at its <c>output_index</c>; and the items it
    /// assembles are the final response's output.
    /// </summary>
    private static void AssertConsistent(List<Frame> frames)
    {
        Assert.Equal(Enumerable.Range(0, frames.Count), frames.Select(f => f.Data.GetProperty("sequence_number").GetInt32()));
        Assert.Equal("response.created", frames[0].Type);
        var ids = new List<string>();
        var done = new Dictionary<int, string>();
        foreach (var frame in frames[..^1])
        {
            var data = frame.Data;
            if (frame.Type == "response.output_item.added")
            {
                Assert.Equal(ids.Count, data.GetProperty("output_index").GetInt32());
                ids.Add(data.GetProperty("item").GetProperty("id").GetString()!);
            }
            else if (frame.Type == "response.output_item.done")
            {
                var index = data.GetProperty("output_index").GetInt32();
                Assert.Equal(ids[index], data.GetProperty("item").GetProperty("id").GetString());
                done[index] = data.GetProperty("item").GetRawText();
            }
            else if (data.TryGetProperty("item_id", out var itemId))
            {
                Assert.Equal(ids[data.GetProperty("output_index").GetInt32()], itemId.GetString());
            }
        }
        Assert.Contains(frames[^1].Type, new[] { "response.completed", "response.incomplete" });
        var output = frames[^1].Data.GetProperty("response").GetProperty("output");
        Assert.Equal(ids.Count, output.GetArrayLength());
        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Equal(done[i], output[i].GetRawText());
        }
    }

    private static string ResponseIdOf(JsonElement response) => response.GetProperty("id").GetString()!;

    private static List<string> Keys(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];
}
