using System.Net;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>Requests refused by a project's rate limits are counted by the limit that refused them and by project.</summary>
public sealed class RateLimitMetricsTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    private const string Rejections = "cairn.rate_limit.rejections";
    private const string Completions = "/v1/chat/completions";

    private async Task<string> LimitedKeyAsync(string project, string limits)
    {
        using (var set = await fixture.SendAsync(HttpMethod.Post, "/admin/projects", fixture.AdminKey, $$"""{"name":"{{project}}",{{limits}}}"""))
        {
            Assert.Equal(HttpStatusCode.Created, set.StatusCode);
        }
        return await fixture.CreateKeyAsync($$"""{"project":"{{project}}"}""");
    }

    [Fact]
    public async Task ARefusal_IsCountedByKindAndProject()
    {
        using var meters = new MeterRecorder(fixture.Cairn.Services, Rejections);
        var requestsKey = await LimitedKeyAsync("one-a-minute", "\"requests_per_minute\":1");
        var tokensKey = await LimitedKeyAsync("few-tokens-metered", "\"tokens_per_minute\":100");
        const string Small = """{"model":"echo","messages":[{"role":"user","content":"hi"}]}""";
        var large = $$"""{"model":"echo","messages":[{"role":"user","content":"{{string.Join(' ', Enumerable.Repeat("word", 300))}}"}]}""";

        using var allowed = await fixture.SendAsync(HttpMethod.Post, Completions, requestsKey, Small);
        using var tooMany = await fixture.SendAsync(HttpMethod.Post, Completions, requestsKey, Small);
        using var tooLarge = await fixture.SendAsync(HttpMethod.Post, Completions, tokensKey, large);
        using var unlimited = await fixture.SendAsync(HttpMethod.Post, Completions, fixture.KeyA, Small);

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, tooMany.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.OK, unlimited.StatusCode);
        Assert.Equal(2, meters.Of(Rejections).Count);
        Assert.Equal(1, Assert.Single(meters.Of(Rejections, ("cairn.rate_limit.kind", "requests"), ("cairn.project", "one-a-minute"))).Value);
        Assert.Equal(1, Assert.Single(meters.Of(Rejections, ("cairn.rate_limit.kind", "tokens"), ("cairn.project", "few-tokens-metered"))).Value);
    }
}
