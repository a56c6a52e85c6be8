using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// Stored responses in a real browser (headless Chromium): the Responses tab's list, its filters and paging, a
/// response's page with its chain as a conversation, editing metadata, and deleting after a confirmation.
/// </summary>
public sealed class ResponsesDashboardBrowserTests(ResponsesDashboardFixture fixture, Browser browser)
    : IClassFixture<ResponsesDashboardFixture>, IClassFixture<Browser>
{
    private async Task<IPage> SignedInAsync(string key)
    {
        var page = await browser.NewPageAsync(fixture.Cairn.BaseUrl);
        await page.GotoAsync("/dashboard/responses");
        Assert.EndsWith("/dashboard/sign-in?return=%2Fdashboard%2Fresponses", page.Url, StringComparison.Ordinal);
        await page.FillAsync("#key", key);
        await Browser.ClickToNavigateAsync(page, "button[type=submit]");
        await page.WaitForURLAsync("**/dashboard/responses");
        return page;
    }

    private static async Task<List<string>> RowIdsAsync(IPage page) =>
        [.. await page.Locator("#responses tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)")];

    private static Task<string[]> RolesAsync(IPage page) =>
        page.Locator(".conversation .bubble").EvaluateAllAsync<string[]>("b => b.map(x => x.dataset.role + (x.dataset.output ? ':output' : ''))");

    [Fact]
    public async Task TheResponsesTab_ListsTheProjectsResponses_NewestFirst_WithPreviewsStatusAndTokens()
    {
        var page = await SignedInAsync(fixture.KeyA);
        await Browser.ClickToNavigateAsync(page, "#tab-completions");
        await page.WaitForURLAsync("**/dashboard");
        await Browser.ClickToNavigateAsync(page, "#tab-responses");
        await page.WaitForURLAsync("**/dashboard/responses");

        var ids = await RowIdsAsync(page);
        Assert.Equal(Enumerable.Reverse(fixture.AllOfA).ToList(), ids.Where(fixture.AllOfA.Contains).ToList());
        Assert.DoesNotContain(ids, fixture.B.Contains);
        Assert.Contains("active", await page.GetAttributeAsync("#tab-responses", "class"), StringComparison.Ordinal);
        var question = await page.Locator($"tr[data-id='{fixture.Question}']").InnerTextAsync();
        Assert.Contains("What is the weather in Oslo, and the time?", question, StringComparison.Ordinal);
        Assert.Contains("""get_weather({"city":"Paris"})""", question, StringComparison.Ordinal);
        Assert.Contains("completed", question, StringComparison.Ordinal);
        var answer = await page.Locator($"tr[data-id='{fixture.Answer}']").InnerTextAsync();
        Assert.Contains("10:00 CET", answer, StringComparison.Ordinal);
        Assert.Contains("Hello from upstream", answer, StringComparison.Ordinal);
        Assert.Matches("[0-9]+ → [0-9]+", await page.Locator($"tr[data-id='{fixture.Answer}'] .col-tokens").InnerTextAsync());
        Assert.Contains("alice", await page.Locator($"tr[data-id='{fixture.Question}'] .tags").InnerTextAsync(), StringComparison.Ordinal);
        await Browser.ScreenshotAsync(page, "responses");
    }

    [Fact]
    public async Task Filters_ByModelAndMetadata_NarrowTheList_AndATagFiltersByItsPair()
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

        await Browser.ClickToNavigateAsync(page, "#clear-filters");
        await Browser.ClickToNavigateAsync(page, page.Locator($"tr[data-id='{fixture.Question}'] .tag", new() { HasText = "alice" }));
        await page.WaitForURLAsync("**value=alice**");
        Assert.Equal([fixture.Question], await RowIdsAsync(page));

        await page.GotoAsync("/dashboard/responses?model=no-such-model");
        await page.WaitForSelectorAsync("#empty");
        Assert.Empty(await RowIdsAsync(page));
    }

    [Fact]
    public async Task Paging_OlderThenNewer_VisitsEveryResponseOnceInOrder()
    {
        var key = await fixture.CreateKeyAsync("""{"project":"responses-paging"}""");
        var ids = new List<string>();
        for (var i = 0; i < 120; i++)
        {
            ids.Add(await fixture.CreateAsync(key, $$"""{"model":"echo","input":"page row {{i}}"}"""));
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
    public async Task AResponsesPage_ShowsItsChainAsAConversation_CallsAsJson_StatusUsageAndParameters()
    {
        var page = await SignedInAsync(fixture.KeyA);
        await Browser.ClickToNavigateAsync(page, page.Locator($"tr[data-id='{fixture.Answer}'] a.preview"));
        await page.WaitForURLAsync($"**/dashboard/responses/{fixture.Answer}");

        Assert.Equal(["instructions", "user", "function_call", "function_call", "function_call_output", "function_call_output", "assistant:output"], await RolesAsync(page));
        Assert.Equal("Answer in one sentence.", (await page.InnerTextAsync("[data-role=instructions] .text")).Trim());
        Assert.Equal([fixture.Question, fixture.Answer], await page.Locator(".turn-divider").EvaluateAllAsync<string[]>("d => d.map(x => x.dataset.turn)"));
        var call = await page.Locator("[data-role=function_call] .tool-call").First.InnerTextAsync();
        Assert.Contains("get_weather", call, StringComparison.Ordinal);
        Assert.Contains("call_1", call, StringComparison.Ordinal);
        Assert.Contains("{\n  \"city\": \"Paris\"\n}", call, StringComparison.Ordinal);
        Assert.Contains("\"temperature\": 4,", await page.Locator("[data-role=function_call_output]").First.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("answers call_2", await page.Locator("[data-role=function_call_output]").Nth(1).InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("Hello from upstream", await page.InnerTextAsync(".bubble-answer"), StringComparison.Ordinal);
        Assert.Equal("completed", await page.InnerTextAsync("#status"));
        Assert.Contains("input tokens", (await page.InnerTextAsync("#usage")).ToLowerInvariant(), StringComparison.Ordinal);
        Assert.Matches("^[0-9,]+ ms$", await page.InnerTextAsync("#latency"));
        var parameters = await page.InnerTextAsync("#parameters");
        Assert.Contains("0.2", parameters, StringComparison.Ordinal);
        Assert.Contains("tools (2)", await page.InnerTextAsync("#param-tools summary"), StringComparison.Ordinal);
        await Browser.ScreenshotAsync(page, "response");

        await Browser.ClickToNavigateAsync(page, "#previous-link");
        await page.WaitForURLAsync($"**/dashboard/responses/{fixture.Question}");
        Assert.Equal(["instructions", "user", "function_call:output", "function_call:output"], await RolesAsync(page));
        Assert.Equal(0, await page.Locator("#previous").CountAsync());
        Assert.Equal(0, await page.Locator(".turn-divider").CountAsync());
    }

    [Fact]
    public async Task EditingMetadata_SavesItThroughTheStore_AsTheApiSeesIt()
    {
        var id = await fixture.CreateAsync(fixture.KeyA, """{"model":"echo","input":"edit me","metadata":{"stage":"draft","drop":"me"}}""");
        var page = await SignedInAsync(fixture.KeyA);
        await page.GotoAsync($"/dashboard/responses/{id}");

        await page.Locator("#metadata-form input[name=value]").Nth(0).FillAsync("final");
        await page.Locator("#metadata-form input[name=key]").Nth(1).FillAsync("");
        await page.Locator("#metadata-form input[name=value]").Nth(1).FillAsync("");
        await page.Locator("#metadata-form input[name=key]").Nth(2).FillAsync("reviewer");
        await page.Locator("#metadata-form input[name=value]").Nth(2).FillAsync("bob");
        await Browser.ClickToNavigateAsync(page, "#save-metadata");
        await page.WaitForSelectorAsync("#saved-notice");

        using var stored = await fixture.ApiAsync(HttpMethod.Get, $"/v1/responses/{id}", fixture.KeyA);
        Assert.Equal("""{"stage":"final","reviewer":"bob"}""", JsonNode.Parse(await stored.Content.ReadAsStringAsync())!["metadata"]!.ToJsonString());
        await page.GotoAsync("/dashboard/responses?key=reviewer&value=bob");
        Assert.Equal([id], await RowIdsAsync(page));

        // The API's limits hold here too: a key of 65 characters is refused with the API's message.
        await page.GotoAsync($"/dashboard/responses/{id}");
        await page.Locator("#metadata-form input[name=key]").Nth(2).FillAsync(new string('k', 65));
        await page.Locator("#metadata-form input[name=value]").Nth(2).FillAsync("x");
        await Browser.ClickToNavigateAsync(page, "#save-metadata");
        Assert.Contains("metadata", await page.InnerTextAsync("#metadata-error"), StringComparison.Ordinal);
        Assert.Equal(new string('k', 65), await page.Locator("#metadata-form input[name=key]").Nth(2).InputValueAsync());
    }

    [Fact]
    public async Task Deleting_AsksForConfirmation_ThenDeletes_AndTheNextTurnKeepsItsConversation()
    {
        var first = await fixture.CreateAsync(fixture.KeyA, """{"model":"echo","input":"delete me"}""");
        var second = await fixture.CreateAsync(fixture.KeyA, $$"""{"model":"echo","input":"I stay","previous_response_id":"{{first}}"}""");
        var page = await SignedInAsync(fixture.KeyA);
        await page.GotoAsync($"/dashboard/responses/{first}");

        Assert.False(await page.IsVisibleAsync("#delete-confirm"));
        await page.ClickAsync("#delete-open");
        Assert.True(await page.IsVisibleAsync("#delete-confirm"));
        await Browser.ClickToNavigateAsync(page, "#delete-confirm");
        await page.WaitForURLAsync("**/dashboard/responses?deleted=**");
        Assert.Contains(first, await page.InnerTextAsync("#deleted-notice"), StringComparison.Ordinal);
        Assert.DoesNotContain(first, await RowIdsAsync(page));
        using (var gone = await fixture.ApiAsync(HttpMethod.Get, $"/v1/responses/{first}", fixture.KeyA))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        await page.GotoAsync($"/dashboard/responses/{second}");
        Assert.Equal(["user", "assistant", "user", "assistant:output"], await RolesAsync(page));
        Assert.Equal(["carried", second], await page.Locator(".turn-divider").EvaluateAllAsync<string[]>("d => d.map(x => x.dataset.turn)"));
        Assert.Contains("(no longer stored)", await page.InnerTextAsync("#previous"), StringComparison.Ordinal);
        using var items = await fixture.ApiAsync(HttpMethod.Get, $"/v1/responses/{second}/input_items?order=asc", fixture.KeyA);
        Assert.Equal(3, JsonNode.Parse(await items.Content.ReadAsStringAsync())!["data"]!.AsArray().Count);
    }
}
