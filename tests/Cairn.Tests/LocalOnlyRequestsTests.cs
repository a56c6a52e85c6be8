using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// While authentication is off (no keys), a request must name Cairn by a loopback host, and a web page's request
/// (its Origin) must come from a loopback origin: a DNS-rebound name or another site's page gets a 403 envelope.
/// </summary>
public sealed class LocalOnlyRequestsTests(CairnServer server) : IClassFixture<CairnServer>
{
    [Theory]
    [InlineData("/v1/models")]
    [InlineData("/dashboard")]
    [InlineData("/health")]
    public async Task AHostThatIsNotLoopback_IsRefused(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "rebound.example:8080";
        using var response = await server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("host_not_allowed", error["code"]!.GetValue<string>());
        Assert.Contains("Host header", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("localhost:1234")]
    [InlineData("LOCALHOST")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("[::1]:8080")]
    public async Task LoopbackHosts_AreServed(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Host = host;
        using var response = await server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("https://attacker.example")]
    [InlineData("http://192.168.1.10:3000")]
    [InlineData("null")]
    public async Task APageOfAnotherOrigin_CannotPostCompletions(string origin)
    {
        using var response = await PostFromAsync(origin);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("origin_not_allowed", error["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("http://localhost:3000")]
    [InlineData("http://127.0.0.1:5173")]
    [InlineData("http://[::1]:8000")]
    public async Task APageOfALoopbackOrigin_MayPostCompletions(string origin)
    {
        using var response = await PostFromAsync(origin);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task WithAuthenticationOn_OtherHostsAndOriginsAreServed()
    {
        var variable = "CAIRN_TEST_ADMIN_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "admin-" + Guid.NewGuid().ToString("N"));
        var open = await CairnServer.StartAsync($"--Auth:AdminKeyEnv={variable}");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/health");
            request.Headers.Host = "cairn.example.com";
            request.Headers.Add("Origin", "https://app.example.com");
            using var response = await open.Http.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            await open.DisposeAsync();
        }
    }

    private async Task<HttpResponseMessage> PostFromAsync(string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"echo","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", origin);
        return await server.Http.SendAsync(request);
    }
}
