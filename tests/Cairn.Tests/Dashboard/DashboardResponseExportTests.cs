using System.Net;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests.Dashboard;

/// <summary>The dashboard's export downloads stored responses too (<c>objects=responses</c> or <c>all</c>), within the viewer's project.</summary>
public sealed class DashboardResponseExportTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private async Task<string> CreateAsync(string key, string input, string? previous = null)
    {
        using var response = await fixture.ApiAsync(HttpMethod.Post, "/v1/responses", key,
            $$"""{"model":"echo","input":"{{input}}","previous_response_id":{{(previous is null ? "null" : $"\"{previous}\"")}}}""");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["id"]!.GetValue<string>();
    }

    private static List<string> Ids(string jsonl) =>
        [.. jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["id"]?.GetValue<string>() ?? "")];

    [Fact]
    public async Task ObjectsResponses_DownloadsTheProjectsResponses_RawOrAsChains_AndAnUnknownKindIs400()
    {
        var first = await CreateAsync(fixture.KeyA, "dashboard chain one");
        var second = await CreateAsync(fixture.KeyA, "dashboard chain two", first);
        var theirs = await CreateAsync(fixture.KeyB, "dashboard other project");
        using var client = new DashboardClient(fixture.Cairn.BaseUrl);
        using (var signIn = await client.SignInAsync(fixture.KeyA))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }

        using var raw = await client.Http.GetAsync("/dashboard/export?objects=responses&format=raw");
        using var all = await client.Http.GetAsync("/dashboard/export?objects=all&format=raw");
        using var chains = await client.Http.GetAsync("/dashboard/export?objects=responses&format=finetune");
        using var completions = await client.Http.GetAsync("/dashboard/export?format=raw");
        using var unknown = await client.Http.GetAsync("/dashboard/export?objects=chats&format=raw");

        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Matches("^cairn-team-a-responses-raw-[0-9]{8}-[0-9]{6}\\.jsonl$", raw.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
        var ids = Ids(await raw.Content.ReadAsStringAsync());
        Assert.Equal([first, second], ids.Where(id => id == first || id == second));
        Assert.DoesNotContain(theirs, ids);
        var everything = Ids(await all.Content.ReadAsStringAsync());
        Assert.Equal(Ids(await completions.Content.ReadAsStringAsync()), everything[..^ids.Count]);
        Assert.Equal(ids, everything[^ids.Count..]);
        Assert.DoesNotContain(everything, id => id.StartsWith("resp_", StringComparison.Ordinal) && !ids.Contains(id));
        var chain = Assert.Single((await chains.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["user", "assistant", "user", "assistant"], JsonNode.Parse(chain)!["messages"]!.AsArray().Select(m => m!["role"]!.GetValue<string>()));
        Assert.Contains("dashboard chain two", chain, StringComparison.Ordinal);
        Assert.DoesNotContain(Ids(await completions.Content.ReadAsStringAsync()), id => id.StartsWith("resp_", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("objects=completions, objects=responses or objects=all", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
