using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cairn.Access;
using Cairn.Commands;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// Signing in to the dashboard and reading completions through it puts no key and no prompt text in the log, even at
/// Debug. (The words of a text search are part of the URL, which ASP.NET Core logs at Information when asked to.)
/// </summary>
public sealed class DashboardLogTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task KeysAndPromptText_NeverReachTheLog_WhenUsingTheDashboard_EvenAtDebug()
    {
        var db = folder.File("log.db");
        using var output = new StringWriter();
        using var errors = new StringWriter();
        Assert.Equal(0, await AccessCommands.RunAsync("keys", ["create", "--project", "logs", "--db", db], output, errors));
        var secret = output.ToString().Trim();
        var admin = "admin-" + Guid.NewGuid().ToString("N");
        var variable = "CAIRN_TEST_ADMIN_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, admin);
        const string Prompt = "PROMPT-MARKER-9c2e confidential words";

        using var server = await CairnProcess.StartAsync(db, $"--Auth:AdminKeyEnv={variable}", "--Logging:LogLevel:Default=Debug", "--Logging:LogLevel:Microsoft.AspNetCore=Debug");
        string id;
        using (var http = new HttpClient { BaseAddress = server.BaseUrl })
        {
            using var create = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent($$"""{"model":"echo","store":true,"metadata":{"m":"v"},"messages":[{"role":"user","content":"{{Prompt}}"}]}""", Encoding.UTF8, "application/json"),
                Headers = { Authorization = new AuthenticationHeaderValue("Bearer", secret) },
            };
            using var created = await http.SendAsync(create);
            id = System.Text.Json.Nodes.JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        }
        foreach (var key in new[] { secret, admin })
        {
            using var client = new DashboardClient(server.BaseUrl);
            using (var signIn = await client.SignInAsync(key))
            {
                Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            }
            Assert.Contains("PROMPT-MARKER", await client.Http.GetStringAsync("/dashboard?q=9c2e"), StringComparison.Ordinal);
            Assert.Contains("PROMPT-MARKER", await client.Http.GetStringAsync($"/dashboard/completions/{id}"), StringComparison.Ordinal);
            using (var save = await client.PostFormAsync($"/dashboard/completions/{id}", $"/dashboard/completions/{id}?handler=Metadata", ("key", "m"), ("value", "w")))
            {
                Assert.Equal(HttpStatusCode.Redirect, save.StatusCode);
            }
            Assert.Contains("PROMPT-MARKER", await client.Http.GetStringAsync("/dashboard/export?format=finetune"), StringComparison.Ordinal);
        }
        using (var wrong = new DashboardClient(server.BaseUrl))
        {
            using var refused = await wrong.SignInAsync("sk-cairn-WRONGKEY" + new string('Q', 40));
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        }
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
        var log = server.Output;

        Assert.Contains("dbug:", log, StringComparison.Ordinal);
        Assert.Contains("/dashboard", log, StringComparison.Ordinal); // the dashboard's requests were logged
        Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
        Assert.DoesNotContain(admin, log, StringComparison.Ordinal);
        Assert.DoesNotContain("WRONGKEY", log, StringComparison.Ordinal);
        Assert.DoesNotContain("PROMPT-MARKER", log, StringComparison.Ordinal);
        Assert.DoesNotContain("confidential", log, StringComparison.Ordinal);
    }

    public void Dispose() => folder.Dispose();
}
