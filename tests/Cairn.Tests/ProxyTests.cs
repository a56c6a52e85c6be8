using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;
using OpenAI.Chat;

namespace Cairn.Tests;

/// <summary>A fake upstream (a real HTTP server on loopback) with Cairn in front of it, configured through its model list.</summary>
public sealed class ProxyFixture : IAsyncLifetime
{
    public const string AzureKey = "azure-test-key-123";
    public const string OpenAIKey = "sk-upstream-test-456";

    public FakeUpstream Upstream { get; } = new();

    public CairnServer Cairn { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Upstream.InitializeAsync();
        Environment.SetEnvironmentVariable("CAIRN_TEST_AZURE_KEY", AzureKey);
        Environment.SetEnvironmentVariable("CAIRN_TEST_OPENAI_KEY", OpenAIKey);
        var root = Upstream.BaseUrl.ToString().TrimEnd('/');
        Cairn = await CairnServer.StartAsync(
            // Two deployments of one model: the weighted one always fails, the weight-0 one is the fallback.
            "--Models:0:Id=fallback", "--Models:0:Provider=openai", $"--Models:0:BaseUrl={root}/v1", "--Models:0:UpstreamModel=fail-500-fallback",
            "--Models:0:MaxRetries=1", "--Models:0:MaxRetryDelaySeconds=0.05",
            "--Models:1:Id=fallback", "--Models:1:Provider=openai", $"--Models:1:BaseUrl={root}/v1", "--Models:1:UpstreamModel=answer-fallback", "--Models:1:Weight=0",
            "--Models:2:Id=azure-deployment", "--Models:2:Provider=azure", $"--Models:2:BaseUrl={root}", "--Models:2:ApiVersion=2024-10-21",
            "--Models:2:Deployment=my-deployment", "--Models:2:UpstreamModel=answer-azure", "--Models:2:ApiKeyEnv=CAIRN_TEST_AZURE_KEY",
            "--Models:3:Id=azure-v1", "--Models:3:Provider=azure", $"--Models:3:BaseUrl={root}/openai/v1", "--Models:3:UpstreamModel=answer-azure-v1",
            "--Models:3:ApiKeyEnv=CAIRN_TEST_AZURE_KEY",
            "--Models:4:Id=keyed", "--Models:4:Provider=openai", $"--Models:4:BaseUrl={root}/v1", "--Models:4:UpstreamModel=answer-keyed",
            "--Models:4:ApiKeyEnv=CAIRN_TEST_OPENAI_KEY", "--Models:4:Headers:X-Team=blue",
            "--Models:5:Id=forward", "--Models:5:Provider=openai", $"--Models:5:BaseUrl={root}/v1", "--Models:5:UpstreamModel=answer-forward", "--Models:5:ForwardStore=true",
            "--Models:6:Id=impatient", "--Models:6:Provider=openai", $"--Models:6:BaseUrl={root}/v1", "--Models:6:UpstreamModel=slow-impatient",
            "--Models:6:TimeoutSeconds=0.5", "--Models:6:MaxRetries=0",
            "--Models:7:Id=dead", "--Models:7:Provider=openai", "--Models:7:BaseUrl=http://127.0.0.1:1/v1", "--Models:7:MaxRetries=1", "--Models:7:MaxRetryDelaySeconds=0.05",
            "--Models:8:Id=alias", "--Models:8:Provider=echo",
            // Everything else goes to the fake under the name the client sent, which picks its behaviour.
            "--Models:9:Id=*", "--Models:9:Provider=openai", $"--Models:9:BaseUrl={root}/v1", "--Models:9:TimeoutSeconds=5",
            "--Models:9:MaxRetries=2", "--Models:9:MaxRetryDelaySeconds=1");
    }

    public async Task DisposeAsync()
    {
        await Cairn.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>Cairn in front of an OpenAI-compatible upstream: fidelity both ways, streams, storage, retries, fallback and errors.</summary>
public sealed class ProxyTests(ProxyFixture fixture) : IClassFixture<ProxyFixture>
{
    private const string Completions = "/v1/chat/completions";
    private FakeUpstream Upstream => fixture.Upstream;
    private CairnServer Cairn => fixture.Cairn;

    private static string Unique(string behaviour) => $"{behaviour}-{Guid.NewGuid():N}";

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> PostAsync(string json)
    {
        var response = await Cairn.PostJsonAsync(Completions, json);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    private static string Request(string model, string extra = "") =>
        $$"""{"model":"{{model}}","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello"}]{{extra}}}""";

    private async Task<JsonObject> StoredAsync(string id)
    {
        var response = await Cairn.Http.GetAsync($"{Completions}/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    /// <summary>The data lines of an SSE body, without <c>[DONE]</c>.</summary>
    private static List<JsonObject> Events(string body) =>
        [.. body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e["data: ".Length..])
            .Where(d => d != "[DONE]")
            .Select(d => JsonNode.Parse(d)!.AsObject())];

    [Fact]
    public async Task WholeAnswer_HasCairnsId_AndUnknownFieldsPassBothWays_WithOnlyTheModelRewritten()
    {
        var model = Unique("answer");

        var (status, body, _) = await PostAsync(Request(model, ""","top_k":40,"x_routing":{"pool":"a"},"temperature":0.3"""));

        Assert.Equal(HttpStatusCode.OK, status);
        var answer = JsonNode.Parse(body)!.AsObject();
        Assert.Matches("^chatcmpl-[0-9A-Za-z]{29}$", answer["id"]!.GetValue<string>());
        Assert.Equal("h100", answer["x_vendor"]!["gpu"]!.GetValue<string>());
        Assert.Equal("answer-2025-01-01", answer["model"]!.GetValue<string>());
        Assert.Equal(15, answer["usage"]!["total_tokens"]!.GetValue<int>());
        Assert.Equal(0, answer["usage"]!["prompt_tokens_details"]!["cached_tokens"]!.GetValue<int>());
        var sent = Assert.Single(Upstream.For(model));
        Assert.Equal("/v1/chat/completions", sent.PathAndQuery);
        Assert.Equal(40, sent.Body["top_k"]!.GetValue<int>());
        Assert.Equal("a", sent.Body["x_routing"]!["pool"]!.GetValue<string>());
        Assert.Equal(0.3, sent.Body["temperature"]!.GetValue<double>());
        Assert.Equal(["model", "messages", "top_k", "x_routing", "temperature"], sent.Body.Select(p => p.Key));
    }

    [Fact]
    public async Task DuplicateKeys_AreRefusedNamingTheKey_AndNeverReachTheUpstream()
    {
        // Cairn would have stored one messages list while the upstream read the other.
        var model = Unique("answer");

        var (status, body, response) = await PostAsync(Request(model, ""","store":true,"messages":[{"role":"user","content":"Something else"}]"""));
        response.Dispose();

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal("messages", error["param"]!.GetValue<string>());
        Assert.Equal("invalid_json", error["code"]!.GetValue<string>());
        Assert.Empty(Upstream.For(model));
    }

    [Fact]
    public async Task TheOfficialClient_Completes_AndStreams_ThroughCairn()
    {
        var client = Cairn.Chat(Unique("answer"));

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Say hello")]);
        var streamed = new StringBuilder();
        string? streamedId = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Say hello")]))
        {
            streamedId ??= update.CompletionId;
            Assert.Equal(streamedId, update.CompletionId);
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal("Hello from upstream", completion.Content[0].Text);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.NotEqual("chatcmpl-upstream1", completion.Id);
        Assert.Equal("Hello from upstream", streamed.ToString());
        Assert.NotEqual("chatcmpl-upstream1", streamedId);
    }

    [Fact]
    public async Task Storing_KeepsStoreAndMetadataFromTheUpstream_ByDefault_AndRecordsWhereTheAnswerCameFrom()
    {
        var model = Unique("answer");

        var (_, body, _) = await PostAsync(Request(model, ""","store":true,"metadata":{"team":"a"}"""));
        var id = JsonNode.Parse(body)!["id"]!.GetValue<string>();
        var stored = await StoredAsync(id);

        var sent = Assert.Single(Upstream.For(model)).Body;
        Assert.False(sent.ContainsKey("store"));
        Assert.False(sent.ContainsKey("metadata"));
        Assert.Equal(id, stored["id"]!.GetValue<string>());
        Assert.Equal("Hello from upstream", stored["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("a", stored["metadata"]!["team"]!.GetValue<string>());
        Assert.Equal(15, stored["usage"]!["total_tokens"]!.GetValue<int>());
        Assert.Equal("chatcmpl-upstream1", stored["cairn"]!["upstream_id"]!.GetValue<string>());
        Assert.Equal("upstream", stored["cairn"]!["usage_source"]!.GetValue<string>());
        Assert.Equal("openai", stored["cairn"]!["provider"]!.GetValue<string>());

        var messages = await Cairn.Http.GetStringAsync($"{Completions}/{id}/messages");
        Assert.Contains("Say hello", messages, StringComparison.Ordinal);

        // Listed under the name the client used.
        var listed = JsonNode.Parse(await Cairn.Http.GetStringAsync($"{Completions}?model={model}"))!;
        Assert.Equal(id, listed["data"]![0]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task ForwardStore_SendsStoreAndMetadataUpstreamToo()
    {
        var (status, _, _) = await PostAsync(Request("forward", ""","store":true,"metadata":{"team":"b"}"""));

        Assert.Equal(HttpStatusCode.OK, status);
        var sent = Upstream.For("answer-forward").Last().Body;
        Assert.True(sent["store"]!.GetValue<bool>());
        Assert.Equal("b", sent["metadata"]!["team"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("answer", "")]
    [InlineData("answer", ""","logprobs":true""")]
    [InlineData("tools", "")]
    [InlineData("nousage", "")]
    [InlineData("multiline", "")]
    public async Task AStreamedCompletion_IsStoredIdenticalToTheWholeOne(string behaviour, string extra)
    {
        var model = Unique(behaviour);
        var (_, whole, _) = await PostAsync(Request(model, extra + ""","store":true"""));
        var (_, streamed, _) = await PostAsync(Request(model, extra + ""","store":true,"stream":true"""));
        var wholeId = JsonNode.Parse(whole)!["id"]!.GetValue<string>();
        var streamedId = Events(streamed)[0]["id"]!.GetValue<string>();

        var a = await StoredAsync(wholeId);
        var b = await StoredAsync(streamedId);

        foreach (var varying in (string[])["id", "created", "request_id", "seed"])
        {
            a.Remove(varying);
            b.Remove(varying);
        }
        Assert.Equal(a.ToJsonString(), b.ToJsonString());
        if (behaviour == "tools")
        {
            var calls = a["choices"]![0]!["message"]!["tool_calls"]!.AsArray();
            Assert.Equal("{\"city\":\"Paris\"}", calls[0]!["function"]!["arguments"]!.GetValue<string>());
            Assert.Equal("get_time", calls[1]!["function"]!["name"]!.GetValue<string>());
            Assert.Equal("tool_calls", a["choices"]![0]!["finish_reason"]!.GetValue<string>());
        }
        if (behaviour == "nousage")
        {
            Assert.Equal("counted", a["cairn"]!["usage_source"]!.GetValue<string>());
            Assert.Equal("o200k_base", a["cairn"]!["usage_tokenizer"]!.GetValue<string>());
            Assert.True(a["usage"]!["prompt_tokens"]!.GetValue<int>() > 0);
            Assert.True(a["usage"]!["completion_tokens"]!.GetValue<int>() > 0);
        }
        if (extra.Contains("logprobs", StringComparison.Ordinal))
        {
            Assert.Equal(2, a["choices"]![0]!["logprobs"]!["content"]!.AsArray().Count);
        }
    }

    [Fact]
    public async Task AStream_IsRelayedEventByEvent_WithCairnsIdInEveryChunk_AndUsageOnlyWhenAsked()
    {
        var model = Unique("answer");

        var (_, plain, plainResponse) = await PostAsync(Request(model, ""","stream":true"""));
        var (_, withUsage, _) = await PostAsync(Request(model, ""","stream":true,"stream_options":{"include_usage":true}"""));

        Assert.Equal("text/event-stream; charset=utf-8", plainResponse.Content.Headers.ContentType!.ToString());
        Assert.EndsWith("data: [DONE]\n\n", plain, StringComparison.Ordinal);
        var events = Events(plain);
        Assert.Equal(4, events.Count);
        Assert.Single(events.Select(e => e["id"]!.GetValue<string>()).Distinct());
        Assert.NotEqual("chatcmpl-upstream1", events[0]["id"]!.GetValue<string>());
        Assert.All(events, e => Assert.False(e.ContainsKey("usage")));
        Assert.All(events, e => Assert.Equal("h100", e["x_vendor"]!["gpu"]!.GetValue<string>()));
        // Cairn asked upstream for usage anyway, to store real counts.
        Assert.True(Upstream.For(model)[0].Body["stream_options"]!["include_usage"]!.GetValue<bool>());

        var usageEvents = Events(withUsage);
        Assert.Equal(5, usageEvents.Count);
        Assert.Equal(15, usageEvents[^1]["usage"]!["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnEventSentOverSeveralDataLinesWithCrLf_IsRelayedOnOneLine()
    {
        var model = Unique("multiline");

        var (_, streamed, _) = await PostAsync(Request(model, ""","stream":true"""));

        Assert.DoesNotContain("\r", streamed, StringComparison.Ordinal);
        var events = streamed.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, events.Length);
        Assert.All(events, e => Assert.Matches("^data: [^\n]+$", e));
        Assert.Equal("[DONE]", events[^1]["data: ".Length..]);
        Assert.All(Events(streamed), e => Assert.Equal("h100", e["x_vendor"]!["gpu"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A429WithAShortWait_IsRetried_AfterTheWaitItAsks()
    {
        var model = $"flaky:2:{Guid.NewGuid():N}";

        var (status, body, _) = await PostAsync(Request(model));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Hello from upstream", body, StringComparison.Ordinal);
        Assert.Equal(3, Upstream.For(model).Count);
    }

    [Fact]
    public async Task A429AskingForALongerWaitThanAllowed_IsNotRetried_AndReachesTheClientIntact()
    {
        var model = Unique("busy");

        var (status, body, response) = await PostAsync(Request(model));

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("rate_limit_exceeded", JsonNode.Parse(body)!["error"]!["code"]!.GetValue<string>());
        Assert.Equal("60", response.Headers.GetValues("Retry-After").Single());
        Assert.Single(Upstream.For(model));
    }

    [Fact]
    public async Task AFailingDeployment_IsRetried_ThenTheFallbackAnswers()
    {
        var before = Upstream.For("fail-500-fallback").Count;

        var (status, body, _) = await PostAsync(Request("fallback"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Hello from upstream", body, StringComparison.Ordinal);
        Assert.Equal(2, Upstream.For("fail-500-fallback").Count - before); // one try and one retry
        Assert.NotEmpty(Upstream.For("answer-fallback"));
    }

    [Fact]
    public async Task AnUpstream4xx_ReachesTheClientWithItsBodyIntact_AndIsNotRetried()
    {
        var model = Unique("bad-400");

        var (status, body, _) = await PostAsync(Request(model));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(FakeUpstream.BadRequestBody, body);
        Assert.Single(Upstream.For(model));
    }

    [Fact]
    public async Task ANonJsonUpstreamError_IsWrappedInTheEnvelope_AfterTheRetries()
    {
        var model = Unique("text-503");

        var (status, body, _) = await PostAsync(Request(model));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());
        Assert.Contains("upstream overloaded", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(3, Upstream.For(model).Count);
    }

    [Fact]
    public async Task ATimeout_Gives504_AndADeadUpstream502_InTheEnvelope()
    {
        var (timeoutStatus, timeoutBody, _) = await PostAsync(Request("impatient"));
        var (deadStatus, deadBody, _) = await PostAsync(Request("dead"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, timeoutStatus);
        Assert.Equal("upstream_timeout", JsonNode.Parse(timeoutBody)!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadGateway, deadStatus);
        Assert.Equal("upstream_unreachable", JsonNode.Parse(deadBody)!["error"]!["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("reset", "upstream_stream_broken")]
    [InlineData("malformed", "upstream_malformed")]
    public async Task AStreamThatBreaks_EndsWithAnErrorEvent_AndIsNotStored(string behaviour, string code)
    {
        var model = Unique(behaviour);

        var (status, body, _) = await PostAsync(Request(model, ""","stream":true,"store":true,"metadata":{"run":"{{model}}"}""".Replace("{{model}}", model, StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        var events = Events(body);
        Assert.Equal(code, events[^1]["error"]!["code"]!.GetValue<string>());
        Assert.All(events.SkipLast(1), e => Assert.True(e.ContainsKey("choices")));
        var listed = JsonNode.Parse(await Cairn.Http.GetStringAsync($"{Completions}?metadata[run]={model}"))!;
        Assert.Empty(listed["data"]!.AsArray());
    }

    [Fact]
    public async Task AnUpstreamErrorEvent_IsRelayed_AndEndsTheStream()
    {
        var (_, body, _) = await PostAsync(Request(Unique("error-event"), ""","stream":true"""));

        var events = Events(body);
        Assert.Equal("The model crashed.", events[^1]["error"]!["message"]!.GetValue<string>());
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientThatLeaves_CancelsTheUpstreamRequest()
    {
        var model = Unique("hang");
        using var request = new HttpRequestMessage(HttpMethod.Post, Completions)
        {
            Content = new StringContent(Request(model, ""","stream":true"""), Encoding.UTF8, "application/json"),
        };
        var response = await Cairn.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1024];
        Assert.True(await stream.ReadAsync(buffer) > 0); // the first chunk arrived

        response.Dispose();

        await Upstream.ClientLeft(model).WaitAsync(FakeUpstream.LeaveWait);
    }

    [Fact]
    public async Task Azure_DeploymentStyleAndV1Urls_WithTheApiKeyHeader()
    {
        var (deploymentStatus, _, _) = await PostAsync(Request("azure-deployment"));
        var (v1Status, _, _) = await PostAsync(Request("azure-v1"));

        Assert.Equal(HttpStatusCode.OK, deploymentStatus);
        Assert.Equal(HttpStatusCode.OK, v1Status);
        var deployment = Upstream.For("answer-azure").Last();
        Assert.Equal("/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21", deployment.PathAndQuery);
        Assert.Equal(ProxyFixture.AzureKey, deployment.Headers["api-key"]);
        Assert.False(deployment.Headers.ContainsKey("authorization"));
        var v1 = Upstream.For("answer-azure-v1").Last();
        Assert.Equal("/openai/v1/chat/completions", v1.PathAndQuery);
        Assert.Equal(ProxyFixture.AzureKey, v1.Headers["api-key"]);
    }

    [Fact]
    public async Task AnOpenAIUpstream_GetsTheKeyFromTheEnvironment_AndTheConfiguredHeaders_NotTheClientsKey()
    {
        var client = Cairn.Chat("keyed");

        await client.CompleteChatAsync([new UserChatMessage("hi")]);

        var sent = Upstream.For("answer-keyed").Last();
        Assert.Equal($"Bearer {ProxyFixture.OpenAIKey}", sent.Headers["authorization"]);
        Assert.Equal("blue", sent.Headers["x-team"]);
    }

    [Fact]
    public async Task Models_ListsConfiguredIds_NotPatterns_AndAnEchoAliasAnswersLocally()
    {
        var models = (await Cairn.Models().GetModelsAsync()).Value.Select(m => m.Id).ToList();
        ChatCompletion alias = await Cairn.Chat("alias").CompleteChatAsync([new UserChatMessage("echo me")]);

        Assert.Contains("fallback", models);
        Assert.Contains("azure-v1", models);
        Assert.Contains("echo", models);
        Assert.DoesNotContain("*", models);
        Assert.Equal("echo me", alias.Content[0].Text);
        Assert.Equal("alias", alias.Model);
    }

    [Fact]
    public async Task AnUpstreamRefusal_ThroughTheOfficialClient_IsAClientResultException_WithTheUpstreamsMessage()
    {
        var client = Cairn.Chat(Unique("bad-400"));

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(400, error.Status);
        Assert.Contains("must be at most 2", error.Message, StringComparison.Ordinal);
    }
}
