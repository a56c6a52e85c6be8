using System.Net;
using System.Text.RegularExpressions;

namespace Cairn.Tests.Dashboard;

/// <summary>Plain HTTP to the dashboard, as a browser sends it: a cookie jar, forms with their antiforgery token, no redirects followed.</summary>
public sealed partial class DashboardClient : IDisposable
{
    public DashboardClient(Uri baseUrl)
    {
        Http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false }) { BaseAddress = baseUrl };
    }

    public CookieContainer Cookies { get; } = new();

    public HttpClient Http { get; }

    /// <summary>Gets a page that has a form and posts the form's antiforgery token with these fields.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string pagePath, string postPath, params (string Name, string Value)[] fields)
    {
        var page = await Http.GetStringAsync(pagePath);
        var token = TokenInput().Match(page).Groups[1].Value;
        Assert.NotEmpty(token);
        return await Http.PostAsync(postPath, new FormUrlEncodedContent([.. fields.Select(f => KeyValuePair.Create(f.Name, f.Value)), KeyValuePair.Create("__RequestVerificationToken", token)]));
    }

    public async Task<HttpResponseMessage> SignInAsync(string key)
    {
        var response = await PostFormAsync("/dashboard/sign-in", "/dashboard/sign-in", ("Key", key));
        return response;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenInput();

    public void Dispose() => Http.Dispose();
}
