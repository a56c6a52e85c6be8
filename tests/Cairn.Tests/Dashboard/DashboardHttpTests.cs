using System.Net;
using Cairn.Tests.Infrastructure;
using OpenAI.Chat;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// The dashboard's access rules over plain HTTP: no session means the sign-in page, a project key never sees another
/// project's completion (answered as an unknown id), sessions end with their key, forms need their antiforgery
/// token, the cookie's flags, the export download, and /v1 unchanged by a dashboard session.
/// </summary>
public sealed class DashboardHttpTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private DashboardClient Client() => new(fixture.Cairn.BaseUrl);

    private async Task<DashboardClient> SignedInAsync(string key)
    {
        var client = Client();
        using var response = await client.SignInAsync(key);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard", response.Headers.Location!.OriginalString);
        return client;
    }

    [Theory]
    [InlineData("/dashboard")]
    [InlineData("/dashboard/overview")]
    [InlineData("/dashboard/completions/chatcmpl-anything")]
    [InlineData("/dashboard/export?format=raw")]
    public async Task WithoutASession_EveryPage_RedirectsToSignIn(string path)
    {
        using var client = Client();
        using var response = await client.Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard/sign-in?return=" + Uri.EscapeDataString(path), response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task AProjectKey_NeverSeesAnotherProjectsCompletion_ItIsAnsweredAsAnUnknownId()
    {
        using var client = await SignedInAsync(fixture.KeyA);
        var other = fixture.B[0];
        const string Unknown = "chatcmpl-NoSuchCompletion000000000";

        using var theirs = await client.Http.GetAsync($"/dashboard/completions/{other}");
        using var unknown = await client.Http.GetAsync($"/dashboard/completions/{Unknown}");
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        // The same page but for the id (and the sign-out form's antiforgery token, new on every page).
        var theirsPage = WithoutTokens(await theirs.Content.ReadAsStringAsync());
        Assert.Equal(WithoutTokens(await unknown.Content.ReadAsStringAsync()).Replace(Unknown, other, StringComparison.Ordinal), theirsPage);
        Assert.DoesNotContain("Project B secret", theirsPage, StringComparison.Ordinal);

        // Nor can it change or delete it, and the list and search never show it.
        using var delete = await client.PostFormAsync($"/dashboard/completions/{fixture.A[0].Id}", $"/dashboard/completions/{other}?handler=Delete");
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        using var metadata = await client.PostFormAsync($"/dashboard/completions/{fixture.A[0].Id}", $"/dashboard/completions/{other}?handler=Metadata", ("key", "taken"), ("value", "yes"));
        Assert.Equal(HttpStatusCode.NotFound, metadata.StatusCode);
        using var stored = await fixture.ApiAsync(HttpMethod.Get, $"/v1/chat/completions/{other}", fixture.KeyB);
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.DoesNotContain("taken", await stored.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(other, await client.Http.GetStringAsync("/dashboard?q=secret"), StringComparison.Ordinal);
        Assert.DoesNotContain(other, await client.Http.GetStringAsync("/dashboard?project=team-b"), StringComparison.Ordinal);
    }

    private static string WithoutTokens(string page) =>
        System.Text.RegularExpressions.Regex.Replace(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"[^\"]+\"", "");

    [Fact]
    public async Task TheAdminKey_SeesAnyProjectsCompletion()
    {
        using var client = await SignedInAsync(fixture.AdminKey);
        var page = await client.Http.GetStringAsync($"/dashboard/completions/{fixture.B[0]}");
        Assert.Contains("Project B secret 0", page, StringComparison.Ordinal);
        Assert.Contains("team-b", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSessionCookie_IsHttpOnly_SameSiteStrict_AndHoldsNoKey()
    {
        using var client = Client();
        using var response = await client.SignInAsync(fixture.KeyA);

        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("cairn_dashboard=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/dashboard", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(fixture.KeyA, cookie, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.KeyA[12..], cookie, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFormWithoutItsAntiforgeryToken_IsRefused()
    {
        using var client = Client();
        using var response = await client.Http.PostAsync("/dashboard/sign-in", new FormUrlEncodedContent([KeyValuePair.Create("Key", fixture.KeyA)]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(client.Cookies.GetAllCookies(), c => c.Name == "cairn_dashboard");
    }

    [Fact]
    public async Task RevokingTheKey_EndsItsDashboardSession()
    {
        var key = await fixture.CreateKeyAsync("""{"project":"team-a","name":"short-lived"}""");
        using var client = await SignedInAsync(key);
        using (var before = await client.Http.GetAsync("/dashboard"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }
        using var keys = await fixture.ApiAsync(HttpMethod.Get, "/admin/keys?project=team-a", fixture.AdminKey);
        var id = System.Text.Json.Nodes.JsonNode.Parse(await keys.Content.ReadAsStringAsync())!["data"]!.AsArray()
            .Single(k => k!["name"]!.GetValue<string>() == "short-lived")!["id"]!.GetValue<string>();
        using (var revoke = await fixture.ApiAsync(HttpMethod.Delete, $"/admin/keys/{id}", fixture.AdminKey))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        using var after = await client.Http.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
    }

    [Fact]
    public async Task ADashboardSession_OpensNothingOnV1()
    {
        using var client = await SignedInAsync(fixture.AdminKey);
        using var response = await client.Http.GetAsync("/v1/chat/completions");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("\"error\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheExport_StreamsTheCurrentFilterAsAnAttachment_InBothFormats()
    {
        using var client = await SignedInAsync(fixture.KeyA);
        var billing = fixture.A.Where(a => a.Topic == "billing").Select(a => a.Id).ToHashSet();

        using var raw = await client.Http.GetAsync("/dashboard/export?key=topic&value=billing&format=raw", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Equal("attachment", raw.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Matches("^cairn-team-a-raw-[0-9]{8}-[0-9]{6}\\.jsonl$", raw.Content.Headers.ContentDisposition.FileName!.Trim('"'));
        var lines = (await raw.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(billing, lines.Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["id"]!.GetValue<string>()).ToHashSet());

        using var fineTune = await client.Http.GetAsync("/dashboard/export?model=other&format=finetune");
        Assert.Equal("attachment", fineTune.Content.Headers.ContentDisposition!.DispositionType);
        var tuned = (await fineTune.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(fixture.A.Count(a => a.Model == "other"), tuned.Length);
        Assert.All(tuned, l => Assert.Equal("assistant", System.Text.Json.Nodes.JsonNode.Parse(l)!["messages"]!.AsArray()[^1]!["role"]!.GetValue<string>()));

        using var withText = await client.Http.GetAsync("/dashboard/export?q=penguins&format=raw");
        Assert.Equal(HttpStatusCode.BadRequest, withText.StatusCode);
        using var badFormat = await client.Http.GetAsync("/dashboard/export?format=csv");
        Assert.Equal(HttpStatusCode.BadRequest, badFormat.StatusCode);
    }
}

/// <summary>With no keys yet (authentication off, loopback only) the dashboard shows the default project without signing in.</summary>
public sealed class DashboardOpenTests(CairnServer server) : IClassFixture<CairnServer>
{
    [Fact]
    public async Task WithAuthenticationOff_TheDashboardShowsTheDefaultProject()
    {
        var id = (await server.Chat().CompleteChatAsync([new UserChatMessage("open dashboard")],
            new ChatCompletionOptions { StoredOutputEnabled = true })).Value.Id;
        using var client = new DashboardClient(server.BaseUrl);

        using var response = await client.Http.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains(id, page, StringComparison.Ordinal);
        Assert.Contains("Authentication off", page, StringComparison.Ordinal);
        using var signIn = await client.Http.GetAsync("/dashboard/sign-in");
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync($"/dashboard/completions/{id}")).StatusCode);
    }
}
