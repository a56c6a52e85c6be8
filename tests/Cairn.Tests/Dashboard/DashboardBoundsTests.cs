using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cairn.Access;
using Cairn.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// The dashboard stays bounded and tells nothing of other projects: a large completion's page is cut (and says so)
/// with its full JSON a link away in the same isolation, list cursors are completion ids of the project shown, and
/// model names cannot reorder or push away the text around them.
/// </summary>
public sealed partial class DashboardBoundsTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private async Task<DashboardClient> SignedInAsync(string key)
    {
        var client = new DashboardClient(fixture.Cairn.BaseUrl);
        using var response = await client.SignInAsync(key);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    private static List<string> RowIds(string page) => [.. RowId().Matches(page).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("<tr data-id=\"([^\"]+)\"")]
    private static partial Regex RowId();

    [Fact]
    public async Task ALargeCompletionsPage_IsCut_SaysSo_AndLinksItsFullJson_InTheSameProjectOnly()
    {
        // Before, one large completion made a page of 1.08 GB of HTML.
        var text = string.Concat(Enumerable.Repeat("A long question about fjords. ", 100_000));
        var id = await fixture.CreateRawAsync(fixture.KeyA, new JsonObject
        {
            ["model"] = "echo",
            ["store"] = true,
            ["n"] = 8,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }),
        }.ToJsonString());
        using var a = await SignedInAsync(fixture.KeyA);
        using var b = await SignedInAsync(fixture.KeyB);

        var page = await a.Http.GetStringAsync($"/dashboard/completions/{id}");
        using var json = await a.Http.GetAsync($"/dashboard/completions/{id}?handler=Json");
        using var messages = await a.Http.GetAsync($"/dashboard/completions/{id}?handler=Messages");
        using var stored = await fixture.ApiAsync(HttpMethod.Get, $"/v1/chat/completions/{id}", fixture.KeyA);
        using var theirs = await b.Http.GetAsync($"/dashboard/completions/{id}?handler=Json");
        using var theirMessages = await b.Http.GetAsync($"/dashboard/completions/{id}?handler=Messages");

        Assert.InRange(page.Length, 1, 1_000_000);
        Assert.Contains("id=\"cut-notice\"", page, StringComparison.Ordinal);
        Assert.Contains("more characters not shown", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"/dashboard/completions/{id}?handler=Json\"", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal("application/json", json.Content.Headers.ContentType!.MediaType);
        Assert.Equal(await stored.Content.ReadAsByteArrayAsync(), await json.Content.ReadAsByteArrayAsync());
        var input = JsonNode.Parse(await messages.Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal(text, input.Single()!["content"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, theirMessages.StatusCode);
        Assert.DoesNotContain("fjords", await theirs.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListCursors_AreCompletionIdsOfTheProject_AndAnotherProjectsIdOrASeqIsNoCursor()
    {
        // Before, before=/after= were global sequence numbers: a project could count other projects' completions.
        var project = await fixture.Cairn.Services.GetRequiredService<IAccessStore>().EnsureProjectAsync("paging", default);
        var store = fixture.Cairn.Services.GetRequiredService<ICompletionStore>();
        var ids = new List<string>();
        for (var i = 0; i < 55; i++)
        {
            var id = Cairn.OpenAI.Ids.Completion();
            await store.AddAsync(new StoredCompletion(project.Id, id, "echo", DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","model":"echo","choices":[]}"""), new Dictionary<string, string>(), []), default);
            ids.Add(id);
        }
        var key = await fixture.CreateKeyAsync("""{"project":"paging"}""");
        using var client = await SignedInAsync(key);

        var newest = await client.Http.GetStringAsync("/dashboard");
        var older = OlderLink().Match(newest);
        var second = await client.Http.GetStringAsync(WebUtility.HtmlDecode(older.Groups[1].Value));
        var newer = NewerLink().Match(second);
        var back = await client.Http.GetStringAsync(WebUtility.HtmlDecode(newer.Groups[1].Value));
        var otherProjects = await client.Http.GetStringAsync($"/dashboard?before={fixture.B[0]}");
        var seq = await client.Http.GetStringAsync("/dashboard?before=1000000");

        Assert.Equal(Enumerable.Reverse(ids).Take(50), RowIds(newest));
        Assert.Equal($"/dashboard?before={ids[5]}", older.Groups[1].Value);
        Assert.Equal(Enumerable.Reverse(ids[..5]), RowIds(second));
        Assert.Equal($"/dashboard?after={ids[4]}", newer.Groups[1].Value);
        Assert.Equal(Enumerable.Reverse(ids[5..]), RowIds(back));
        Assert.Equal(RowIds(newest), RowIds(otherProjects));
        Assert.Equal(RowIds(newest), RowIds(seq));
        Assert.DoesNotMatch("(before|after)=[0-9]", newest + second + back);
    }

    [GeneratedRegex("href=\"([^\"]*)\" id=\"page-older\"")]
    private static partial Regex OlderLink();

    [GeneratedRegex("href=\"([^\"]*)\" id=\"page-newer\"")]
    private static partial Regex NewerLink();

    [Fact]
    public async Task ModelNames_WithBidiControls_AreShownEscaped_AndIsolated_AndLongOnesCarryTheirTitle()
    {
        var project = await fixture.Cairn.Services.GetRequiredService<IAccessStore>().EnsureProjectAsync("bidi", default);
        var store = fixture.Cairn.Services.GetRequiredService<ICompletionStore>();
        var longName = "model-" + new string('x', 300);
        foreach (var model in (string[])["gpt\u202Eevil.exe", longName])
        {
            var id = Cairn.OpenAI.Ids.Completion();
            var body = new JsonObject { ["id"] = id, ["model"] = model, ["choices"] = new JsonArray() }.ToJsonString();
            await store.AddAsync(new StoredCompletion(project.Id, id, model, DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                Encoding.UTF8.GetBytes(body), new Dictionary<string, string>(), []), default);
        }
        var key = await fixture.CreateKeyAsync("""{"project":"bidi"}""");
        using var client = await SignedInAsync(key);

        var list = await client.Http.GetStringAsync("/dashboard");

        Assert.DoesNotContain("\u202E", list, StringComparison.Ordinal);
        Assert.Contains("<span class=\"model\" dir=\"auto\" title=\"gpt[U&#x2B;202E]evil.exe\">gpt[U&#x2B;202E]evil.exe</span>", list, StringComparison.Ordinal);
        Assert.Contains($"title=\"{longName}\"", list, StringComparison.Ordinal);
        Assert.Contains(">gpt[U&#x2B;202E]evil.exe</option>", list, StringComparison.Ordinal);
    }
}
