using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Access;
using Cairn.OpenAI;
using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests.Dashboard;

/// <summary>The dashboard's reads and writes of stored responses on SQLite.</summary>
public sealed class SqliteResponseDashboardStoreTests(CairnServer server) : ResponseDashboardStoreContract(server), IClassFixture<CairnServer>;

/// <summary>The dashboard's reads and writes of stored responses on PostgreSQL.</summary>
public sealed class PostgresResponseDashboardStoreTests(PostgresCairnServer server) : ResponseDashboardStoreContract(server), IClassFixture<PostgresCairnServer>;

/// <summary>
/// What the dashboard reads of stored responses, on every store: the list under every filter gives the brute-force
/// answer page after page in both directions, rows carry previews made from the items, a response's chain is read
/// with its own items last and bounded, metadata updates reach the filter and the stored JSON, deletes and expiry
/// take the dashboard's rows, and projects are walls.
/// </summary>
public abstract class ResponseDashboardStoreContract(CairnServer server)
{
    private readonly IResponseDashboard dashboard = server.Services.GetRequiredService<IResponseDashboard>();
    private readonly IResponseStore store = server.Services.GetRequiredService<IResponseStore>();
    private readonly IAccessStore access = server.Services.GetRequiredService<IAccessStore>();

    private async Task<long> ProjectAsync() => (await access.EnsureProjectAsync("resp-" + Guid.NewGuid().ToString("N")[..12], default)).Id;

    /// <summary>A user message input item, as Cairn stores one.</summary>
    internal static StoredItem UserMessage(string responseId, string text, string role = "user")
    {
        var id = Ids.Item("msg", responseId);
        return new(id, Encoding.UTF8.GetBytes(new JsonObject
        {
            ["id"] = id, ["type"] = "message", ["status"] = "completed",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }), ["role"] = role,
        }.ToJsonString()));
    }

    internal static StoredItem Answer(string responseId, string text)
    {
        var id = Ids.Item("msg", responseId);
        return new(id, Encoding.UTF8.GetBytes(new JsonObject
        {
            ["id"] = id, ["type"] = "message", ["status"] = "completed",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray(), ["text"] = text }),
            ["role"] = "assistant",
        }.ToJsonString()));
    }

    internal static StoredItem Call(string responseId, string name, string arguments, string callId)
    {
        var id = Ids.Item("fc", responseId);
        return new(id, Encoding.UTF8.GetBytes(new JsonObject
        {
            ["id"] = id, ["type"] = "function_call", ["status"] = "completed", ["arguments"] = arguments, ["call_id"] = callId, ["name"] = name,
        }.ToJsonString()));
    }

    internal static StoredItem CallOutput(string responseId, string callId, string output)
    {
        var id = Ids.Item("fc", responseId);
        return new(id, Encoding.UTF8.GetBytes(new JsonObject
        {
            ["id"] = id, ["type"] = "function_call_output", ["status"] = "completed", ["call_id"] = callId, ["output"] = output,
        }.ToJsonString()));
    }

    /// <summary>A response shaped as Cairn stores one; its items are made by <paramref name="input"/> and <paramref name="output"/> from its id.</summary>
    internal static StoredResponse Response(long project, string model, Dictionary<string, string> metadata,
        Func<string, StoredItem[]> input, Func<string, StoredItem[]> output, string? previous = null, long? createdAt = null, string status = "completed")
    {
        var id = Ids.Response(TimeProvider.System);
        var created = createdAt ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var outputItems = output(id);
        var body = new JsonObject
        {
            ["id"] = id, ["object"] = "response", ["created_at"] = created, ["status"] = status, ["model"] = model,
            ["output"] = new JsonArray([.. outputItems.Select(i => JsonNode.Parse(i.Body))]),
            ["previous_response_id"] = previous, ["usage"] = new JsonObject { ["input_tokens"] = 11, ["output_tokens"] = 7, ["total_tokens"] = 18 },
            ["metadata"] = new JsonObject([.. metadata.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]),
        };
        return new StoredResponse(project, id, model, created, previous, Encoding.UTF8.GetBytes(body.ToJsonString()), input(id), outputItems, metadata)
        {
            RequestId = Ids.Request(),
            LatencyMs = 42,
            Status = status,
            InputTokens = 11,
            OutputTokens = 7,
        };
    }

    private sealed record Made(string Id, string Model, Dictionary<string, string> Metadata);

    /// <summary>A fresh project with <paramref name="count"/> responses, oldest first.</summary>
    private async Task<(long Project, List<Made> Rows)> SeedAsync(int count)
    {
        var project = await ProjectAsync();
        var rows = new List<Made>();
        for (var i = 0; i < count; i++)
        {
            var metadata = new Dictionary<string, string> { ["k"] = (i % 4).ToString(CultureInfo.InvariantCulture), ["even"] = i % 2 == 0 ? "yes" : "no" };
            var model = i % 3 == 0 ? "model-b" : "model-a";
            var response = Response(project, model, metadata, id => [UserMessage(id, $"Question {i}")], id => [Answer(id, $"Answer {i}")]);
            await store.AddAsync(response, default);
            rows.Add(new Made(response.Id, model, metadata));
        }
        return (project, rows);
    }

    private async Task<List<string>> WalkAsync(ResponseFilter filter, int limit)
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

    private static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static KeyValuePair<string, string> Pair(string key, string value) => KeyValuePair.Create(key, value);

    [Fact]
    public async Task EveryFilter_PagesThroughTheBruteForceAnswer()
    {
        var (project, rows) = await SeedAsync(40);
        var cases = new List<(string? Model, KeyValuePair<string, string>? Pair, Func<Made, bool> Expected)>
        {
            (null, null, _ => true),
            ("model-b", null, m => m.Model == "model-b"),
            (null, Pair("k", "1"), m => m.Metadata["k"] == "1"),
            ("model-a", Pair("even", "yes"), m => m.Model == "model-a" && m.Metadata["even"] == "yes"),
            ("model-c", null, _ => false),
            (null, Pair("k", "9"), _ => false),
        };
        foreach (var (model, pair, expected) in cases)
        {
            var want = rows.Where(expected).Select(m => m.Id).Reverse().ToList();
            var filter = new ResponseFilter(project, model, pair);
            Assert.Equal(want, await WalkAsync(filter, 7));
            Assert.Equal(want, await WalkAsync(filter, 100));
        }
    }

    [Fact]
    public async Task TheAdminsView_FindsAPairInEveryProject_AndOnlyThere()
    {
        var run = Guid.NewGuid().ToString("N");
        var first = await ProjectAsync();
        var second = await ProjectAsync();
        var made = new List<string>();
        foreach (var project in new[] { first, second, first })
        {
            var response = Response(project, "model-a", new() { ["run"] = run }, id => [UserMessage(id, "hello")], id => [Answer(id, "hi")]);
            await store.AddAsync(response, default);
            made.Add(response.Id);
        }
        await store.AddAsync(Response(first, "model-a", new() { ["run"] = "other" }, id => [UserMessage(id, "x")], id => [Answer(id, "y")]), default);

        made.Reverse();
        Assert.Equal(made, await WalkAsync(new ResponseFilter(null, null, Pair("run", run)), 2));
        Assert.Equal([made[0], made[2]], await WalkAsync(new ResponseFilter(first, null, Pair("run", run)), 2));
        Assert.Equal(made, await WalkAsync(new ResponseFilter(null, "model-a", Pair("run", run)), 10));
    }

    [Fact]
    public async Task PagingNewer_FromAnyCursor_ReturnsTheRowsAboveIt_NewestFirst()
    {
        var (project, rows) = await SeedAsync(25);
        var filter = new ResponseFilter(project, null, null);
        var all = await dashboard.ListAsync(filter, PageCursor.Newest, 100, default);
        Assert.Equal(rows.Select(r => r.Id).Reverse(), all.Rows.Select(r => r.Id));
        Assert.False(all.HasOlder);
        Assert.False(all.HasNewer);

        var newer = await dashboard.ListAsync(filter, new PageCursor(null, all.Rows[15].Seq), 10, default);
        Assert.Equal(all.Rows.Skip(5).Take(10).Select(r => r.Id), newer.Rows.Select(r => r.Id));
        Assert.True(newer.HasNewer);
        Assert.True(newer.HasOlder);
        var newest = await dashboard.ListAsync(filter, new PageCursor(null, all.Rows[3].Seq), 10, default);
        Assert.Equal(all.Rows.Take(3).Select(r => r.Id), newest.Rows.Select(r => r.Id));
        Assert.False(newest.HasNewer);

        // Along a metadata pair's index too.
        var even = new ResponseFilter(project, null, Pair("even", "yes"));
        var evens = (await dashboard.ListAsync(even, PageCursor.Newest, 100, default)).Rows;
        var evenNewer = await dashboard.ListAsync(even, new PageCursor(null, evens[8].Seq), 3, default);
        Assert.Equal(evens.Skip(5).Take(3).Select(r => r.Id), evenNewer.Rows.Select(r => r.Id));
        Assert.True(evenNewer.HasNewer);
    }

    [Fact]
    public async Task Rows_CarryPreviewsOfInputAndOutput_StatusTokensAndMetadata()
    {
        var project = await ProjectAsync();
        var question = Response(project, "model-a", new() { ["user"] = "alice" },
            id => [UserMessage(id, "Be brief.", role: "developer"), UserMessage(id, "What is the\n weather in Oslo?"), UserMessage(id, "Answer in metric.", role: "system")],
            id => [Call(id, "get_weather", """{"city":"Oslo"}""", "call_1")], status: "incomplete");
        await store.AddAsync(question, default);
        var result = Response(project, "model-a", [], id => [CallOutput(id, "call_1", """{"temperature":4}""")],
            id => [Answer(id, "It is 4 degrees " + new string('x', 400)), Call(id, "get_time", "{}", "call_2")], previous: question.Id);
        await store.AddAsync(result, default);

        var rows = (await dashboard.ListAsync(new ResponseFilter(project, null, null), PageCursor.Newest, 10, default)).Rows;

        var second = rows[0];
        Assert.Equal((result.Id, project, "model-a", result.CreatedAt, "completed", 11L, 7L),
            (second.Id, second.ProjectId, second.Model, second.CreatedAt, second.Status, second.InputTokens, second.OutputTokens));
        Assert.Equal("""{"temperature":4}""", second.Input);
        Assert.StartsWith("It is 4 degrees xxx", second.Output, StringComparison.Ordinal);
        Assert.Equal(200, second.Output!.Length);
        Assert.Empty(second.Metadata);
        var first = rows[1];
        Assert.Equal("What is the weather in Oslo?", first.Input);
        Assert.Equal("""get_weather({"city":"Oslo"})""", first.Output);
        Assert.Equal("incomplete", first.Status);
        Assert.Equal(new Dictionary<string, string> { ["user"] = "alice" }, first.Metadata);
    }

    [Fact]
    public async Task Get_ReadsTheTraceIdStoredWithTheResponse()
    {
        var project = await ProjectAsync();
        var traced = Response(project, "model-a", [], id => [UserMessage(id, "Traced")], id => [Answer(id, "Yes")]) with
        {
            TraceId = "0af7651916cd43dd8448eb211c80319c",
        };
        await store.AddAsync(traced, default);

        var detail = (await dashboard.GetAsync(project, traced.Id, default))!;

        Assert.Equal(("0af7651916cd43dd8448eb211c80319c", 42L), (detail.TraceId, detail.LatencyMs));
    }

    [Fact]
    public async Task Cursor_AndGet_AreScopedToTheProject_AndTheAdminsNullProjectFindsAny()
    {
        var (project, rows) = await SeedAsync(2);
        var other = await ProjectAsync();

        Assert.NotNull(await dashboard.CursorAsync(project, rows[0].Id, default));
        Assert.Null(await dashboard.CursorAsync(other, rows[0].Id, default));
        Assert.Equal(await dashboard.CursorAsync(project, rows[0].Id, default), await dashboard.CursorAsync(null, rows[0].Id, default));
        Assert.Null(await dashboard.CursorAsync(null, Ids.Response(TimeProvider.System), default));

        Assert.Null(await dashboard.GetAsync(other, rows[1].Id, default));
        Assert.Equal(project, (await dashboard.GetAsync(project, rows[1].Id, default))!.ProjectId);
        Assert.Equal(project, (await dashboard.GetAsync(null, rows[1].Id, default))!.ProjectId);
        Assert.Null(await dashboard.GetAsync(null, Ids.Response(TimeProvider.System), default));
        Assert.DoesNotContain(rows[0].Id, await WalkAsync(new ResponseFilter(other, null, null), 10));
    }

    [Fact]
    public async Task Get_ReadsTheChainOldestFirst_WithItsOwnOutputLast_AndAfterItsParentIsDeletedKeepsItsContext()
    {
        var project = await ProjectAsync();
        var first = Response(project, "model-a", [], id => [UserMessage(id, "Weather in Oslo?")], id => [Call(id, "get_weather", """{"city":"Oslo"}""", "call_1")]);
        await store.AddAsync(first, default);
        var second = Response(project, "model-a", [], id => [CallOutput(id, "call_1", "4 degrees")], id => [Answer(id, "It is 4 degrees.")], previous: first.Id);
        await store.AddAsync(second, default);

        var detail = (await dashboard.GetAsync(project, second.Id, default))!;

        Assert.Equal((second.Id, Utf8(second.Body), second.RequestId, 42L, null, first.Id, false),
            (detail.Id, Utf8(detail.Body), detail.RequestId, detail.LatencyMs, detail.TraceId, detail.PreviousId, detail.EarlierItemsLeftOut));
        Assert.Equal(
            [(first.Id, 1, 0, false, Utf8(first.Input[0].Body)), (first.Id, 1, 1, true, Utf8(first.Output[0].Body)),
             (second.Id, 0, 0, false, Utf8(second.Input[0].Body)), (second.Id, 0, 1, true, Utf8(second.Output[0].Body))],
            detail.Items.Select(i => (i.ResponseId, i.Depth, i.Position, i.IsOutput, Utf8(i.Body))));
        Assert.Null((await dashboard.GetAsync(project, first.Id, default))!.PreviousId);

        Assert.True(await store.DeleteAsync(project, first.Id, default));
        var after = (await dashboard.GetAsync(project, second.Id, default))!;

        Assert.Null(after.PreviousId);
        Assert.Equal(
            [(second.Id, 0, -2, false, Utf8(first.Input[0].Body)), (second.Id, 0, -1, false, Utf8(first.Output[0].Body)),
             (second.Id, 0, 0, false, Utf8(second.Input[0].Body)), (second.Id, 0, 1, true, Utf8(second.Output[0].Body))],
            after.Items.Select(i => (i.ResponseId, i.Depth, i.Position, i.IsOutput, Utf8(i.Body))));
    }

    [Fact]
    public async Task Get_ReadsAtMostMaxItems_TheNewest()
    {
        var project = await ProjectAsync();
        var many = Response(project, "model-a", [], id => [.. Enumerable.Range(0, IResponseDashboard.MaxItems + 50).Select(i => UserMessage(id, $"m{i}"))],
            id => [Answer(id, "done")]);
        await store.AddAsync(many, default);

        var detail = (await dashboard.GetAsync(project, many.Id, default))!;

        Assert.True(detail.EarlierItemsLeftOut);
        Assert.Equal(IResponseDashboard.MaxItems, detail.Items.Count);
        Assert.Equal(many.Output[0].Body, detail.Items[^1].Body);
        Assert.Equal(many.Input[51].Body, detail.Items[0].Body);
    }

    [Fact]
    public async Task Get_ReadsAtMostMaxItemBytes_TheNewest_AndAlwaysTheOutput()
    {
        var project = await ProjectAsync();
        var third = (int)(IResponseDashboard.MaxItemBytes / 3);
        var large = Response(project, "model-a", [], id => [.. Enumerable.Range(0, 3).Select(i => UserMessage(id, new string((char)('a' + i), third)))],
            id => [Answer(id, "done")]);
        await store.AddAsync(large, default);
        var huge = Response(project, "model-a", [], id => [UserMessage(id, "small")], id => [Answer(id, new string('z', (int)IResponseDashboard.MaxItemBytes + 10))]);
        await store.AddAsync(huge, default);

        var detail = (await dashboard.GetAsync(project, large.Id, default))!;
        var over = (await dashboard.GetAsync(project, huge.Id, default))!;

        Assert.True(detail.EarlierItemsLeftOut);
        Assert.Equal([large.Input[1].Body, large.Input[2].Body, large.Output[0].Body], detail.Items.Select(i => i.Body));
        Assert.True(over.EarlierItemsLeftOut);
        Assert.Equal([huge.Output[0].Body], over.Items.Select(i => i.Body));
    }

    [Fact]
    public async Task UpdateMetadata_ReplacesTheMap_InTheFilterAndTheStoredJson_WithinItsProjectOnly()
    {
        var (project, rows) = await SeedAsync(3);
        var target = rows[1];
        var metadata = new Dictionary<string, string> { ["k"] = target.Metadata["k"], ["stage"] = "final" };

        var body = await store.UpdateMetadataAsync(project, target.Id, metadata, stored => StoredCompletionWriter.WithMetadata(stored, metadata), default);

        Assert.Equal(body, await store.GetAsync(project, target.Id, default));
        Assert.Equal("""{"k":"1","stage":"final"}""", JsonNode.Parse(body!)!["metadata"]!.ToJsonString());
        Assert.Equal([target.Id], await WalkAsync(new ResponseFilter(project, null, Pair("stage", "final")), 10));
        Assert.Equal([target.Id], await WalkAsync(new ResponseFilter(project, null, Pair("k", "1")), 10));
        Assert.Equal([rows[2].Id, rows[0].Id], await WalkAsync(new ResponseFilter(project, null, Pair("even", "yes")), 10));
        Assert.Empty(await WalkAsync(new ResponseFilter(project, null, Pair("even", "no")), 10));
        Assert.Equal(metadata, (await dashboard.ListAsync(new ResponseFilter(project, null, null), PageCursor.Newest, 10, default)).Rows[1].Metadata);

        var other = await ProjectAsync();
        Assert.Null(await store.UpdateMetadataAsync(other, target.Id, new Dictionary<string, string>(), b => b, default));
        Assert.Null(await store.UpdateMetadataAsync(project, Ids.Response(TimeProvider.System), new Dictionary<string, string>(), b => b, default));
        Assert.Equal(body, await store.GetAsync(project, target.Id, default));
    }

    [Fact]
    public async Task DeletesAndExpiry_TakeTheDashboardsRows()
    {
        var run = Guid.NewGuid().ToString("N");
        var project = await ProjectAsync();
        var kept = Response(project, "model-a", new() { ["run"] = run }, id => [UserMessage(id, "kept")], id => [Answer(id, "ok")]);
        var deleted = Response(project, "model-a", new() { ["run"] = run }, id => [UserMessage(id, "deleted")], id => [Answer(id, "ok")]);
        var expired = Response(project, "model-a", new() { ["run"] = run }, id => [UserMessage(id, "expired")], id => [Answer(id, "ok")],
            createdAt: ResponseChains.LongAgo);
        foreach (var response in new[] { expired, kept, deleted })
        {
            await store.AddAsync(response, default);
        }

        Assert.True(await store.DeleteAsync(project, deleted.Id, default));
        var retention = server.Services.GetRequiredService<IResponseRetention>();
        while (await retention.PurgeAsync(DateTimeOffset.UtcNow.AddDays(-30), 100_000, default))
        {
        }

        Assert.Equal([kept.Id], await WalkAsync(new ResponseFilter(project, null, Pair("run", run)), 10));
        Assert.Equal([kept.Id], await WalkAsync(new ResponseFilter(null, null, Pair("run", run)), 10));
        Assert.Equal([kept.Id], await WalkAsync(new ResponseFilter(project, null, null), 10));
        // Stored again under a new id, the pair and the preview are the new response's alone.
        var again = Response(project, "model-a", new() { ["run"] = run }, id => [UserMessage(id, "again")], id => [Answer(id, "ok")]);
        await store.AddAsync(again, default);
        Assert.Equal(["again", "kept"], (await dashboard.ListAsync(new ResponseFilter(project, null, null), PageCursor.Newest, 10, default)).Rows.Select(r => r.Input));
    }

    [Fact]
    public async Task Models_AreEachProjectsDistinctModels_InOrder()
    {
        var first = await ProjectAsync();
        var second = await ProjectAsync();
        foreach (var (project, model) in new[] { (first, "zeta"), (first, "alpha"), (first, "zeta"), (second, "mid") })
        {
            await store.AddAsync(Response(project, model, [], id => [UserMessage(id, "q")], id => [Answer(id, "a")]), default);
        }

        Assert.Equal(["alpha", "zeta"], await dashboard.ModelsAsync(first, default));
        Assert.Equal(["mid"], await dashboard.ModelsAsync(second, default));
        Assert.Empty(await dashboard.ModelsAsync(await ProjectAsync(), default));
        var every = await dashboard.ModelsAsync(null, default);
        Assert.Equal(every.Order(StringComparer.Ordinal), every);
        Assert.Superset(new HashSet<string> { "alpha", "mid", "zeta" }, every.ToHashSet());
    }
}
