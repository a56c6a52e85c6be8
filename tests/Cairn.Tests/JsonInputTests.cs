using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Cairn.Tests.Dashboard;

namespace Cairn.Tests;

/// <summary>The client-input contract on SQLite.</summary>
public sealed class JsonInputTests(AccessFixture fixture) : JsonInputContract(fixture), IClassFixture<AccessFixture>;

/// <summary>The client-input contract on PostgreSQL, whose text and jsonb refuse U+0000.</summary>
public sealed class JsonInputPostgresTests(PostgresAccessFixture fixture) : JsonInputContract(fixture), IClassFixture<PostgresAccessFixture>;

/// <summary>
/// No byte sequence a client sends gets a 5xx from any endpoint that reads JSON (create, update, admin), and what
/// the request check lets in (its deepest nesting, the NUL escape) is stored and read back everywhere on both stores.
/// </summary>
public abstract class JsonInputContract(AccessFixture fixture)
{
    /// <summary>String-valued JSON tokens (as bytes, see <see cref="BadInputTests.Bytes"/>) that are not plain Unicode text, and values out of range.</summary>
    private static readonly string[] BadValues =
    [
        "\"a\uF8FF\"", "\"\uF8C0\uF8AF\"", "\"\uF8E0\uF880\uF8AF\"", "\"\uF8ED\uF8A0\uF880\"", "\"\uF8F4\uF890\uF880\uF880\"", "\"\uF8E2\uF882\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\udfff\\ud800\"", "\"a\\u0000b\"", "\"\\u0000\"", "\"a\uF800b\"",
        "1e400", "-1e400", "99999999999999999999999", new string('[', 10_000) + new string(']', 10_000),
    ];

    /// <summary>Bodies of each JSON endpoint with one <c>@</c> where a value or a key goes.</summary>
    private static readonly (string Path, string Template)[] Templates =
    [
        ("/v1/chat/completions", """{"model":"echo","store":true,"messages":[{"role":"user","content":@}]}"""),
        ("/v1/chat/completions", """{"model":"echo","store":true,"messages":[{"role":"user","content":[{"type":"text","text":@}]}]}"""),
        ("/v1/chat/completions", """{"model":"echo","store":true,"messages":[{"role":"user","content":"hi"}],"metadata":{"k":@}}"""),
        ("/v1/chat/completions", """{"model":"echo","store":true,"messages":[{"role":"user","content":"hi"}],"metadata":{@:"v"}}"""),
        ("/v1/chat/completions", """{"model":"echo","messages":[{"role":"user","content":"hi"}],"user":@,"n":@}"""),
        ("/v1/chat/completions", """{"model":@,"messages":[{"role":"user","content":"hi"}]}"""),
        ("/v1/chat/completions", """{"model":"echo","store":true,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{@:{"type":"string"}}}}}]}"""),
        ("/v1/responses", """{"model":"echo","input":@}"""),
        ("/v1/responses", """{"model":"echo","input":[{"role":"user","content":[{"type":"input_text","text":@}]}]}"""),
        ("/v1/responses", """{"model":"echo","input":"hi","instructions":@,"metadata":{"k":@}}"""),
        ("/v1/responses", """{"model":"echo","input":"hi","metadata":{@:"v"}}"""),
        ("/v1/responses", """{"model":"echo","input":"hi","previous_response_id":@}"""),
        ("/v1/responses", """{"model":"echo","input":"hi","max_output_tokens":@,"temperature":@}"""),
        ("/v1/responses", """{"model":"echo","input":[{"type":"function_call_output","call_id":@,"output":@}]}"""),
        ("/v1/responses", """{"model":"echo","input":"hi","tools":[{"type":"function","name":"f","parameters":{"type":"object","properties":{@:{"type":"string"}}}}]}"""),
        ("/v1/responses/input_tokens", """{"model":"echo","input":@,"instructions":@}"""),
        ("{id}", """{"metadata":{"k":@}}"""),
        ("{id}", """{"metadata":{@:"v"}}"""),
        ("/admin/projects", """{"name":@}"""),
        ("/admin/projects", """{"name":"bytes","requests_per_minute":@}"""),
        ("/admin/keys", """{"project":"team-a","name":@}"""),
        ("/admin/keys", """{"project":"team-a","models":[@]}"""),
    ];

    private static readonly string[] BadBodies =
    [
        "\uF8EF\uF8BB\uF8BF\uF8EF\uF8BB\uF8BF{}", "\uF8FF", "{\"a\":1,\"a\":2}", "{\"\\ud800\":1}", "{\"\uF8FF\":1}", "{}\uF800",
        string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000),
    ];

    [Fact]
    public async Task EveryBadByteSequence_OnEveryJsonEndpoint_IsNeverA5xx()
    {
        var id = await CreateAsync("""{"model":"echo","store":true,"messages":[{"role":"user","content":"target"}]}""");
        var paths = Templates.Select(t => t.Path).Distinct().Select(p => p.Replace("{id}", $"/v1/chat/completions/{id}", StringComparison.Ordinal)).ToList();
        var sent = 0;
        foreach (var (path, template) in Templates)
        {
            foreach (var value in BadValues)
            {
                await AssertNo5xxAsync(path.Replace("{id}", $"/v1/chat/completions/{id}", StringComparison.Ordinal), template.Replace("@", value, StringComparison.Ordinal));
                sent++;
            }
        }
        foreach (var path in paths)
        {
            foreach (var body in BadBodies)
            {
                await AssertNo5xxAsync(path, body);
                sent++;
            }
        }

        // What was let in (the NUL escape in message text) reads back everywhere: the API, its lists and the dashboard.
        using var list = await fixture.SendAsync(HttpMethod.Get, "/v1/chat/completions?limit=100", fixture.KeyA);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        using var dashboard = new DashboardClient(fixture.Cairn.BaseUrl);
        using var signIn = await dashboard.SignInAsync(fixture.AdminKey);
        foreach (var page in (string[])["/dashboard", "/dashboard?q=%00", "/dashboard?key=%00&value=%00", "/dashboard?model=%00", "/dashboard?q=a%FFb", "/dashboard/overview"])
        {
            using var response = await dashboard.Http.GetAsync(page);
            Assert.True((int)response.StatusCode < 500, $"{page}: {(int)response.StatusCode}");
        }
        Assert.True(sent > 200);
    }

    [Fact]
    public async Task TheNulEscapeInMessageText_IsStoredAndReadBack()
    {
        var id = await CreateAsync("""{"model":"echo","store":true,"metadata":{"topic":"nul"},"messages":[{"role":"user","content":"a\u0000b"},{"role":"user","content":[{"type":"text","text":"c\u0000"}]}]}""");

        using var messages = await fixture.SendAsync(HttpMethod.Get, $"/v1/chat/completions/{id}/messages", fixture.KeyA);
        using var json = JsonDocument.Parse(await messages.Content.ReadAsStringAsync());
        Assert.Equal(["a\0b", "c\0"], json.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        using var filtered = await fixture.SendAsync(HttpMethod.Get, "/v1/chat/completions?metadata[topic]=nul", fixture.KeyA);
        Assert.Contains(id, await filtered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var dashboard = new DashboardClient(fixture.Cairn.BaseUrl);
        using var signIn = await dashboard.SignInAsync(fixture.KeyA);
        using var page = await dashboard.Http.GetAsync($"/dashboard/completions/{id}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task ARequestAtTheDepthLimit_IsAnsweredStoredAndReadBack_WholeAndStreamed()
    {
        // 128 levels: the body, tools, the tool, function, then 124 nested objects in its parameters.
        var parameters = string.Concat(Enumerable.Repeat("{\"a\":", 124)) + "1" + new string('}', 124);
        var body = """{"model":"echo","store":true,"messages":[{"role":"user","content":"deep"}],"tools":[{"type":"function","function":{"name":"f","parameters":"""
            + parameters + "}}]}";

        var id = await CreateAsync(body);

        foreach (var path in (string[])[$"/v1/chat/completions/{id}", $"/v1/chat/completions/{id}/messages", "/v1/chat/completions?limit=100"])
        {
            using var read = await fixture.SendAsync(HttpMethod.Get, path, fixture.KeyA);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
        using var update = await fixture.SendAsync(HttpMethod.Post, $"/v1/chat/completions/{id}", fixture.KeyA, """{"metadata":{"depth":"128"}}""");
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        using (var stored = JsonDocument.Parse(await update.Content.ReadAsStringAsync(), new JsonDocumentOptions { MaxDepth = 200 }))
        {
            Assert.Equal("128", stored.RootElement.GetProperty("metadata").GetProperty("depth").GetString());
        }
        using var dashboard = new DashboardClient(fixture.Cairn.BaseUrl);
        using var signIn = await dashboard.SignInAsync(fixture.KeyA);
        using var page = await dashboard.Http.GetAsync($"/dashboard/completions/{id}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        using var streamed = await fixture.SendAsync(HttpMethod.Post, "/v1/chat/completions", fixture.KeyA, body.Replace("\"store\":true", "\"store\":true,\"stream\":true", StringComparison.Ordinal));
        var events = await streamed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.EndsWith("data: [DONE]\n\n", events, StringComparison.Ordinal);
        Assert.DoesNotContain("\"error\"", events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResponseAtTheDepthLimit_IsAnsweredStoredAndReadBack_WholeAndStreamed()
    {
        // 128 levels: the body, tools, the tool, then 125 nested objects in its parameters.
        var parameters = string.Concat(Enumerable.Repeat("{\"a\":", 125)) + "1" + new string('}', 125);
        var body = """{"model":"echo","input":"deep","tools":[{"type":"function","name":"f","parameters":""" + parameters + "}]}";

        using var created = await fixture.SendAsync(HttpMethod.Post, "/v1/responses", fixture.KeyA, body);
        var text = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.OK, text);
        string id;
        using (var json = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 200 }))
        {
            id = json.RootElement.GetProperty("id").GetString()!;
        }

        foreach (var path in (string[])[$"/v1/responses/{id}", $"/v1/responses/{id}/input_items"])
        {
            using var read = await fixture.SendAsync(HttpMethod.Get, path, fixture.KeyA);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
        using var streamed = await fixture.SendAsync(HttpMethod.Post, "/v1/responses", fixture.KeyA, body.Replace("\"input\"", "\"stream\":true,\"input\"", StringComparison.Ordinal));
        var events = await streamed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Contains("event: response.completed", events, StringComparison.Ordinal);
    }

    private async Task<string> CreateAsync(string body)
    {
        using var response = await fixture.SendAsync(HttpMethod.Post, "/v1/chat/completions", fixture.KeyA, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("id").GetString()!;
    }

    private async Task AssertNo5xxAsync(string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(BadInputTests.Bytes(body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", path.StartsWith("/admin", StringComparison.Ordinal) ? fixture.AdminKey : fixture.KeyA);
        using var response = await fixture.Cairn.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode < 500, $"POST {path} {body[..Math.Min(body.Length, 200)]}: {(int)response.StatusCode} {text}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
    }
}
