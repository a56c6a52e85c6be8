using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Cairn.Tests.Dashboard;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// Wrong keys are counted per client address (here <c>Auth:FailedAttemptsPerMinute=3</c>): past the limit, every
/// authentication from that address gets 429 with <c>Retry-After</c>, the right key included, on <c>/v1</c>,
/// <c>/admin</c> and the dashboard's sign-in; another address (127.0.0.2) is not affected.
/// </summary>
public sealed class FailedAuthThrottleTests : IAsyncLifetime
{
    private const string Wrong = "sk-cairn-WRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWR";
    private readonly string adminKey = "admin-" + Guid.NewGuid().ToString("N");
    private CairnServer server = null!;
    private string key = null!;

    public async Task InitializeAsync()
    {
        var variable = "CAIRN_TEST_ADMIN_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, adminKey);
        server = await CairnServer.StartAsync($"--Auth:AdminKeyEnv={variable}", "--Auth:FailedAttemptsPerMinute=3");
        using var created = await SendAsync(server.Http, HttpMethod.Post, "/admin/keys", adminKey, """{"project":"p"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        key = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["value"]!.GetValue<string>();
    }

    [Fact]
    public async Task WrongApiKeys_PastTheLimit_Get429_EvenWithTheRightKey_FromThatAddressOnly()
    {
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await SendAsync(server.Http, HttpMethod.Get, "/v1/models", Wrong);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using var limited = await SendAsync(server.Http, HttpMethod.Get, "/v1/models", Wrong);
        using var rightButLimited = await SendAsync(server.Http, HttpMethod.Get, "/v1/models", key);
        using var other = FromAddress("127.0.0.2");
        using var otherRight = await SendAsync(other, HttpMethod.Get, "/v1/models", key);
        using var otherWrong = await SendAsync(other, HttpMethod.Get, "/v1/models", Wrong);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        var error = JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("too_many_failed_attempts", error["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.TooManyRequests, rightButLimited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherRight.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, otherWrong.StatusCode);
    }

    [Fact]
    public async Task RequestsWithoutAKey_AreNotGuesses()
    {
        for (var i = 0; i < 5; i++)
        {
            using var none = await server.Http.GetAsync("/v1/models");
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }
        using var right = await SendAsync(server.Http, HttpMethod.Get, "/v1/models", key);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task WrongAdminKeys_PastTheLimit_Get429()
    {
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await SendAsync(server.Http, HttpMethod.Get, "/admin/projects", "admin-wrong-wrong-wrong-wrong");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using var limited = await SendAsync(server.Http, HttpMethod.Get, "/admin/projects", adminKey);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
    }

    [Fact]
    public async Task WrongDashboardSignIns_PastTheLimit_Get429_EvenWithTheRightKey()
    {
        using var dashboard = new DashboardClient(server.BaseUrl);
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await dashboard.SignInAsync(Wrong);
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
            Assert.Contains("not a valid API key", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var limited = await dashboard.SignInAsync(key);

        Assert.True(limited.StatusCode == HttpStatusCode.TooManyRequests, $"{limited.StatusCode} {await limited.Content.ReadAsStringAsync()}");
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Contains("Too many wrong keys", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(limited.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("cairn_dashboard=", StringComparison.Ordinal)));
    }

    /// <summary>A client whose connections come from another loopback address (all of 127.0.0.0/8 is this machine).</summary>
    private HttpClient FromAddress(string local) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(local), 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = server.BaseUrl };

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string key, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        return await http.SendAsync(request);
    }

    public async Task DisposeAsync() => await server.DisposeAsync();
}
