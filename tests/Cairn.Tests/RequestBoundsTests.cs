using System.Net;
using System.Text.Json.Nodes;
using Cairn.Configuration;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// What one request can cost is bounded: echo answers like a model with an output limit (per choice and for all
/// <c>n</c> together) however long the prompt, a long run without spaces is counted in linear time, list pages are
/// bounded in bytes whatever one stored completion weighs, and bad limits stop the start naming the key.
/// </summary>
public sealed class RequestBoundsTests(CairnServer server) : IClassFixture<CairnServer>, IAsyncLifetime
{
    private const string Completions = "/v1/chat/completions";

    private readonly List<CairnServer> started = [];

    /// <summary>A server of the test's own settings, stopped when the test ends.</summary>
    private async Task<CairnServer> StartAsync(params string[] settings)
    {
        var other = await CairnServer.StartAsync(settings);
        started.Add(other);
        return other;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var other in started)
        {
            await other.DisposeAsync();
        }
    }

    private static string Echo(string text, string more = "") =>
        new JsonObject { ["model"] = "echo", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }) }
            .ToJsonString().TrimEnd('}') + more + "}";

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.Length > 500 ? body[..500] : body);
        return JsonNode.Parse(body)!;
    }

    [Fact]
    public async Task AnEchoOf256KiBOfOneLetter_Answers_CutAtTheOutputLimit_WithFinishReasonLength()
    {
        // Before, counting this one pre-token took ~43 s of CPU, and the answer was the whole prompt.
        using var response = await server.PostJsonAsync(Completions, Echo(new string('a', 256 * 1024)));
        var completion = await JsonAsync(response);

        var choice = completion["choices"]![0]!;
        Assert.Equal("length", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal(new string('a', 16_384 * 8), choice["message"]!["content"]!.GetValue<string>());
        Assert.Equal(16_384, completion["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal(3 + 3 + 1 + 256 * 1024 / 8, completion["usage"]!["prompt_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task AStreamedEchoOfALongRun_IsCutTheSameWay()
    {
        using var response = await server.PostJsonAsync(Completions, Echo(new string('a', 256 * 1024), ""","stream":true"""));
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!["choices"]![0]!).ToList();
        Assert.Equal(16_384 * 8, chunks.Sum(c => c["delta"]?["content"]?.GetValue<string>().Length ?? 0));
        Assert.Equal("length", chunks[^1]["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task AStoredEchoWithN128_IsBoundedByTheRequestPlusABoundedAnswer()
    {
        // Before, a 4.2 MB request with n: 128 stored a 537 MB completion (128 copies of the prompt).
        var text = string.Concat(Enumerable.Repeat("word ", 200_000));
        var request = Echo(text, ""","n":128,"store":true""");
        using var response = await server.PostJsonAsync(Completions, request);
        var completion = await JsonAsync(response);
        var id = completion["id"]!.GetValue<string>();
        using var stored = await server.Http.GetAsync($"{Completions}/{id}");
        var storedBytes = (await stored.Content.ReadAsByteArrayAsync()).Length;

        var choices = completion["choices"]!.AsArray();
        Assert.Equal(128, choices.Count);
        // 65,536 answer tokens for the request: 512 for each of the 128 choices.
        Assert.All(choices, c => Assert.Equal("length", c!["finish_reason"]!.GetValue<string>()));
        Assert.All(choices, c => Assert.Equal(512 * "word ".Length - 1, c!["message"]!["content"]!.GetValue<string>().Length));
        Assert.Equal(65_536, completion["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.InRange(storedBytes, 128 * 2559, 128 * 4096); // the answer, not 128 copies of the prompt
    }

    [Fact]
    public async Task EchoLimits_AreSettings_AndMaxCompletionTokensBelowThemStillApplies()
    {
        var limited = await StartAsync("--Echo:MaxAnswerTokens=5", "--Echo:MaxAnswerTokensPerRequest=8");

        using var one = await limited.PostJsonAsync(Completions, Echo("one two three four five six seven"));
        using var two = await limited.PostJsonAsync(Completions, Echo("one two three four five six seven", ""","n":2"""));
        using var asked = await limited.PostJsonAsync(Completions, Echo("one two three four five six seven", ""","max_completion_tokens":2"""));
        using var fits = await limited.PostJsonAsync(Completions, Echo("one two three"));

        Assert.Equal("one two three four five", (await JsonAsync(one))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("one two three four", (await JsonAsync(two))["choices"]![1]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("one two", (await JsonAsync(asked))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        var whole = (await JsonAsync(fits))["choices"]![0]!;
        Assert.Equal("one two three", whole["message"]!["content"]!.GetValue<string>());
        Assert.Equal("stop", whole["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task AListPage_EndsAtItsByteBudget_WithHasMoreAndLastId_SoClientsPageOn()
    {
        var small = await StartAsync("--Api:MaxListPageBytes=4096");
        var run = Guid.NewGuid().ToString("N");
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var created = await small.PostJsonAsync(Completions,
                Echo(string.Concat(Enumerable.Repeat("padding ", 200)), $$""","store":true,"metadata":{"run":"{{run}}"}"""));
            ids.Add((await JsonAsync(created))["id"]!.GetValue<string>());
        }

        var listed = new List<string>();
        string? after = null;
        for (var pages = 1; ; pages++)
        {
            using var response = await small.Http.GetAsync($"{Completions}?metadata%5Brun%5D={run}&order=asc&limit=100" + (after is null ? "" : $"&after={after}"));
            var page = await JsonAsync(response);
            var data = page["data"]!.AsArray();
            Assert.Single(data);
            Assert.Equal(data[0]!["id"]!.GetValue<string>(), page["last_id"]!.GetValue<string>());
            listed.Add(data[0]!["id"]!.GetValue<string>());
            after = page["last_id"]!.GetValue<string>();
            if (!page["has_more"]!.GetValue<bool>())
            {
                Assert.Equal(3, pages);
                break;
            }
        }
        Assert.Equal(ids, listed);
        using var messages = await small.Http.GetAsync($"{Completions}/{ids[0]}/messages");
        Assert.Single((await JsonAsync(messages))["data"]!.AsArray());
    }

    [Theory]
    [InlineData("--Echo:MaxAnswerTokens=0", "Echo:MaxAnswerTokens")]
    [InlineData("--Echo:MaxAnswerTokensPerRequest=-1", "Echo:MaxAnswerTokensPerRequest")]
    [InlineData("--Api:MaxListPageBytes=10", "Api:MaxListPageBytes")]
    public void ABadLimit_StopsTheStart_NamingTheKey(string setting, string key)
    {
        using var folder = new TempFolder();
        var error = Assert.Throws<OptionsException>(() =>
            CairnApp.Build(["--urls", "http://127.0.0.1:0", "--db", folder.File("x.db"), setting]));

        Assert.StartsWith(key, error.Message, StringComparison.Ordinal);
    }
}
