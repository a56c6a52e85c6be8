using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked for evaluation in OpenAI 2.15.

namespace Cairn.Tests;

/// <summary>A Cairn whose models relay responses to upstreams that speak the Responses API (<c>ResponsesApi: native</c>).</summary>
public sealed class NativeResponsesFixture : IAsyncLifetime
{
    public const string AzureKey = "azure-native-key-789";

    public FakeUpstream Upstream { get; } = new();

    public CairnServer Cairn { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Upstream.InitializeAsync();
        Environment.SetEnvironmentVariable("CAIRN_TEST_AZURE_NATIVE_KEY", AzureKey);
        var root = Upstream.BaseUrl.ToString().TrimEnd('/');
        Cairn = await CairnServer.StartAsync(
            // Azure, deployment-style resource (its Responses API is under the v1 root all the same) and v1 root.
            "--Models:0:Id=azure-native", "--Models:0:Provider=azure", $"--Models:0:BaseUrl={root}", "--Models:0:ApiVersion=2024-10-21",
            "--Models:0:Deployment=answer-azure-deployment", "--Models:0:ApiKeyEnv=CAIRN_TEST_AZURE_NATIVE_KEY", "--Models:0:ResponsesApi=native",
            "--Models:1:Id=azure-v1-native", "--Models:1:Provider=azure", $"--Models:1:BaseUrl={root}/openai/v1", "--Models:1:UpstreamModel=answer-azure-v1",
            "--Models:1:ResponsesApi=native",
            // Two deployments: the weighted one always fails, the weight-0 one is the fallback.
            "--Models:2:Id=fallback-native", "--Models:2:Provider=openai", $"--Models:2:BaseUrl={root}/v1", "--Models:2:UpstreamModel=fail-500-native",
            "--Models:2:MaxRetries=1", "--Models:2:MaxRetryDelaySeconds=0.05", "--Models:2:ResponsesApi=native",
            "--Models:3:Id=fallback-native", "--Models:3:Provider=openai", $"--Models:3:BaseUrl={root}/v1", "--Models:3:UpstreamModel=answer-fallback-native",
            "--Models:3:Weight=0", "--Models:3:ResponsesApi=native",
            "--Models:4:Id=forward-native", "--Models:4:Provider=openai", $"--Models:4:BaseUrl={root}/v1", "--Models:4:UpstreamModel=answer-forward-native",
            "--Models:4:ForwardStore=true", "--Models:4:ResponsesApi=native",
            // The same upstream through its chat: a chain may move between the two.
            "--Models:5:Id=chat-model", "--Models:5:Provider=openai", $"--Models:5:BaseUrl={root}/v1", "--Models:5:UpstreamModel=answer-chat",
            // Everything else goes to the fake's Responses API under the name the client sent, which picks its behaviour.
            "--Models:6:Id=*", "--Models:6:Provider=openai", $"--Models:6:BaseUrl={root}/v1", "--Models:6:TimeoutSeconds=5",
            "--Models:6:MaxRetries=0", "--Models:6:ResponsesApi=native");
    }

    public async Task DisposeAsync()
    {
        await Cairn.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// Responses relayed to an upstream's own Responses API: the request as sent with Cairn's chain in its input and
/// nothing stored upstream, the answer as the upstream wrote it with Cairn's id, whole and streamed, stored by Cairn.
/// </summary>
public sealed class ResponsesNativeTests(NativeResponsesFixture fixture) : IClassFixture<NativeResponsesFixture>
{
    private FakeUpstream Upstream => fixture.Upstream;

    private CairnServer Cairn => fixture.Cairn;

    private ResponsesClient Responses => fixture.Cairn.Responses();

    private static string Model(string behaviour) => $"{behaviour}-{Guid.NewGuid():N}";

    private ResponseResult Create(string model, string text, string? previous = null) =>
        Responses.CreateResponse(new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem(text)]) { PreviousResponseId = previous }).Value;

    /// <summary>The input items the upstream was sent, as (type, role, text) with the keys each carried.</summary>
    private static List<JsonObject> SentInput(FakeUpstream.Received request) => [.. request.Body["input"]!.AsArray().Select(item => item!.AsObject())];

    private static string? TextOf(JsonObject item) =>
        item["content"] switch
        {
            JsonValue text => text.GetValue<string>(),
            JsonArray parts => parts[0]!["text"]!.GetValue<string>(),
            _ => null,
        };

    /// <summary>A raw stream's events: each one's <c>event:</c> name and its data.</summary>
    private static List<(string Name, JsonObject Data)> Events(string body) =>
        [.. body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(frame =>
        {
            var lines = frame.Split('\n');
            Assert.StartsWith("event: ", lines[0]);
            Assert.StartsWith("data: ", lines[1]);
            return (lines[0]["event: ".Length..], JsonNode.Parse(lines[1]["data: ".Length..])!.AsObject());
        })];

    private async Task<string> StreamRawAsync(string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await Cairn.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task AWholeResponse_IsTheUpstreamsObject_WithCairnsIdAndTheClientsEchoes_AndIsStoredAsIs()
    {
        var model = Model("answer");
        using var create = await Cairn.PostJsonAsync("/v1/responses",
            $$"""{"model":"{{model}}","input":"hi there","instructions":"Be brief.","metadata":{"team":"blue"},"x_custom":{"keep":[1,2]},"temperature":0.5}""");
        var created = await create.Content.ReadAsStringAsync();
        var response = JsonNode.Parse(created)!.AsObject();
        var id = response["id"]!.GetValue<string>();
        var sent = Assert.Single(Upstream.For(model));

        var stored = await Cairn.Http.GetStringAsync($"/v1/responses/{id}");

        Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        Assert.Equal("/v1/responses", sent.PathAndQuery);
        // The upstream gets the client's body: unknown fields and all, but nothing to store and no metadata.
        Assert.Equal("""{"keep":[1,2]}""", sent.Body["x_custom"]!.ToJsonString());
        Assert.Equal("hi there", sent.Body["input"]!.GetValue<string>());
        Assert.Equal("Be brief.", sent.Body["instructions"]!.GetValue<string>());
        Assert.Equal(0.5, sent.Body["temperature"]!.GetValue<double>());
        Assert.False(sent.Body["store"]!.GetValue<bool>());
        Assert.Null(sent.Body["metadata"]);
        Assert.False(sent.Body.ContainsKey("previous_response_id"));
        // The client gets the upstream's object, its own fields and order, with Cairn's id and the echoes it sent.
        Assert.Matches("^resp_[0-9a-f]{50}$", id);
        Assert.Equal(["id", "object", "created_at", "status"], response.Select(p => p.Key).Take(4));
        Assert.Equal("metadata", response.Last().Key);
        Assert.Equal("""{"gpu":"h100"}""", response["x_vendor"]!.ToJsonString());
        Assert.True(response["store"]!.GetValue<bool>());
        Assert.Equal("""{"team":"blue"}""", response["metadata"]!.ToJsonString());
        Assert.Null(response["previous_response_id"]);
        Assert.Equal(model + "-2025-01-01", response["model"]!.GetValue<string>());
        Assert.StartsWith("msg_", response["output"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(FakeResponses.Text, response["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(created, stored);
    }

    [Fact]
    public void AChainOfThreeTurns_IsKeptByCairn_AndSpelledOutUpstreamEachTurn()
    {
        var model = Model("answer");
        var first = Create(model, "one");
        var second = Create(model, "two", first.Id);
        var third = Create(model, "three", second.Id);
        var sent = Upstream.For(model);

        var items = Responses.GetResponseInputItems(new ResponseItemCollectionOptions(third.Id)).ToList();

        Assert.Equal(3, sent.Count);
        Assert.All(sent, request =>
        {
            Assert.False(request.Body["store"]!.GetValue<bool>());
            Assert.False(request.Body.ContainsKey("previous_response_id"));
            // The upstream stored nothing, so no item goes by an id it would have to look up.
            Assert.All(SentInput(request), item => Assert.False(item.ContainsKey("id")));
        });
        Assert.Equal(["one", FakeResponses.Text, "two"], SentInput(sent[1]).Select(TextOf));
        Assert.Equal(["user", "assistant", "user"], SentInput(sent[1]).Select(item => item["role"]!.GetValue<string>()));
        Assert.Equal(["one", FakeResponses.Text, "two", FakeResponses.Text, "three"], SentInput(sent[2]).Select(TextOf));
        Assert.All(SentInput(sent[2]), item => Assert.False(item.ContainsKey("status")));
        Assert.Equal(second.Id, third.PreviousResponseId);
        Assert.Equal(FakeResponses.Text, third.GetOutputText());
        Assert.All(new[] { first, second, third }, r => Assert.StartsWith("resp_", r.Id));
        Assert.Equal(5, items.Count);
        Assert.Equal(second.OutputItems[0].Id, items[1].Id);
        Assert.Equal(first.OutputItems[0].Id, items[3].Id);
    }

    [Fact]
    public async Task AStream_IsRelayedEventByEvent_WithCairnsIdInEveryResponse_AndTheLastOneIsWhatIsStored()
    {
        var model = Model("answer");
        var body = await StreamRawAsync($$"""{"model":"{{model}}","input":"hello","stream":true,"metadata":{"k":"v"},"x_custom":true}""");
        var events = Events(body);
        var completed = events[^1].Data["response"]!.AsObject();
        var id = completed["id"]!.GetValue<string>();
        var sent = Assert.Single(Upstream.For(model)).Body;

        var stored = await Cairn.Http.GetStringAsync($"/v1/responses/{id}");

        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta",
             "response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            events.Select(e => e.Name));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data["sequence_number"]!.GetValue<int>()));
        Assert.All(events.Where(e => e.Data.ContainsKey("response")), e =>
        {
            Assert.Equal(id, e.Data["response"]!["id"]!.GetValue<string>());
            Assert.True(e.Data["response"]!["store"]!.GetValue<bool>());
            Assert.Equal("""{"k":"v"}""", e.Data["response"]!["metadata"]!.ToJsonString());
        });
        Assert.Equal("""{"latency_ms":12}""", events[4].Data["x_vendor"]!.ToJsonString());
        Assert.Equal("""{"gpu":"h100"}""", completed["x_vendor"]!.ToJsonString());
        Assert.True(sent["stream"]!.GetValue<bool>());
        Assert.True(sent["x_custom"]!.GetValue<bool>());
        Assert.False(sent["store"]!.GetValue<bool>());
        Assert.Equal(completed.ToJsonString(), JsonNode.Parse(stored)!.ToJsonString());
        Assert.Contains(stored, body);
    }

    [Fact]
    public async Task TheSdk_StreamsANativeResponse_WithOneIdFromCreatedToGet()
    {
        var updates = new List<StreamingResponseUpdate>();
        await foreach (var update in await Responses.CreateResponseStreamingAsync(
                           new CreateResponseOptions(Model("answer"), [ResponseItem.CreateUserMessageItem("hello")]) { StreamingEnabled = true }))
        {
            updates.Add(update);
        }
        var created = Assert.IsType<StreamingResponseCreatedUpdate>(updates[0]).Response;
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]).Response;

        var stored = Responses.GetResponse(completed.Id).Value;

        Assert.Equal(created.Id, completed.Id);
        Assert.StartsWith("resp_", completed.Id);
        Assert.Equal(["Hello", " from upstream"], updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(u => u.Delta));
        Assert.Equal(FakeResponses.Text, completed.GetOutputText());
        Assert.Equal(FakeResponses.Text, stored.GetOutputText());
        Assert.Equal(completed.OutputItems[0].Id, stored.OutputItems[0].Id);
        Assert.Equal(15, stored.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task AnUpstreamErrorEvent_IsRelayed_ThenCairnEndsTheStreamWithResponseFailed_AndStoresNothing()
    {
        var events = Events(await StreamRawAsync($$"""{"model":"{{Model("error-event")}}","input":"hi","stream":true}"""));
        var (name, last) = events[^1];
        var id = last["response"]!["id"]!.GetValue<string>();

        using var get = await Cairn.Http.GetAsync($"/v1/responses/{id}");

        Assert.Equal("error", events[^2].Name);
        Assert.Equal("The model crashed.", events[^2].Data["message"]!.GetValue<string>());
        Assert.Equal("response.failed", name);
        Assert.Equal(events[^2].Data["sequence_number"]!.GetValue<int>() + 1, last["sequence_number"]!.GetValue<int>());
        Assert.Equal(events[0].Data["response"]!["id"]!.GetValue<string>(), id);
        Assert.Equal("failed", last["response"]!["status"]!.GetValue<string>());
        Assert.Equal("The model crashed.", last["response"]!["error"]!["message"]!.GetValue<string>());
        Assert.Equal("server_error", last["response"]!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task AnUpstreamThatBreaksMidStream_EndsWithCairnsResponseFailed_AndNothingStored()
    {
        var events = Events(await StreamRawAsync($$"""{"model":"{{Model("reset")}}","input":"hi","stream":true}"""));
        var last = events[^1].Data;

        using var get = await Cairn.Http.GetAsync($"/v1/responses/{last["response"]!["id"]!.GetValue<string>()}");

        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.failed"], events.Select(e => e.Name));
        Assert.Equal(3, last["sequence_number"]!.GetValue<int>());
        Assert.Equal("upstream_stream_broken", last["response"]!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task AResponseTheUpstreamFailed_IsRelayedAsItFailed_AndNotStored()
    {
        var events = Events(await StreamRawAsync($$"""{"model":"{{Model("failed")}}","input":"hi","stream":true}"""));
        using var whole = await Cairn.PostJsonAsync("/v1/responses", $$"""{"model":"{{Model("failed")}}","input":"hi"}""");
        var failed = JsonNode.Parse(await whole.Content.ReadAsStringAsync())!;

        using var getStreamed = await Cairn.Http.GetAsync($"/v1/responses/{events[^1].Data["response"]!["id"]!.GetValue<string>()}");
        using var getWhole = await Cairn.Http.GetAsync($"/v1/responses/{failed["id"]!.GetValue<string>()}");

        Assert.Equal("response.failed", events[^1].Name);
        Assert.Equal("The model failed upstream.", events[^1].Data["response"]!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, getStreamed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, getWhole.StatusCode);
    }

    [Fact]
    public void InputItems_AndDelete_WorkOnNativeResponses_AndAChainOutlivesItsDeletedStart()
    {
        var model = Model("answer");
        var first = Create(model, "alpha");
        var second = Create(model, "beta", first.Id);
        var before = Responses.GetResponseInputItems(new ResponseItemCollectionOptions(second.Id)).Select(item => item.Id).ToList();

        var deleted = Responses.DeleteResponse(first.Id).Value;
        var after = Responses.GetResponseInputItems(new ResponseItemCollectionOptions(second.Id)).Select(item => item.Id).ToList();
        Create(model, "gamma", second.Id);
        var sent = Upstream.For(model)[^1];

        Assert.True(deleted.Deleted);
        Assert.Equal(404, Assert.Throws<ClientResultException>(() => Responses.GetResponse(first.Id)).Status);
        Assert.Equal(3, before.Count);
        Assert.Equal(first.OutputItems[0].Id, before[1]);
        Assert.Equal(before, after);
        Assert.Equal(["alpha", FakeResponses.Text, "beta", FakeResponses.Text, "gamma"], SentInput(sent).Select(TextOf));
    }

    [Fact]
    public async Task AnUpstreamsRefusal_IsRelayedAsOnChat_AndAFailingDeploymentFallsBack()
    {
        var refused = Model("bad-400");
        using var refusal = await Cairn.PostJsonAsync("/v1/responses", $$"""{"model":"{{refused}}","input":"hi"}""");
        using var notResponse = await Cairn.PostJsonAsync("/v1/responses", $$"""{"model":"{{Model("notresponse")}}","input":"hi"}""");

        var fallback = Create("fallback-native", "hi");
        var tried = Upstream.Requests.Where(r => r.Model.EndsWith("-native", StringComparison.Ordinal) && r.Model.StartsWith("fail-500", StringComparison.Ordinal)
            || r.Model == "answer-fallback-native").ToList();

        Assert.Equal(HttpStatusCode.BadRequest, refusal.StatusCode);
        Assert.Equal(FakeUpstream.BadRequestBody, await refusal.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadGateway, notResponse.StatusCode);
        Assert.Contains("upstream_malformed", await notResponse.Content.ReadAsStringAsync());
        Assert.Equal(FakeResponses.Text, fallback.GetOutputText());
        Assert.Equal(["fail-500-native", "fail-500-native", "answer-fallback-native"], tried.Select(r => r.Model).TakeLast(3));
        Assert.All(tried, r => Assert.Equal("/v1/responses", r.PathAndQuery));
    }

    [Fact]
    public void Azure_IsAskedAtItsV1ResponsesApi_WithTheDeploymentAsTheModel()
    {
        var deploymentStyle = Create("azure-native", "hi");
        var v1Root = Create("azure-v1-native", "hi");
        var toDeployment = Upstream.For("answer-azure-deployment")[^1];
        var toV1 = Upstream.For("answer-azure-v1")[^1];

        Assert.Equal(FakeResponses.Text, deploymentStyle.GetOutputText());
        Assert.Equal(FakeResponses.Text, v1Root.GetOutputText());
        Assert.Equal("/openai/v1/responses", toDeployment.PathAndQuery);
        Assert.Equal(NativeResponsesFixture.AzureKey, toDeployment.Headers["api-key"]);
        Assert.Equal("/openai/v1/responses", toV1.PathAndQuery);
    }

    [Fact]
    public async Task ForwardStore_SendsStoreAndMetadataUpstream_AsTheClientSentThem()
    {
        using var create = await Cairn.PostJsonAsync("/v1/responses", """{"model":"forward-native","input":"hi","store":true,"metadata":{"k":"v"}}""");
        var sent = Upstream.For("answer-forward-native")[^1].Body;

        Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        Assert.True(sent["store"]!.GetValue<bool>());
        Assert.Equal("""{"k":"v"}""", sent["metadata"]!.ToJsonString());
    }

    [Fact]
    public async Task AResponseNotStored_IsAnsweredWithStoreFalse_AndNotKept()
    {
        using var create = await Cairn.PostJsonAsync("/v1/responses", $$"""{"model":"{{Model("answer")}}","input":"hi","store":false}""");
        var response = JsonNode.Parse(await create.Content.ReadAsStringAsync())!;

        using var get = await Cairn.Http.GetAsync($"/v1/responses/{response["id"]!.GetValue<string>()}");

        Assert.False(response["store"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task TheClientsItems_GoUpstreamAsSent_ButForTheirIds_WhichInputItemsKeep()
    {
        var model = Model("tools");
        var first = Create(model, "weather in Paris?");
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        using var second = await Cairn.PostJsonAsync("/v1/responses", $$"""
            {"model":"{{model}}","previous_response_id":"{{first.Id}}","input":[
              {"type":"function_call_output","id":"fc_client0001","call_id":"{{call.CallId}}","output":"sunny"},
              {"id":"msg_client0002","role":"user","content":"and tomorrow?"}]}
            """);
        var id = JsonNode.Parse(await second.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        var sent = SentInput(Upstream.For(model)[^1]);

        var items = Responses.GetResponseInputItems(new ResponseItemCollectionOptions(id)).Select(item => item.Id).ToList();

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(["message", "function_call", "function_call_output", null], sent.Select(item => item["type"]?.GetValue<string>()));
        Assert.Equal(call.CallId, sent[1]["call_id"]!.GetValue<string>());
        Assert.Equal("""{"type":"function_call_output","call_id":"%","output":"sunny"}""".Replace("%", call.CallId), sent[2].ToJsonString());
        Assert.Equal("""{"role":"user","content":"and tomorrow?"}""", sent[3].ToJsonString());
        Assert.Equal(["msg_client0002", "fc_client0001", call.Id], items.Take(3));
    }

    [Fact]
    public async Task ReasoningItems_AreReplayedOnlyWithTheirEncryptedContent()
    {
        var plain = Model("reasoning");
        var first = Create(plain, "think");
        Create(plain, "again", first.Id);
        var encrypted = Model("reasoning");
        using var withContent = await Cairn.PostJsonAsync("/v1/responses", $$"""{"model":"{{encrypted}}","input":"think","include":["reasoning.encrypted_content"]}""");
        Create(encrypted, "again", JsonNode.Parse(await withContent.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());

        var withoutSent = SentInput(Upstream.For(plain)[^1]);
        var withSent = SentInput(Upstream.For(encrypted)[^1]);

        Assert.Equal(["message", "message", "message"], withoutSent.Select(item => item["type"]!.GetValue<string>()));
        Assert.Equal(["message", "reasoning", "message", "message"], withSent.Select(item => item["type"]!.GetValue<string>()));
        Assert.Equal("gAAAAABencrypted", withSent[1]["encrypted_content"]!.GetValue<string>());
        Assert.False(withSent[1].ContainsKey("id"));
    }

    [Fact]
    public void AChain_MayMoveBetweenANativeModelAndATranslatedOne()
    {
        var native = Model("answer");
        var first = Create(native, "one");
        var second = Create("chat-model", "two", first.Id);
        Create(native, "three", second.Id);

        var chat = Upstream.For("answer-chat")[^1].Body["messages"]!.AsArray();
        var relayed = SentInput(Upstream.For(native)[^1]);

        Assert.Equal(["user", "assistant", "user"], chat.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal(FakeResponses.Text, chat[1]!["content"]!.GetValue<string>());
        Assert.Equal("Hello from upstream", second.GetOutputText());
        Assert.Equal(["one", FakeResponses.Text, "two", "Hello from upstream", "three"], relayed.Select(TextOf));
    }
}
