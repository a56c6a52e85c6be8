using System.Text;
using Cairn.Access;
using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests.Dashboard;

/// <summary>The dashboard's store on SQLite.</summary>
public sealed class SqliteDashboardStoreTests(CairnServer server) : DashboardStoreContract(server), IClassFixture<CairnServer>;

/// <summary>The dashboard's store on PostgreSQL.</summary>
public sealed class PostgresDashboardStoreTests(PostgresCairnServer server) : DashboardStoreContract(server), IClassFixture<PostgresCairnServer>;

/// <summary>
/// What the dashboard reads, on every store: lists under every combination of filters give the brute-force answer
/// page after page in both directions, the text index finds words of prompts and answers, the time range goes
/// through the rollup's seq bounds, the rollup follows adds and deletes, and project scoping holds.
/// </summary>
public abstract class DashboardStoreContract(CairnServer server)
{
    private readonly IDashboardStore dashboard = server.Services.GetRequiredService<IDashboardStore>();
    private readonly ICompletionStore store = server.Services.GetRequiredService<ICompletionStore>();
    private readonly IAccessStore access = server.Services.GetRequiredService<IAccessStore>();

    private sealed record Made(string Id, long ProjectId, string Model, long Created, Dictionary<string, string> Metadata, string Prompt, string Answer, long PromptTokens, long CompletionTokens);

    private static readonly string[] Words = ["alpha", "bravo", "charlie", "delta", "Fjörd", "echo"];

    /// <summary>A completion shaped as Cairn stores one: a stored object with usage and an answer, and input message items.</summary>
    private static StoredCompletion Completion(Made made) => new(made.ProjectId, made.Id, made.Model, made.Created,
        Encoding.UTF8.GetBytes($$"""{"id":"{{made.Id}}","object":"chat.completion","model":"{{made.Model}}","created":{{made.Created}},"usage":{"total_tokens":{{made.PromptTokens + made.CompletionTokens}},"completion_tokens":{{made.CompletionTokens}},"prompt_tokens":{{made.PromptTokens}}},"metadata":{},"choices":[{"index":0,"message":{"content":"{{made.Answer}}","refusal":null,"role":"assistant","tool_calls":null,"function_call":null},"finish_reason":"stop","logprobs":null}]}"""),
        made.Metadata,
        [Encoding.UTF8.GetBytes($$"""{"id":"{{made.Id}}-0","role":"system","content":"Be brief.","content_parts":null,"name":null}"""),
         Encoding.UTF8.GetBytes($$"""{"id":"{{made.Id}}-1","role":"user","content":"{{made.Prompt}}","content_parts":null,"name":null}""")]);

    /// <summary>A fresh project with <paramref name="count"/> completions, one every 10 minutes from 20 hours ago, oldest first.</summary>
    private async Task<(long Project, List<Made> Rows, long Start)> SeedAsync(int count)
    {
        var project = await access.EnsureProjectAsync("dash-" + Guid.NewGuid().ToString("N")[..12], default);
        var start = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - (20 * 3600);
        start -= start % 3600;
        var rows = new List<Made>();
        for (var i = 0; i < count; i++)
        {
            var made = new Made(Cairn.OpenAI.Ids.Completion(), project.Id, i % 3 == 0 ? "model-b" : "model-a", start + (i * 600),
                new Dictionary<string, string> { ["k"] = (i % 4).ToString(System.Globalization.CultureInfo.InvariantCulture), ["even"] = (i % 2 == 0) ? "yes" : "no" },
                $"Question {i} about {Words[i % Words.Length]}", $"Answer {i} mentions {Words[(i + 2) % Words.Length]}", 10 + i, 2 * i);
            await store.AddAsync(Completion(made), default);
            rows.Add(made);
        }
        return (project.Id, rows, start);
    }

    private async Task<List<string>> WalkAsync(DashboardFilter filter, int limit)
    {
        var ids = new List<string>();
        var page = await dashboard.ListAsync(filter, PageCursor.Newest, limit, default);
        ids.AddRange(page.Rows.Select(r => r.Id));
        while (page.HasOlder)
        {
            page = await dashboard.ListAsync(filter, new PageCursor(page.Rows[^1].Seq, null), limit, default);
            ids.AddRange(page.Rows.Select(r => r.Id));
        }
        return ids;
    }

    [Fact]
    public async Task EveryFilterCombination_PagesThroughTheBruteForceAnswer()
    {
        var (project, rows, start) = await SeedAsync(60);
        var from = DateTimeOffset.FromUnixTimeSeconds(start + (2 * 3600) + 300);
        var to = DateTimeOffset.FromUnixTimeSeconds(start + (7 * 3600));
        var cases = new List<(string? Model, (string, string)[] Pairs, DateTimeOffset? From, DateTimeOffset? To, string? Text, Func<Made, bool> Expected)>
        {
            (null, [], null, null, null, _ => true),
            ("model-b", [], null, null, null, m => m.Model == "model-b"),
            (null, [("k", "1")], null, null, null, m => m.Metadata["k"] == "1"),
            ("model-a", [("k", "2"), ("even", "yes")], null, null, null, m => m.Model == "model-a" && m.Metadata["k"] == "2"),
            (null, [], from, to, null, m => m.Created >= from.ToUnixTimeSeconds() && m.Created < to.ToUnixTimeSeconds()),
            (null, [], from, null, null, m => m.Created >= from.ToUnixTimeSeconds()),
            (null, [], null, to, null, m => m.Created < to.ToUnixTimeSeconds()),
            (null, [], null, null, "CHARLIE", m => m.Prompt.Contains("charlie", StringComparison.Ordinal) || m.Answer.Contains("charlie", StringComparison.Ordinal)),
            (null, [], null, null, "fjö", m => m.Prompt.Contains("Fjörd", StringComparison.Ordinal) || m.Answer.Contains("Fjörd", StringComparison.Ordinal)),
            // Words are ANDed and may be in the prompt or the answer: every prompt has "question".
            (null, [], null, null, "question delta", m => m.Prompt.Contains("delta", StringComparison.Ordinal) || m.Answer.Contains("delta", StringComparison.Ordinal)),
            (null, [], null, null, "answer 17", m => m.Answer.StartsWith("Answer 17 ", StringComparison.Ordinal)),
            ("model-a", [("even", "no")], from, to, "bravo", m => m.Model == "model-a" && m.Metadata["even"] == "no" && m.Created >= from.ToUnixTimeSeconds() && m.Created < to.ToUnixTimeSeconds() && (m.Prompt.Contains("bravo", StringComparison.Ordinal) || m.Answer.Contains("bravo", StringComparison.Ordinal))),
            (null, [], DateTimeOffset.FromUnixTimeSeconds(start - 7200), DateTimeOffset.FromUnixTimeSeconds(start - 3600), null, _ => false),
        };
        for (var i = 0; i < cases.Count; i++)
        {
            var (model, pairs, f, t, text, expected) = cases[i];
            var filter = new DashboardFilter(project, model, [.. pairs.Select(p => KeyValuePair.Create(p.Item1, p.Item2))], f, t, text);
            var want = rows.Where(expected).Select(m => m.Id).Reverse().ToList();
            var small = await WalkAsync(filter, 7);
            var large = await WalkAsync(filter, 100);
            Assert.True(want.SequenceEqual(small), $"case {i} ({model}, {text}) in pages of 7: {small.Count} rows, expected {want.Count}");
            Assert.True(want.SequenceEqual(large), $"case {i} ({model}, {text}) in pages of 100: {large.Count} rows, expected {want.Count}");
        }
    }

    [Fact]
    public async Task Search_FindsTheWordsInsideAddressesNumbersAndJoinedWords_AsTheSearchBoxSplitsThem()
    {
        var project = await access.EnsureProjectAsync("dash-" + Guid.NewGuid().ToString("N")[..12], default);
        var made = new Made(Cairn.OpenAI.Ids.Completion(), project.Id, "model-a", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), [],
            "Write to bob@example.org about v2.5 of the well-known tool", "See https://cairn.dev/docs/setup for ÅNGSTRÖM's 42nd note", 1, 1);
        await store.AddAsync(Completion(made), default);
        // Every run of letters and digits is a word: in an address, a version, a joined word or a URL.
        foreach (var text in new[] { "example", "bob@example.org", "org", "5", "v2.5", "known", "well-known", "https", "cairn.dev", "docs", "setup", "ångström", "42nd", "42", "s" })
        {
            Assert.True(new[] { made.Id }.SequenceEqual(await WalkAsync(new DashboardFilter(project.Id, null, [], null, null, text), 10)), $"searching {text}");
        }
        // A word is found by its start only, and every word must be there.
        foreach (var text in new[] { "xample", "org missing", "2.6" })
        {
            Assert.True((await WalkAsync(new DashboardFilter(project.Id, null, [], null, null, text), 10)).Count == 0, $"searching {text}");
        }
    }

    [Fact]
    public async Task PagingNewer_FromAnyCursor_ReturnsTheRowsAboveIt_NewestFirst()
    {
        var (project, rows, _) = await SeedAsync(25);
        var filter = new DashboardFilter(project, null, [], null, null, null);
        var all = await dashboard.ListAsync(filter, PageCursor.Newest, 100, default);
        Assert.Equal(rows.Select(r => r.Id).Reverse(), all.Rows.Select(r => r.Id));
        Assert.False(all.HasOlder);
        Assert.False(all.HasNewer);

        var cursor = all.Rows[15];
        var newer = await dashboard.ListAsync(filter, new PageCursor(null, cursor.Seq), 10, default);
        Assert.Equal(all.Rows.Skip(5).Take(10).Select(r => r.Id), newer.Rows.Select(r => r.Id));
        Assert.True(newer.HasNewer);
        Assert.True(newer.HasOlder);
        var newest = await dashboard.ListAsync(filter, new PageCursor(null, all.Rows[3].Seq), 10, default);
        Assert.Equal(all.Rows.Take(3).Select(r => r.Id), newest.Rows.Select(r => r.Id));
        Assert.False(newest.HasNewer);
    }

    [Fact]
    public async Task Rows_CarryPreviewsTokensAndMetadata()
    {
        var (project, rows, _) = await SeedAsync(3);
        var page = await dashboard.ListAsync(new DashboardFilter(project, null, [], null, null, null), PageCursor.Newest, 10, default);
        var row = page.Rows[0];
        var made = rows[^1];
        Assert.Equal((made.Id, made.Model, made.Created, made.Prompt, made.Answer, made.PromptTokens, made.CompletionTokens),
            (row.Id, row.Model, row.Created, row.Prompt, row.Answer, row.PromptTokens, row.CompletionTokens));
        Assert.Equal(made.Metadata, row.Metadata);
        Assert.Equal(project, row.ProjectId);
    }

    [Fact]
    public async Task TheRollup_FollowsAddsAndDeletes_PerHourAndModel()
    {
        var (project, rows, start) = await SeedAsync(30);
        var usage = await dashboard.UsageAsync(project, start, start + (24 * 3600), default);
        var expected = rows.GroupBy(r => (Hour: r.Created - (r.Created % 3600), r.Model))
            .Select(g => new UsagePoint(g.Key.Hour, g.Key.Model, g.Count(), g.Sum(r => r.PromptTokens), g.Sum(r => r.CompletionTokens)))
            .OrderBy(p => p.Hour).ThenBy(p => p.Model, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, usage);
        Assert.Equal(["model-a", "model-b"], await dashboard.ModelsAsync(project, default));

        var gone = rows[7];
        Assert.True(await store.DeleteAsync(project, gone.Id, default));
        var after = await dashboard.UsageAsync(project, start, start + (24 * 3600), default);
        var hour = after.Single(p => p.Hour == gone.Created - (gone.Created % 3600) && p.Model == gone.Model);
        var before = expected.Single(p => p.Hour == hour.Hour && p.Model == hour.Model);
        Assert.Equal(before with { Requests = before.Requests - 1, PromptTokens = before.PromptTokens - gone.PromptTokens, CompletionTokens = before.CompletionTokens - gone.CompletionTokens }, hour);
        Assert.DoesNotContain(gone.Id, await WalkAsync(new DashboardFilter(project, null, [], null, null, Words[7 % Words.Length]), 50));

        // Every project together (the admin's view) adds them up.
        var everyone = await dashboard.UsageAsync(null, start, start + (24 * 3600), default);
        Assert.True(everyone.Where(p => p.Model == "model-a").Sum(p => p.Requests) >= after.Where(p => p.Model == "model-a").Sum(p => p.Requests));
    }

    [Fact]
    public async Task Get_IsScopedToTheProject_AndTheAdminsNullProjectFindsAny()
    {
        var (project, rows, _) = await SeedAsync(2);
        var detail = await dashboard.GetAsync(project, rows[1].Id, default);
        Assert.NotNull(detail);
        Assert.Equal(project, detail.ProjectId);
        Assert.Equal(2, detail.Messages.Count);
        Assert.Equal((null, null), (detail.LatencyMs, detail.TraceId));
        var timed = rows[0] with { Id = Cairn.OpenAI.Ids.Completion() };
        await store.AddAsync(Completion(timed) with { LatencyMs = 1234, TraceId = "4bf92f3577b34da6a3ce929d0e0e4736" }, default);
        var timedDetail = (await dashboard.GetAsync(project, timed.Id, default))!;
        Assert.Equal((1234L, "4bf92f3577b34da6a3ce929d0e0e4736"), (timedDetail.LatencyMs, timedDetail.TraceId));
        Assert.Null(await dashboard.GetAsync(project + 1000, rows[1].Id, default));
        Assert.Equal(project, (await dashboard.GetAsync(null, rows[1].Id, default))!.ProjectId);
        Assert.Null(await dashboard.GetAsync(null, "chatcmpl-unknown", default));

        var other = await SeedAsync(2);
        var mine = await WalkAsync(new DashboardFilter(project, null, [], null, null, null), 10);
        Assert.DoesNotContain(other.Rows[0].Id, mine);
        var all = await WalkAsync(new DashboardFilter(null, null, [KeyValuePair.Create("k", "0")], null, null, null), 500);
        Assert.Contains(other.Rows[0].Id, all);
        Assert.Contains(rows[0].Id, all);
    }
}
