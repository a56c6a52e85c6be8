using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>Cairn in front of an upstream that misbehaves, with small answer and event limits.</summary>
public sealed class UpstreamLimitsFixture : IAsyncLifetime
{
    public FakeUpstream Upstream { get; } = new();

    public CairnServer Cairn { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Upstream.InitializeAsync();
        Cairn = await CairnServer.StartAsync(
            "--Models:0:Id=*", "--Models:0:Provider=openai", $"--Models:0:BaseUrl={Upstream.BaseUrl.ToString().TrimEnd('/')}/v1",
            "--Models:0:MaxAnswerBytes=65536", "--Models:0:MaxEventBytes=16384",
            "--Models:0:MaxRetries=2", "--Models:0:MaxRetryDelaySeconds=0.05", "--Models:0:TimeoutSeconds=10");
    }

    public async Task DisposeAsync()
    {
        await Cairn.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// What an upstream sends is bounded: a whole answer (<c>MaxAnswerBytes</c>), one stream event (<c>MaxEventBytes</c>)
/// and a stream's assembled answer (<c>MaxAnswerBytes</c>); text that is not valid Unicode is refused. Each gets
/// an OpenAI-style error (502, or an error event then <c>[DONE]</c>), never a 500, and nothing is stored.
/// </summary>
public sealed class UpstreamLimitsTests(UpstreamLimitsFixture fixture) : IClassFixture<UpstreamLimitsFixture>
{
    private const string Completions = "/v1/chat/completions";

    private static string Unique(string behaviour) => $"{behaviour}-{Guid.NewGuid():N}";

    private static string Request(string model, bool stream) =>
        $$"""{"model":"{{model}}","store":true,"metadata":{"case":"{{model}}"},"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say hello"}]}""";

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string model, bool stream)
    {
        using var response = await fixture.Cairn.PostJsonAsync(Completions, Request(model, stream));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task AssertNotStoredAsync(string model)
    {
        var list = await fixture.Cairn.Http.GetStringAsync($"{Completions}?limit=100");
        Assert.DoesNotContain(model, list, StringComparison.Ordinal);
    }

    /// <summary>The stream's last event before <c>[DONE]</c>: Cairn's error.</summary>
    private static JsonNode StreamError(string body)
    {
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        return JsonNode.Parse(events[^2]["data: ".Length..])!["error"]!;
    }

    [Theory]
    [InlineData("huge")]
    [InlineData("huge-length")]
    public async Task AWholeAnswerLargerThanMaxAnswerBytes_Gives502NamingTheLimit_AndIsNotRetriedOrStored(string behaviour)
    {
        var model = Unique(behaviour);

        var (status, body) = await PostAsync(model, stream: false);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal("upstream_too_large", error["code"]!.GetValue<string>());
        Assert.Contains("65536 bytes", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("Models:0:MaxAnswerBytes", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(fixture.Upstream.For(model));
        await AssertNotStoredAsync(model);
    }

    [Fact]
    public async Task AStreamThatNeverEnds_EndsWithAnErrorEvent_AtMaxAnswerBytes_AndFreesTheUpstream()
    {
        var model = Unique("flood");

        var (status, body) = await PostAsync(model, stream: true);

        Assert.Equal(HttpStatusCode.OK, status);
        var error = StreamError(body);
        Assert.Equal("upstream_too_large", error["code"]!.GetValue<string>());
        Assert.Contains("Models:0:MaxAnswerBytes", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        // About 64 KiB of text was relayed before the limit, not the endless rest.
        Assert.InRange(body.Length, 60_000, 200_000);
        await fixture.Upstream.ClientLeft(model).WaitAsync(FakeUpstream.LeaveWait);
        await AssertNotStoredAsync(model);
    }

    [Theory]
    [InlineData("huge")]     // one 256 KiB event
    [InlineData("noblank")]  // data lines that never end their event
    [InlineData("longline")] // one line that never ends
    public async Task AStreamEventLargerThanMaxEventBytes_EndsTheStreamWithAnErrorEvent(string behaviour)
    {
        var model = Unique(behaviour);

        var (status, body) = await PostAsync(model, stream: true);

        Assert.Equal(HttpStatusCode.OK, status);
        var error = StreamError(body);
        Assert.Equal("upstream_too_large", error["code"]!.GetValue<string>());
        Assert.Contains("16384 bytes", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("Models:0:MaxEventBytes", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await AssertNotStoredAsync(model);
    }

    [Theory]
    [InlineData("badutf8")]
    [InlineData("surrogate")]
    public async Task AnAnswerWithTextThatIsNotUnicode_Gives502_NotA500_AndIsNotStored(string behaviour)
    {
        var model = Unique(behaviour);

        var (status, body) = await PostAsync(model, stream: false);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("upstream_malformed", JsonNode.Parse(body)!["error"]!["code"]!.GetValue<string>());
        await AssertNotStoredAsync(model);
    }

    [Theory]
    [InlineData("badutf8")]
    [InlineData("surrogate")]
    public async Task AStreamEventWithTextThatIsNotUnicode_EndsTheStreamWithAnErrorEvent_AndIsNotStored(string behaviour)
    {
        var model = Unique(behaviour);

        var (status, body) = await PostAsync(model, stream: true);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("upstream_malformed", StreamError(body)["code"]!.GetValue<string>());
        await AssertNotStoredAsync(model);
    }

    [Fact]
    public async Task AnswersWithinTheLimits_AreRelayedAndStored()
    {
        var whole = Unique("answer");
        var streamed = Unique("tools");

        var (wholeStatus, wholeBody) = await PostAsync(whole, stream: false);
        var (streamStatus, streamBody) = await PostAsync(streamed, stream: true);

        Assert.Equal(HttpStatusCode.OK, wholeStatus);
        Assert.Contains("Hello from upstream", wholeBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, streamStatus);
        Assert.EndsWith("data: [DONE]\n\n", streamBody, StringComparison.Ordinal);
        Assert.DoesNotContain("\"error\"", streamBody, StringComparison.Ordinal);
        var list = await fixture.Cairn.Http.GetStringAsync($"{Completions}?limit=100");
        Assert.Contains(whole, list, StringComparison.Ordinal);
        Assert.Contains(streamed, list, StringComparison.Ordinal);
    }
}
