using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// Keys for a test's own server: an admin key in an environment variable named for that server alone (so other test
/// servers stay open), and project keys made through the admin API.
/// </summary>
public static class TestKeys
{
    /// <summary>A new admin key, and the setting that gives it to a server (<c>--Auth:AdminKeyEnv=…</c>).</summary>
    public static (string Setting, string Key) Admin()
    {
        var variable = "CAIRN_TEST_ADMIN_" + Guid.NewGuid().ToString("N");
        var key = "admin-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, key);
        return ($"--Auth:AdminKeyEnv={variable}", key);
    }

    /// <summary>A request carrying <paramref name="key"/> as a bearer token.</summary>
    public static HttpRequestMessage Request(HttpMethod method, string path, string key) =>
        new(method, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", key) } };

    /// <summary>Makes a key of <paramref name="project"/> (made if new) and returns its secret.</summary>
    public static async Task<string> CreateAsync(CairnServer server, string adminKey, string project)
    {
        using var request = Request(HttpMethod.Post, "/admin/keys", adminKey);
        request.Content = new StringContent($$"""{"project":"{{project}}","name":"test"}""", Encoding.UTF8, "application/json");
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["value"]!.GetValue<string>();
    }
}
