using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// The responses' pages over plain HTTP: no session means the sign-in page, a project key never sees, changes or
/// deletes another project's response (answered exactly as an unknown id), the admin sees any, model names are shown
/// escaped, and a large response's page is cut with the whole object a link away.
/// </summary>
public sealed class ResponsesDashboardHttpTests(ResponsesDashboardFixture fixture) : IClassFixture<ResponsesDashboardFixture>
{
    private async Task<DashboardClient> SignedInAsync(string key)
    {
        var client = new DashboardClient(fixture.Cairn.BaseUrl);
        using var response = await client.SignInAsync(key);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    private static string WithoutTokens(string page) =>
        Regex.Replace(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"[^\"]+\"", "");

    /// <summary>A list page less what changes from one second to the next (how long ago each row was).</summary>
    private static string Timeless(string page) => Regex.Replace(WithoutTokens(page), "<div class=\"sub\">[^<]*</div>", "");

    [Theory]
    [InlineData("/dashboard/responses")]
    [InlineData("/dashboard/responses/resp_anything")]
    [InlineData("/dashboard/responses/resp_anything?handler=Json")]
    public async Task WithoutASession_ResponsePages_RedirectToSignIn(string path)
    {
        using var client = new DashboardClient(fixture.Cairn.BaseUrl);
        using var response = await client.Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard/sign-in?return=" + Uri.EscapeDataString(path), response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task AProjectKey_NeverSeesAnotherProjectsResponse_ItIsAnsweredAsAnUnknownId()
    {
        using var client = await SignedInAsync(fixture.KeyA);
        var other = fixture.B[0];
        var unknown = "resp_" + new string('0', 48);

        using var theirs = await client.Http.GetAsync($"/dashboard/responses/{other}");
        using var none = await client.Http.GetAsync($"/dashboard/responses/{unknown}");
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        var theirsPage = WithoutTokens(await theirs.Content.ReadAsStringAsync());
        Assert.Equal(WithoutTokens(await none.Content.ReadAsStringAsync()).Replace(unknown, other, StringComparison.Ordinal), theirsPage);
        Assert.DoesNotContain("Project B secret", theirsPage, StringComparison.Ordinal);
        using var json = await client.Http.GetAsync($"/dashboard/responses/{other}?handler=Json");
        Assert.Equal(HttpStatusCode.NotFound, json.StatusCode);

        // Nor can it change or delete it, and the list never shows it.
        using var metadata = await client.PostFormAsync($"/dashboard/responses/{fixture.A[0].Id}", $"/dashboard/responses/{other}?handler=Metadata", ("key", "taken"), ("value", "yes"));
        Assert.Equal(HttpStatusCode.NotFound, metadata.StatusCode);
        using var delete = await client.PostFormAsync($"/dashboard/responses/{fixture.A[0].Id}", $"/dashboard/responses/{other}?handler=Delete");
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        using var stored = await fixture.ApiAsync(HttpMethod.Get, $"/v1/responses/{other}", fixture.KeyB);
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal("""{"topic":"billing"}""", JsonNode.Parse(await stored.Content.ReadAsStringAsync())!["metadata"]!.ToJsonString());
        Assert.DoesNotContain(other, await client.Http.GetStringAsync("/dashboard/responses?project=team-b"), StringComparison.Ordinal);
        Assert.DoesNotContain(other, await client.Http.GetStringAsync("/dashboard/responses?key=topic&value=billing"), StringComparison.Ordinal);
        // Another project's id is no cursor: the page is the first one.
        Assert.Equal(Timeless(await client.Http.GetStringAsync("/dashboard/responses")),
            Timeless(await client.Http.GetStringAsync($"/dashboard/responses?before={other}")));
    }

    [Fact]
    public async Task TheAdminKey_SeesEveryProjectsResponses_AndTheProjectFilterNarrowsThem()
    {
        using var client = await SignedInAsync(fixture.AdminKey);

        var page = await client.Http.GetStringAsync($"/dashboard/responses/{fixture.B[0]}");
        Assert.Contains("Project B secret 0", page, StringComparison.Ordinal);
        Assert.Contains("team-b", page, StringComparison.Ordinal);
        var all = await client.Http.GetStringAsync("/dashboard/responses?key=topic&value=billing");
        Assert.Contains(fixture.B[0], all, StringComparison.Ordinal);
        Assert.Contains(fixture.A[0].Id, all, StringComparison.Ordinal);
        var onlyB = await client.Http.GetStringAsync("/dashboard/responses?project=team-b");
        Assert.Contains(fixture.B[1], onlyB, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.A[0].Id, onlyB, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.A[0].Id, await client.Http.GetStringAsync("/dashboard/responses?project=no-such-project"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheJsonHandler_AnswersTheStoredObjectAsTheApiDoes()
    {
        using var client = await SignedInAsync(fixture.KeyA);

        using var page = await client.Http.GetAsync($"/dashboard/responses/{fixture.Answer}?handler=Json");
        using var api = await fixture.ApiAsync(HttpMethod.Get, $"/v1/responses/{fixture.Answer}", fixture.KeyA);

        Assert.Equal("application/json; charset=utf-8", page.Content.Headers.ContentType!.ToString());
        Assert.Equal(await api.Content.ReadAsStringAsync(), await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ModelNames_AreShownIsolated_WithBidiControlsEscaped()
    {
        var id = await fixture.StoreAsync("team-a", "evil\u202Emodel", "a question");
        using var client = await SignedInAsync(fixture.KeyA);

        var list = await client.Http.GetStringAsync("/dashboard/responses");
        var page = await client.Http.GetStringAsync($"/dashboard/responses/{id}");

        foreach (var html in new[] { list, page })
        {
            Assert.DoesNotContain("\u202E", html, StringComparison.Ordinal);
            Assert.Contains("<span class=\"model\" dir=\"auto\" title=\"evil[U&#x2B;202E]model\">evil[U&#x2B;202E]model</span>", html, StringComparison.Ordinal);
        }
        Assert.Contains(">evil[U&#x2B;202E]model</option>", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALargeResponsesPage_IsCut_AndLinksTheWholeObject()
    {
        var words = string.Join(' ', Enumerable.Range(0, 4_000).Select(i => $"w{i}"));
        var id = await fixture.CreateAsync(fixture.KeyA, $$"""{"model":"echo","input":"{{words}}"}""");
        using var client = await SignedInAsync(fixture.KeyA);

        var page = await client.Http.GetStringAsync($"/dashboard/responses/{id}");

        Assert.Contains("id=\"cut-notice\"", page, StringComparison.Ordinal);
        Assert.Contains("more characters not shown]", page, StringComparison.Ordinal);
        Assert.DoesNotContain(words, page, StringComparison.Ordinal);
        var whole = await client.Http.GetStringAsync($"/dashboard/responses/{id}?handler=Json");
        Assert.Contains(words, JsonNode.Parse(whole)!["output"]![0]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
