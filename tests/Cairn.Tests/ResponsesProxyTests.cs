using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked for evaluation in OpenAI 2.15.

namespace Cairn.Tests;

/// <summary>
/// Responses answered by a Chat Completions upstream (a real HTTP server on loopback): function calls and their outputs
/// across a chain, what reaches the upstream, streamed text and calls, and an upstream failing mid-stream.
/// </summary>
public sealed class ResponsesProxyTests(ProxyFixture fixture) : IClassFixture<ProxyFixture>
{
    private FakeUpstream Upstream => fixture.Upstream;

    private ResponsesClient Responses => fixture.Cairn.Responses();

    private static readonly ResponseTool Weather = ResponseTool.CreateFunctionTool(
        "get_weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""), strictModeEnabled: false, "The weather in a city");

    private static readonly ResponseTool Time = ResponseTool.CreateFunctionTool(
        "get_time", BinaryData.FromString("""{"type":"object","properties":{"zone":{"type":"string"}}}"""), strictModeEnabled: false, "The time in a zone");

    private static string Model(string behaviour) => $"{behaviour}-{Guid.NewGuid():N}";

    [Fact]
    public void FunctionCalls_ComeBackAsItems_AndTheirOutputsContinueTheChain_AsOneAssistantMessageWithBothCalls()
    {
        var model = Model("tools");
        var first = Responses.CreateResponse(new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("Weather and time in Paris?")])
        {
            Tools = { Weather, Time },
        }).Value;
        var calls = first.OutputItems.OfType<FunctionCallResponseItem>().ToList();

        var answering = Model("answer");
        var second = Responses.CreateResponse(new CreateResponseOptions(answering,
            [.. calls.Select(call => ResponseItem.CreateFunctionCallOutputItem(call.CallId, $"result of {call.FunctionName}"))])
        {
            PreviousResponseId = first.Id,
            Tools = { Weather, Time },
        }).Value;
        var sent = Assert.Single(Upstream.For(answering)).Body;
        var messages = sent["messages"]!.AsArray();

        Assert.Equal(["call_1", "call_2"], calls.Select(c => c.CallId));
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.FunctionName));
        Assert.Equal("""{"city":"Paris"}""", calls[0].FunctionArguments.ToString());
        Assert.All(calls, call => Assert.StartsWith("fc_", call.Id));
        Assert.Equal("Hello from upstream", second.GetOutputText());
        Assert.Equal(["user", "assistant", "tool", "tool"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal(["call_1", "call_2"], messages[1]!["tool_calls"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        Assert.Equal("call_2", messages[3]!["tool_call_id"]!.GetValue<string>());
        Assert.Equal("result of get_time", messages[3]!["content"]!.GetValue<string>());
        Assert.Equal("get_weather", sent["tools"]![0]!["function"]!["name"]!.GetValue<string>());
        // Cairn keeps the chain; the upstream is never asked to store, nor told of Cairn's own fields.
        Assert.NotEqual(true, sent["store"]?.GetValue<bool>());
        Assert.Null(sent["previous_response_id"]);
        Assert.Null(sent["metadata"]);
        Assert.Null(sent["input"]);
    }

    [Fact]
    public async Task AFunctionCallLeftUnanswered_Is400_OnTheNextTurn()
    {
        var first = Responses.CreateResponse(new CreateResponseOptions(Model("tools"), [ResponseItem.CreateUserMessageItem("Weather?")])
        {
            Tools = { Weather, Time },
        }).Value;

        using var response = await fixture.Cairn.PostJsonAsync("/v1/responses",
            $$"""{"model":"answer-x","previous_response_id":"{{first.Id}}","input":"and now?"}""");
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("No tool output found for function call call_1", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task AStreamFromAnUpstream_IsTranslatedToResponseEvents_TextAndCalls()
    {
        var text = new List<string>();
        ResponseResult? completed = null;
        await foreach (var update in await Responses.CreateResponseStreamingAsync(
                           new CreateResponseOptions(Model("answer"), [ResponseItem.CreateUserMessageItem("hello")]) { StreamingEnabled = true }))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Add(delta.Delta);
            }
            completed = (update as StreamingResponseCompletedUpdate)?.Response ?? completed;
        }
        var calls = new List<FunctionCallResponseItem>();
        await foreach (var update in await Responses.CreateResponseStreamingAsync(
                           new CreateResponseOptions(Model("tools"), [ResponseItem.CreateUserMessageItem("weather?")]) { Tools = { Weather, Time }, StreamingEnabled = true }))
        {
            if (update is StreamingResponseOutputItemDoneUpdate { Item: FunctionCallResponseItem call })
            {
                calls.Add(call);
            }
        }

        Assert.Equal(["Hello", " from upstream"], text);
        Assert.Equal("Hello from upstream", completed!.GetOutputText());
        Assert.Equal("Hello from upstream", Responses.GetResponse(completed.Id).Value.GetOutputText());
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c.FunctionName));
        Assert.Equal("""{"zone":"CET"}""", calls[1].FunctionArguments.ToString());
    }

    [Fact]
    public async Task AnUpstreamThatFailsMidStream_EndsWithResponseFailed_AndNothingIsStored()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent($$"""{"model":"{{Model("error-event")}}","input":"hi","stream":true}""", Encoding.UTF8, "application/json"),
        };
        using var response = await fixture.Cairn.Http.SendAsync(request);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var last = JsonNode.Parse(events[^1].Split('\n')[1]["data: ".Length..])!;
        var id = last["response"]!["id"]!.GetValue<string>();

        using var get = await fixture.Cairn.Http.GetAsync($"/v1/responses/{id}");

        Assert.StartsWith("event: response.created", events[0]);
        Assert.Equal("response.failed", last["type"]!.GetValue<string>());
        Assert.Equal("failed", last["response"]!["status"]!.GetValue<string>());
        Assert.Equal("The model crashed.", last["response"]!["error"]!["message"]!.GetValue<string>());
        Assert.DoesNotContain(events, e => e.Contains("[DONE]", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task AnImageSentOnce_IsShownToTheModelOnEveryLaterTurn_WhileInputItemsHideItsUrlUnlessIncluded()
    {
        const string image = "data:image/png;base64,iVBORw0KGgo=";
        using var first = await fixture.Cairn.PostJsonAsync("/v1/responses",
            $$"""{"model":"answer-img","input":[{"role":"user","content":[{"type":"input_text","text":"What is this?"},{"type":"input_image","image_url":"{{image}}"}]}]}""");
        var firstId = JsonNode.Parse(await first.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        var later = Model("answer");

        using var second = await fixture.Cairn.PostJsonAsync("/v1/responses", $$"""{"model":"{{later}}","previous_response_id":"{{firstId}}","input":"And now?"}""");
        var sent = Assert.Single(Upstream.For(later)).Body["messages"]![0]!["content"]![1]!;
        var hidden = JsonNode.Parse(await fixture.Cairn.Http.GetStringAsync($"/v1/responses/{firstId}/input_items"))!["data"]![0]!["content"]![1]!;
        var shown = JsonNode.Parse(await fixture.Cairn.Http.GetStringAsync($"/v1/responses/{firstId}/input_items?include[]=message.input_image.image_url"))!["data"]![0]!["content"]![1]!;

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(image, sent["image_url"]!["url"]!.GetValue<string>());
        Assert.Null(hidden["image_url"]);
        Assert.Equal(image, shown["image_url"]!.GetValue<string>());
    }

    [Fact]
    public async Task AStreamTheClientLeavesMidWay_FreesTheUpstream_AndStoresNothing()
    {
        var model = Model("hang");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent($$"""{"model":"{{model}}","input":"hi","stream":true}""", Encoding.UTF8, "application/json"),
        };
        string id;
        using (var response = await fixture.Cairn.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            string? line;
            while ((line = await reader.ReadLineAsync()) is not null && !line.StartsWith("data: ", StringComparison.Ordinal))
            {
            }
            id = JsonNode.Parse(line!["data: ".Length..])!["response"]!["id"]!.GetValue<string>();
        }

        await Upstream.ClientLeft(model).WaitAsync(FakeUpstream.LeaveWait);
        using var get = await fixture.Cairn.Http.GetAsync($"/v1/responses/{id}");

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }
}
