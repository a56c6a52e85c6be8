using System.Net;
using Microsoft.Playwright;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser (headless Chromium): signing in with a project key and the admin key, the list's
/// filters and paging, a completion's page, editing metadata, deleting with confirmation, and the overview.
/// </summary>
public sealed class DashboardBrowserTests(DashboardFixture fixture, Browser browser) : IClassFixture<DashboardFixture>, IClassFixture<Browser>
{
    private async Task<IPage> SignedInAsync(string key)
    {
        var page = await browser.NewPageAsync(fixture.Cairn.BaseUrl);
        await page.GotoAsync("/dashboard");
        Assert.EndsWith("/dashboard/sign-in?return=%2Fdashboard", page.Url, StringComparison.Ordinal);
        await page.FillAsync("#key", key);
        await Browser.ClickToNavigateAsync(page, "button[type=submit]");
        await page.WaitForURLAsync("**/dashboard");
        return page;
    }

    private static async Task<List<string>> RowIdsAsync(IPage page) =>
        [.. await page.Locator("#completions tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)")];

    [Fact]
    public async Task SigningInWithAProjectKey_ShowsThatProjectsCompletions_NewestFirst()
    {
        var page = await SignedInAsync(fixture.KeyA);
        var ids = await RowIdsAsync(page);

        Assert.Equal(fixture.A.Select(a => a.Id).Reverse().Prepend(fixture.Rich).ToList(), ids.Where(id => id == fixture.Rich || fixture.A.Any(a => a.Id == id)).ToList());
        Assert.DoesNotContain(ids, fixture.B.Contains);
        Assert.Contains("Project · team-a", await page.InnerTextAsync(".topbar"), StringComparison.Ordinal);
        var first = page.Locator($"tr[data-id='{fixture.A[^1].Id}']");
        Assert.Contains("Question number 5 about search", await first.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("topic", await first.Locator(".tags").InnerTextAsync(), StringComparison.Ordinal);
        await Browser.ScreenshotAsync(page, "list");
    }

    [Fact]
    public async Task SigningInWithTheAdminKey_ShowsEveryProject_AndTheProjectFilterNarrowsIt()
    {
        var page = await SignedInAsync(fixture.AdminKey);
        await page.GotoAsync("/dashboard?key=topic&value=billing");
        var ids = await RowIdsAsync(page);
        Assert.Contains(fixture.B[0], ids);
        Assert.Contains(fixture.A[0].Id, ids);
        Assert.Contains("Admin · all projects", await page.InnerTextAsync(".topbar"), StringComparison.Ordinal);

        await page.SelectOptionAsync("#filter-project", "team-b");
        await Browser.ClickToNavigateAsync(page, "#apply-filters");
        await page.WaitForURLAsync("**project=team-b**");
        Assert.Equal(fixture.B.AsEnumerable().Reverse().ToList(), (await RowIdsAsync(page)).Where(fixture.B.Contains).ToList());
        Assert.DoesNotContain(fixture.A[0].Id, await RowIdsAsync(page));
    }

    [Fact]
    public async Task SigningInWithAWrongKey_SaysSo_AndSigningOutEndsTheSession()
    {
        var page = await browser.NewPageAsync(fixture.Cairn.BaseUrl);
        await page.GotoAsync("/dashboard/sign-in");
        await Browser.ScreenshotAsync(page, "sign-in");
        await page.FillAsync("#key", "sk-cairn-not-a-real-key-000000000000000000000000000000");
        await Browser.ClickToNavigateAsync(page, "button[type=submit]");
        Assert.Contains("not a valid API key", await page.InnerTextAsync(".alert-error"), StringComparison.Ordinal);

        page = await SignedInAsync(fixture.KeyA);
        await Browser.ClickToNavigateAsync(page, "#sign-out");
        await page.WaitForURLAsync("**/dashboard/sign-in");
        await page.GotoAsync("/dashboard");
        Assert.Contains("/dashboard/sign-in", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filters_ByModelMetadataTimeRangeAndText_NarrowTheList()
    {
        var page = await SignedInAsync(fixture.KeyA);

        await page.SelectOptionAsync("#filter-model", "other");
        await Browser.ClickToNavigateAsync(page, "#apply-filters");
        await page.WaitForURLAsync("**model=other**");
        Assert.Equal(fixture.A.Where(a => a.Model == "other").Select(a => a.Id).Reverse().ToList(), await RowIdsAsync(page));

        await Browser.ClickToNavigateAsync(page, "#clear-filters");
        await page.FillAsync("#filter-key", "topic");
        await page.FillAsync("#filter-value", "search");
        await Browser.ClickToNavigateAsync(page, "#apply-filters");
        await page.WaitForURLAsync("**key=topic**");
        Assert.Equal(fixture.A.Where(a => a.Topic == "search").Select(a => a.Id).Reverse().ToList(), await RowIdsAsync(page));

        // A metadata tag in a row filters by its pair.
        await Browser.ClickToNavigateAsync(page, "#clear-filters");
        await Browser.ClickToNavigateAsync(page, page.Locator($"tr[data-id='{fixture.Rich}'] .tag", new() { HasText = "alice" }));
        await page.WaitForURLAsync("**value=alice**");
        Assert.Equal([fixture.Rich], await RowIdsAsync(page));

        await Browser.ClickToNavigateAsync(page, "#clear-filters");
        await page.FillAsync("#filter-text", "penguins3");
        await Browser.ClickToNavigateAsync(page, "#apply-filters");
        await page.WaitForURLAsync("**q=penguins3**");
        Assert.Equal([fixture.A[3].Id], await RowIdsAsync(page));
        await page.FillAsync("#filter-text", "FJORD trip");
        await Browser.ClickToNavigateAsync(page, "#apply-filters");
        await page.WaitForURLAsync("**q=FJORD**");
        Assert.Equal([fixture.Rich], await RowIdsAsync(page));

        var now = DateTime.UtcNow;
        await Browser.ClickToNavigateAsync(page, "#clear-filters");
        await page.FillAsync("#filter-from", now.AddHours(-1).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await page.FillAsync("#filter-to", now.AddHours(1).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await Browser.ClickToNavigateAsync(page, "#apply-filters");
        await page.WaitForURLAsync("**from=**");
        Assert.Contains(fixture.A[0].Id, await RowIdsAsync(page));
        await Browser.ScreenshotAsync(page, "list-filtered");
        await page.FillAsync("#filter-from", now.AddHours(2).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await page.FillAsync("#filter-to", now.AddHours(3).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await Browser.ClickToNavigateAsync(page, "#apply-filters");
        await page.WaitForSelectorAsync("#empty");
        Assert.Empty(await RowIdsAsync(page));
    }

    [Fact]
    public async Task Paging_OlderThenNewer_VisitsEveryCompletionOnceInOrder()
    {
        var key = await fixture.CreateKeyAsync("""{"project":"paging"}""");
        var ids = new List<string>();
        for (var i = 0; i < 120; i++)
        {
            ids.Add(await fixture.CreateRawAsync(key, $$"""{"model":"echo","store":true,"messages":[{"role":"user","content":"page row {{i}}"}]}"""));
        }
        ids.Reverse();
        var page = await SignedInAsync(key);

        var seen = new List<string>(await RowIdsAsync(page));
        Assert.Equal(0, await page.Locator("#page-newer").CountAsync());
        while (await page.Locator("#page-older").CountAsync() > 0)
        {
            await Browser.ClickToNavigateAsync(page, "#page-older");
            await page.WaitForURLAsync("**before=**");
            seen.AddRange(await RowIdsAsync(page));
        }
        Assert.Equal(ids, seen);

        await Browser.ClickToNavigateAsync(page, "#page-newer");
        await page.WaitForURLAsync("**after=**");
        Assert.Equal(ids.Skip(50).Take(50).ToList(), await RowIdsAsync(page));
        await Browser.ClickToNavigateAsync(page, "#page-newest");
        await page.WaitForURLAsync(url => !url.Contains("after=", StringComparison.Ordinal));
        Assert.Equal(ids.Take(50).ToList(), await RowIdsAsync(page));
    }

    [Fact]
    public async Task ACompletionsPage_ShowsTheConversationAsBubbles_ToolCallsAsJson_ImagesAndParameters()
    {
        var page = await SignedInAsync(fixture.KeyA);
        await Browser.ClickToNavigateAsync(page, page.Locator($"tr[data-id='{fixture.Rich}'] a.preview"));
        await page.WaitForURLAsync($"**/dashboard/completions/{fixture.Rich}");

        var roles = await page.Locator(".conversation .bubble").EvaluateAllAsync<string[]>("b => b.map(x => x.dataset.role)");
        Assert.Equal(["system", "developer", "user", "assistant", "tool", "user", "answer"], roles);
        var call = await page.InnerTextAsync(".bubble-assistant .tool-call");
        Assert.Contains("get_weather", call, StringComparison.Ordinal);
        Assert.Contains("\"city\": \"Oslo\",\n  \"unit\": \"celsius\"", call, StringComparison.Ordinal);
        Assert.Equal(FixturePixel, await page.GetAttributeAsync(".bubble-user img", "src"));
        Assert.Contains("answers call_1", await page.InnerTextAsync(".bubble-tool"), StringComparison.Ordinal);
        Assert.Contains("Thanks! Summarise it for a fjord trip.", await page.InnerTextAsync(".bubble-answer"), StringComparison.Ordinal);
        var parameters = await page.InnerTextAsync("#parameters");
        Assert.Contains("0.2", parameters, StringComparison.Ordinal);
        Assert.Contains("7", parameters, StringComparison.Ordinal);
        Assert.Contains("prompt tokens", (await page.InnerTextAsync("#usage")).ToLowerInvariant(), StringComparison.Ordinal);
        Assert.Matches("^[0-9,]+ ms$", await page.InnerTextAsync("#latency"));
        await Browser.ScreenshotAsync(page, "completion");
    }

    private static readonly string FixturePixel = DashboardFixture.Pixel;

    [Fact]
    public async Task EditingMetadata_SavesItThroughTheStore_AsTheApiSeesIt()
    {
        var id = await fixture.CreateRawAsync(fixture.KeyA, """{"model":"echo","store":true,"metadata":{"stage":"draft","drop":"me"},"messages":[{"role":"user","content":"edit me"}]}""");
        var page = await SignedInAsync(fixture.KeyA);
        await page.GotoAsync($"/dashboard/completions/{id}");

        await page.Locator("#metadata-form input[name=value]").Nth(0).FillAsync("final");
        await page.Locator("#metadata-form input[name=key]").Nth(1).FillAsync("");
        await page.Locator("#metadata-form input[name=value]").Nth(1).FillAsync("");
        await page.Locator("#metadata-form input[name=key]").Nth(2).FillAsync("reviewer");
        await page.Locator("#metadata-form input[name=value]").Nth(2).FillAsync("bob");
        await Browser.ClickToNavigateAsync(page, "#save-metadata");
        await page.WaitForSelectorAsync("#saved-notice");

        using var stored = await fixture.ApiAsync(HttpMethod.Get, $"/v1/chat/completions/{id}", fixture.KeyA);
        var metadata = System.Text.Json.Nodes.JsonNode.Parse(await stored.Content.ReadAsStringAsync())!["metadata"]!.ToJsonString();
        Assert.Equal("""{"stage":"final","reviewer":"bob"}""", metadata);

        // The API's limits hold here too: a key of 65 characters is refused with the API's message.
        await page.Locator("#metadata-form input[name=key]").Nth(2).FillAsync(new string('k', 65));
        await page.Locator("#metadata-form input[name=value]").Nth(2).FillAsync("x");
        await Browser.ClickToNavigateAsync(page, "#save-metadata");
        Assert.Contains("metadata", await page.InnerTextAsync("#metadata-error"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_AsksForConfirmation_ThenDeletes()
    {
        var id = await fixture.CreateRawAsync(fixture.KeyA, """{"model":"echo","store":true,"messages":[{"role":"user","content":"delete me"}]}""");
        var page = await SignedInAsync(fixture.KeyA);
        await page.GotoAsync($"/dashboard/completions/{id}");

        Assert.False(await page.IsVisibleAsync("#delete-confirm"));
        await page.ClickAsync("#delete-open");
        Assert.True(await page.IsVisibleAsync("#delete-confirm"));
        await Browser.ClickToNavigateAsync(page, "#delete-confirm");
        await page.WaitForURLAsync("**/dashboard?deleted=**");
        Assert.Contains(id, await page.InnerTextAsync("#deleted-notice"), StringComparison.Ordinal);
        Assert.DoesNotContain(id, await RowIdsAsync(page));

        using var gone = await fixture.ApiAsync(HttpMethod.Get, $"/v1/chat/completions/{id}", fixture.KeyA);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task TheOverview_ChartsRequestsAndTokensPerModel()
    {
        var page = await SignedInAsync(fixture.AdminKey);
        await Browser.ClickToNavigateAsync(page, ".tabs a:has-text('Overview')");
        await page.WaitForURLAsync("**/dashboard/overview");

        Assert.Equal(2, await page.Locator("svg.chart").CountAsync());
        Assert.True(await page.Locator("svg.chart rect").CountAsync() >= 2);
        var totals = await page.InnerTextAsync("#model-totals");
        Assert.Contains("echo", totals, StringComparison.Ordinal);
        Assert.Contains("other", totals, StringComparison.Ordinal);
        await Browser.ScreenshotAsync(page, "overview");

        await Browser.ClickToNavigateAsync(page, "#range-24h");
        await page.WaitForURLAsync("**range=24h**");
        Assert.Equal(2, await page.Locator("svg.chart").CountAsync());
    }

    [Fact]
    public async Task TheExportButton_DownloadsTheCurrentFilterAsJsonl()
    {
        var page = await SignedInAsync(fixture.KeyA);
        await page.FillAsync("#filter-key", "topic");
        await page.FillAsync("#filter-value", "billing");
        await Browser.ClickToNavigateAsync(page, "#apply-filters");
        await page.WaitForURLAsync("**key=topic**");

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-raw"));
        Assert.StartsWith("cairn-team-a-raw-", download.SuggestedFilename, StringComparison.Ordinal);
        var lines = (await File.ReadAllLinesAsync((await download.PathAsync())!)).Where(l => l.Length > 0).ToList();
        Assert.Equal(fixture.A.Where(a => a.Topic == "billing").Select(a => a.Id).Order(StringComparer.Ordinal),
            lines.Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-finetune"));
        Assert.Contains("-finetune-", download.SuggestedFilename, StringComparison.Ordinal);
        Assert.All((await File.ReadAllLinesAsync((await download.PathAsync())!)).Where(l => l.Length > 0),
            l => Assert.NotNull(System.Text.Json.Nodes.JsonNode.Parse(l)!["messages"]));
    }
}
