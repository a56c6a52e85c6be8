using System.Diagnostics;
using System.Net;
using System.Text;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>A fake upstream with Cairn in front, every model name holding <see cref="Marker"/> so that this class's spans are told apart.</summary>
public sealed class UpstreamTelemetryFixture : IAsyncLifetime
{
    public string Marker { get; } = Guid.NewGuid().ToString("N");

    public FakeUpstream Upstream { get; } = new();

    public CairnServer Cairn { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Upstream.InitializeAsync();
        var root = Upstream.BaseUrl.ToString().TrimEnd('/');
        Cairn = await CairnServer.StartAsync(
            // An OpenAI deployment that always fails (tried twice), then an Azure one that answers.
            $"--Models:0:Id=fallback-{Marker}", "--Models:0:Provider=openai", $"--Models:0:BaseUrl={root}/v1", $"--Models:0:UpstreamModel=fail-500-{Marker}",
            "--Models:0:MaxRetries=1", "--Models:0:MaxRetryDelaySeconds=0.05",
            $"--Models:1:Id=fallback-{Marker}", "--Models:1:Provider=azure", $"--Models:1:BaseUrl={root}", "--Models:1:ApiVersion=2024-10-21",
            $"--Models:1:Deployment=d-{Marker}", $"--Models:1:UpstreamModel=answer-{Marker}", "--Models:1:Weight=0",
            $"--Models:2:Id=slow-{Marker}", "--Models:2:Provider=openai", $"--Models:2:BaseUrl={root}/v1", "--Models:2:TimeoutSeconds=0.5", "--Models:2:MaxRetries=0",
            $"--Models:3:Id=dead-{Marker}", "--Models:3:Provider=openai", "--Models:3:BaseUrl=http://127.0.0.1:1/v1", "--Models:3:MaxRetries=0",
            $"--Models:4:Id=huge-{Marker}", "--Models:4:Provider=openai", $"--Models:4:BaseUrl={root}/v1", "--Models:4:MaxAnswerBytes=1024",
            // Everything else goes to the fake under the name the client sent, which picks its behaviour.
            "--Models:5:Id=*", "--Models:5:Provider=openai", $"--Models:5:BaseUrl={root}/v1", "--Models:5:TimeoutSeconds=5",
            "--Models:5:MaxRetries=2", "--Models:5:MaxRetryDelaySeconds=1");
    }

    public async Task DisposeAsync()
    {
        await Cairn.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>Each attempt at an upstream (retries and fallbacks) is a client span carrying its trace upstream, and is counted by outcome.</summary>
public sealed class UpstreamTelemetryTests(UpstreamTelemetryFixture fixture) : IClassFixture<UpstreamTelemetryFixture>
{
    private const string Attempts = "cairn.upstream.attempts";
    private const string Duration = "gen_ai.client.operation.duration";

    private string Marker => fixture.Marker;

    private FakeUpstream Upstream => fixture.Upstream;

    private Task<HttpResponseMessage> PostAsync(string model, bool stream = false) =>
        fixture.Cairn.PostJsonAsync("/v1/chat/completions",
            $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say hello"}]}""");

    private MeterRecorder Meters() => new(fixture.Cairn.Services, Attempts, Duration);

    [Fact]
    public async Task ARetriedRequest_IsOneClientSpanPerAttempt_EachSendingItsOwnTraceparent()
    {
        var model = $"flaky:1:{Marker}-retried";
        using var spans = new SpanRecorder(Marker);
        using var meters = Meters();

        using var response = await PostAsync(model);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var create = spans.Create(model);
        var attempts = spans.Children(create);
        Assert.Equal(2, attempts.Count);
        foreach (var (attempt, number) in attempts.Select((a, i) => (a, i + 1)))
        {
            Assert.Equal(ActivityKind.Client, attempt.Kind);
            Assert.Equal($"chat {model}", attempt.DisplayName);
            Assert.Equal(create.TraceId, attempt.TraceId);
            Assert.Equal("chat", attempt.GetTagItem("gen_ai.operation.name"));
            Assert.Equal("openai", attempt.GetTagItem("gen_ai.provider.name"));
            Assert.Equal(model, attempt.GetTagItem("gen_ai.request.model"));
            Assert.Equal("127.0.0.1", attempt.GetTagItem("server.address"));
            Assert.Equal(Upstream.BaseUrl.Port, attempt.GetTagItem("server.port"));
            Assert.Equal("Models:5", attempt.GetTagItem("cairn.upstream.deployment"));
            Assert.Equal(number, attempt.GetTagItem("cairn.upstream.attempt"));
        }
        Assert.Equal(429, attempts[0].GetTagItem("http.response.status_code"));
        Assert.Equal("429", attempts[0].GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal(200, attempts[1].GetTagItem("http.response.status_code"));
        Assert.Null(attempts[1].GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, attempts[1].Status);

        // Each attempt sent the trace upstream naming itself (HttpClient starts no span of its own inside it).
        var received = Upstream.For(model);
        Assert.Equal(2, received.Count);
        foreach (var (attempt, request) in attempts.Zip(received))
        {
            var traceparent = request.Headers["traceparent"].Split('-');
            Assert.Equal(attempt.TraceId.ToHexString(), traceparent[1]);
            Assert.Equal(attempt.SpanId.ToHexString(), traceparent[2]);
            Assert.Empty(spans.Children(attempt));
        }

        Assert.Single(meters.Of(Attempts, ("cairn.upstream.deployment", "Models:5"), ("gen_ai.provider.name", "openai"), ("cairn.upstream.outcome", "failed")));
        Assert.Single(meters.Of(Attempts, ("cairn.upstream.deployment", "Models:5"), ("cairn.upstream.outcome", "answered")));
        var durations = meters.Of(Duration, ("gen_ai.request.model", model), ("cairn.upstream.deployment", "Models:5"), ("server.port", Upstream.BaseUrl.Port));
        Assert.Equal(2, durations.Count);
        Assert.Equal("429", durations[0].Tags["error.type"]);
        Assert.False(durations[1].Tags.ContainsKey("error.type"));
        Assert.All(durations, d => Assert.InRange(d.Value, 0, 10));
    }

    [Fact]
    public async Task AFallback_IsAClientSpanOnTheNextDeployment_NamedForTheModelSentThere()
    {
        var model = $"fallback-{Marker}";
        using var spans = new SpanRecorder(Marker);
        using var meters = Meters();

        using var response = await PostAsync(model);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var create = spans.Create(model);
        var attempts = spans.Children(create);
        Assert.Equal(
            [($"chat fail-500-{Marker}", "Models:0", "openai", 1, 500), ($"chat fail-500-{Marker}", "Models:0", "openai", 2, 500), ($"chat answer-{Marker}", "Models:1", "azure.ai.openai", 1, 200)],
            attempts.Select(a => (a.DisplayName, (string)a.GetTagItem("cairn.upstream.deployment")!, (string)a.GetTagItem("gen_ai.provider.name")!,
                (int)a.GetTagItem("cairn.upstream.attempt")!, (int)a.GetTagItem("http.response.status_code")!)));
        Assert.All(attempts, a => Assert.Equal(ActivityKind.Client, a.Kind));
        Assert.Equal($"answer-{Marker}", attempts[2].GetTagItem("gen_ai.request.model"));
        Assert.Equal("500", attempts[1].GetTagItem("error.type"));
        Assert.Null(attempts[2].GetTagItem("error.type"));
        var azure = Assert.Single(Upstream.For($"answer-{Marker}"));
        Assert.Equal(attempts[2].TraceId.ToHexString(), azure.Headers["traceparent"].Split('-')[1]);

        Assert.Equal(2, meters.Of(Attempts, ("cairn.upstream.deployment", "Models:0"), ("gen_ai.provider.name", "openai"), ("cairn.upstream.outcome", "failed")).Count);
        Assert.Single(meters.Of(Attempts, ("cairn.upstream.deployment", "Models:1"), ("gen_ai.provider.name", "azure.ai.openai"), ("cairn.upstream.outcome", "answered")));
        Assert.Single(meters.Of(Duration, ("cairn.upstream.deployment", "Models:1"), ("gen_ai.provider.name", "azure.ai.openai"), ("gen_ai.request.model", $"answer-{Marker}")));
        Assert.Equal(2, meters.Of(Duration, ("cairn.upstream.deployment", "Models:0"), ("error.type", "500")).Count);
    }

    [Theory]
    [InlineData("slow", "Models:2", "timeout", "timeout")]
    [InlineData("dead", "Models:3", "unreachable", "System.Net.Http.HttpRequestException")]
    [InlineData("huge", "Models:4", "too_large", "Cairn.Upstream.UpstreamAnswerTooLargeException")]
    [InlineData("bad-400", "Models:5", "refused", "400")]
    public async Task AFailedAttempt_IsCountedByOutcome_AndItsSpanNamesTheError(string behaviour, string deployment, string outcome, string errorType)
    {
        var model = $"{behaviour}-{Marker}";
        using var spans = new SpanRecorder(Marker);
        using var meters = Meters();

        using var response = await PostAsync(model);

        Assert.False(response.IsSuccessStatusCode);
        var attempt = Assert.Single(spans.Children(spans.Create(model)));
        Assert.Equal(errorType, attempt.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, attempt.Status);
        Assert.Single(meters.Of(Attempts, ("cairn.upstream.deployment", deployment), ("cairn.upstream.outcome", outcome)));
        Assert.Single(meters.Of(Attempts));
        Assert.Single(meters.Of(Duration, ("cairn.upstream.deployment", deployment), ("error.type", errorType)));
    }

    [Fact]
    public async Task AStreamsAttempt_EndsWhenItsHeadersArrive()
    {
        var model = $"hang-{Marker}";
        using var spans = new SpanRecorder(Marker);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}","stream":true,"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json"),
        };

        using (var response = await fixture.Cairn.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            var stream = await response.Content.ReadAsStreamAsync();
            Assert.True(await stream.ReadAsync(new byte[1024]) > 0); // the first chunk came; the upstream holds the rest

            var attempt = Assert.Single(spans.Children(spans.Create(model)));
            Assert.Equal(200, attempt.GetTagItem("http.response.status_code"));
            Assert.Null(attempt.GetTagItem("error.type"));
        }
        await Upstream.ClientLeft(model).WaitAsync(FakeUpstream.LeaveWait);
    }
}
