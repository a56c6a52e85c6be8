using System.Text;
using System.Text.Json;
using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests;

/// <summary>The store contract on SQLite.</summary>
public sealed class SqliteStoreContractTests(CairnServer server) : StoreContract(server), IClassFixture<CairnServer>;

/// <summary>The store contract on PostgreSQL.</summary>
public sealed class PostgresStoreContractTests(PostgresCairnServer server) : StoreContract(server), IClassFixture<PostgresCairnServer>;

/// <summary>
/// What every store must do, driven through <see cref="ICompletionStore"/> of a running server: paging edges,
/// filters, updates and deletes keeping the filter rows right, messages, and writes racing each other.
/// </summary>
public abstract class StoreContract(CairnServer server)
{
    private protected ICompletionStore Store { get; } = server.Services.GetRequiredService<ICompletionStore>();

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    internal static StoredCompletion Completion(string id, IReadOnlyDictionary<string, string> metadata, string model = "echo", long? created = null, int messages = 2) =>
        new(Projects.Default, id, model, created ?? Now, Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","n":0}"""), metadata,
            [.. Enumerable.Range(0, messages).Select(i => Encoding.UTF8.GetBytes($$"""{"id":"{{id}}-{{i}}"}"""))]);

    private static Dictionary<string, string> Run(string run, params (string Key, string Value)[] more)
    {
        var metadata = new Dictionary<string, string> { ["run"] = run };
        foreach (var (key, value) in more)
        {
            metadata[key] = value;
        }
        return metadata;
    }

    private async Task<List<string>> AddManyAsync(string run, int count, Func<int, (string, string)[]>? more = null)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var id = Cairn.OpenAI.Ids.Completion();
            await Store.AddAsync(Completion(id, Run(run, more?.Invoke(i) ?? [])), default);
            ids.Add(id);
        }
        return ids;
    }

    private async Task<StoredPage> ListAsync(string run, string? after = null, int limit = 20, bool ascending = false, string? model = null,
        params (string Key, string Value)[] more)
    {
        var metadata = Run(run, more).ToList();
        var (page, failure) = await Store.ListAsync(Projects.Default, new CompletionQuery(model, metadata, after, limit, ascending), default);
        Assert.Equal(ListFailure.None, failure);
        return page!;
    }

    private static List<string> Ids(StoredPage page) => [.. page.Items.Select(i => i.Id)];

    [Fact]
    public async Task Get_ReturnsTheStoredBytes_AndNullForUnknownIdsOrAnotherProject()
    {
        var id = Cairn.OpenAI.Ids.Completion();
        var completion = Completion(id, Run("get"));
        await Store.AddAsync(completion, default);

        Assert.Equal(completion.Body, await Store.GetAsync(Projects.Default, id, default));
        Assert.Null(await Store.GetAsync(Projects.Default, "chatcmpl-unknown", default));
        Assert.Null(await Store.GetAsync(Projects.Default + 1, id, default));
    }

    [Fact]
    public async Task List_HasMore_IsExact_AtEveryPageBoundary()
    {
        var run = Guid.NewGuid().ToString();
        var ids = await AddManyAsync(run, 5);

        var exact = await ListAsync(run, limit: 5);
        var oneShort = await ListAsync(run, limit: 4);
        var afterLast = await ListAsync(run, after: ids[0]);
        var afterFirstAscending = await ListAsync(run, after: ids[0], ascending: true, limit: 4);

        Assert.Equal(ids.AsEnumerable().Reverse(), Ids(exact));
        Assert.False(exact.HasMore);
        Assert.True(oneShort.HasMore);
        Assert.Empty(afterLast.Items);
        Assert.False(afterLast.HasMore);
        Assert.Equal(ids[1..], Ids(afterFirstAscending));
        Assert.False(afterFirstAscending.HasMore);
    }

    [Fact]
    public async Task List_WithAnUnknownCursor_FailsAsUnknownCursor()
    {
        var (page, failure) = await Store.ListAsync(Projects.Default, new CompletionQuery(null, [], "chatcmpl-nope", 20, false), default);

        Assert.Null(page);
        Assert.Equal(ListFailure.UnknownCursor, failure);
    }

    [Fact]
    public async Task List_WithoutFilters_PagesThroughNewestFirst_AndSeesNewCompletions()
    {
        var run = Guid.NewGuid().ToString();
        var ids = await AddManyAsync(run, 3);

        var ascending = (await Store.ListAsync(Projects.Default, new CompletionQuery(null, [], ids[0], 100, true), default)).Page!;
        var newest = (await Store.ListAsync(Projects.Default, new CompletionQuery(null, [], null, 100, false), default)).Page!;

        Assert.Equal(ids[1..], Ids(ascending).Where(ids.Contains));
        Assert.Equal(ids.AsEnumerable().Reverse(), Ids(newest).Where(ids.Contains));
    }

    [Fact]
    public async Task List_AndsThreeMetadataPairs_AndTheModel_WhicheverPairIsRarest()
    {
        var run = Guid.NewGuid().ToString();
        // tenant is common, user rare, shard in between: every order of rarity among the pairs.
        var ids = await AddManyAsync(run, 40, i => [("tenant", "t" + (i % 2)), ("user", i % 13 == 0 ? "rare" : "u" + i), ("shard", "s" + (i % 4))]);
        await Store.AddAsync(Completion(Cairn.OpenAI.Ids.Completion(), Run(run, ("tenant", "t0"), ("user", "rare"), ("shard", "s0")), model: "other"), default);
        var expected = ids.Where((_, i) => i % 2 == 0 && i % 13 == 0 && i % 4 == 0).Reverse().ToList();

        var all = await ListAsync(run, model: "echo", more: [("tenant", "t0"), ("user", "rare"), ("shard", "s0")]);
        var reordered = await ListAsync(run, model: "echo", more: [("shard", "s0"), ("user", "rare"), ("tenant", "t0")]);
        var pagedAfterFirst = await ListAsync(run, after: expected[0], model: "echo", more: [("user", "rare"), ("tenant", "t0")]);
        var none = await ListAsync(run, more: [("tenant", "t1"), ("user", "rare"), ("shard", "s0")]);

        Assert.Equal(expected, Ids(all));
        Assert.Equal(expected, Ids(reordered));
        Assert.Equal(expected[1..], Ids(pagedAfterFirst));
        Assert.Empty(none.Items);
    }

    [Fact]
    public async Task List_AndsMetadataPairs_OnEveryPage_WhicheverPairDrives()
    {
        var run = Guid.NewGuid().ToString();
        // Past any cursor one of run (every row), color (half), size (a third) and early (the first five) is the
        // rarest, and which one changes from page to page.
        var ids = await AddManyAsync(run, 60, i => [("color", i % 2 == 0 ? "red" : "blue"), ("size", "s" + (i % 3)), ("early", i < 5 ? "yes" : "no")]);
        var both = Enumerable.Range(0, 60).Where(i => i % 6 == 0).Select(i => ids[i]).Reverse().ToList();

        var pages = new List<List<string>>();
        string? after = null;
        do
        {
            var page = await ListAsync(run, after, limit: 3, more: [("size", "s0"), ("color", "red")]);
            pages.Add(Ids(page));
            after = page.HasMore ? page.Items[^1].Id : null;
        }
        while (after is not null);
        var ascending = await ListAsync(run, after: ids[6], ascending: true, more: [("color", "red"), ("size", "s0")]);
        var earlyAndRed = await ListAsync(run, after: ids[10], more: [("color", "red"), ("early", "yes")]);
        var earlyAfterThem = await ListAsync(run, after: ids[5], ascending: true, more: [("early", "yes"), ("color", "red")]);
        var (unknown, failure) = await Store.ListAsync(Projects.Default,
            new CompletionQuery(null, [new("run", run), new("early", "yes")], "chatcmpl-nope", 20, false), default);

        Assert.Equal(both, pages.SelectMany(p => p));
        Assert.Equal([3, 3, 3, 1], pages.Select(p => p.Count));
        Assert.Equal(both.AsEnumerable().Reverse().Skip(2), Ids(ascending));
        Assert.Equal([ids[4], ids[2], ids[0]], Ids(earlyAndRed));
        Assert.Empty(earlyAfterThem.Items);
        Assert.False(earlyAfterThem.HasMore);
        Assert.Null(unknown);
        Assert.Equal(ListFailure.UnknownCursor, failure);
    }

    [Fact]
    public async Task Update_ChangesOnlyWhatChanged_AndFiltersFollowIt()
    {
        var run = Guid.NewGuid().ToString();
        var id = Cairn.OpenAI.Ids.Completion();
        await Store.AddAsync(Completion(id, Run(run, ("keep", "same"), ("stage", "draft"), ("drop", "x"))), default);

        var body = await Store.UpdateMetadataAsync(Projects.Default, id, Run(run, ("keep", "same"), ("stage", "final"), ("added", "y")),
            old => [.. old, .. " "u8.ToArray()], default);

        Assert.Equal(await Store.GetAsync(Projects.Default, id, default), body);
        Assert.Equal([id], Ids(await ListAsync(run, more: [("keep", "same"), ("stage", "final"), ("added", "y")])));
        Assert.Empty((await ListAsync(run, more: ("stage", "draft"))).Items);
        Assert.Empty((await ListAsync(run, more: ("drop", "x"))).Items);
        Assert.Null(await Store.UpdateMetadataAsync(Projects.Default, "chatcmpl-unknown", Run(run), old => old, default));
    }

    [Fact]
    public async Task Delete_RemovesMessagesAndFilterRows_AndKeepsTheIdAsACursor()
    {
        var run = Guid.NewGuid().ToString();
        var ids = await AddManyAsync(run, 3, _ => [("color", "red")]);

        Assert.True(await Store.DeleteAsync(Projects.Default, ids[1], default));
        Assert.False(await Store.DeleteAsync(Projects.Default, ids[1], default));

        Assert.Null(await Store.GetAsync(Projects.Default, ids[1], default));
        Assert.Equal(ListFailure.NotFound, (await Store.ListMessagesAsync(Projects.Default, ids[1], new MessageQuery(null, 20, true), default)).Failure);
        Assert.Equal([ids[2], ids[0]], Ids(await ListAsync(run, more: ("color", "red"))));
        Assert.Equal([ids[0]], Ids(await ListAsync(run, after: ids[1])));
        Assert.Equal([ids[2]], Ids(await ListAsync(run, after: ids[1], ascending: true, more: ("color", "red"))));
    }

    [Fact]
    public async Task Messages_PageByIndex_InBothOrders()
    {
        var id = Cairn.OpenAI.Ids.Completion();
        await Store.AddAsync(Completion(id, Run("messages"), messages: 70), default);

        var first = (await Store.ListMessagesAsync(Projects.Default, id, new MessageQuery(null, 50, true), default)).Page!;
        var rest = (await Store.ListMessagesAsync(Projects.Default, id, new MessageQuery(49, 50, true), default)).Page!;
        var newest = (await Store.ListMessagesAsync(Projects.Default, id, new MessageQuery(null, 3, false), default)).Page!;
        var beforeTwo = (await Store.ListMessagesAsync(Projects.Default, id, new MessageQuery(2, 10, false), default)).Page!;

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{id}-{i}"), Ids(first));
        Assert.True(first.HasMore);
        Assert.Equal(Enumerable.Range(50, 20).Select(i => $"{id}-{i}"), Ids(rest));
        Assert.False(rest.HasMore);
        Assert.Equal($$"""{"id":"{{id}}-69"}""", Encoding.UTF8.GetString(newest.Items[0].Body));
        Assert.Equal([$"{id}-1", $"{id}-0"], Ids(beforeTwo));
    }

    [Fact]
    public async Task APage_EndsWhereItsBytesWouldPassTheBudget_WithAtLeastOneItem_AndPagingGoesOn()
    {
        var run = Guid.NewGuid().ToString();
        var padding = new string('x', 40_000);
        var ids = new List<string>();
        foreach (var size in (int[])[1, 1, 3, 1, 1])
        {
            var id = Cairn.OpenAI.Ids.Completion();
            var pad = string.Concat(Enumerable.Repeat(padding, size));
            var bodies = Enumerable.Range(0, 3).Select(i => Encoding.UTF8.GetBytes($$"""{"id":"{{id}}-{{i}}","pad":"{{pad}}"}""")).ToArray();
            await Store.AddAsync(Completion(id, Run(run)) with { Body = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","pad":"{{pad}}"}"""), Messages = bodies }, default);
            ids.Add(id);
        }
        const long Budget = 100_000;
        async Task<StoredPage> PageAsync(string? after) =>
            (await Store.ListAsync(Projects.Default, new CompletionQuery(null, Run(run).ToList(), after, 100, true, Budget), default)).Page!;

        var first = await PageAsync(null);
        var large = await PageAsync(first.Items[^1].Id);
        var rest = await PageAsync(large.Items[^1].Id);
        var messages = (await Store.ListMessagesAsync(Projects.Default, ids[0], new MessageQuery(null, 20, true, Budget), default)).Page!;
        var lastMessage = (await Store.ListMessagesAsync(Projects.Default, ids[0], new MessageQuery(1, 20, true, Budget), default)).Page!;

        Assert.Equal(ids[..2], Ids(first));
        Assert.True(first.HasMore);
        Assert.Equal([ids[2]], Ids(large));
        Assert.True(large.HasMore);
        Assert.Equal(ids[3..], Ids(rest));
        Assert.False(rest.HasMore);
        Assert.Equal([$"{ids[0]}-0", $"{ids[0]}-1"], Ids(messages));
        Assert.True(messages.HasMore);
        Assert.StartsWith($$"""{"id":"{{ids[0]}}-1","pad":"xxx""", Encoding.UTF8.GetString(messages.Items[1].Body), StringComparison.Ordinal);
        Assert.Equal([$"{ids[0]}-2"], Ids(lastMessage));
        Assert.False(lastMessage.HasMore);
    }

    [Fact]
    public async Task MetadataWithNulAndControlCharacters_IsStoredAndFilteredExactly()
    {
        var run = Guid.NewGuid().ToString();
        var (nul, lookalike, nulKey) = (Cairn.OpenAI.Ids.Completion(), Cairn.OpenAI.Ids.Completion(), Cairn.OpenAI.Ids.Completion());
        await Store.AddAsync(Completion(nul, Run(run, ("k", "a\0b"))), default);
        await Store.AddAsync(Completion(lookalike, Run(run, ("k", "a\u0001\u0002b"))), default);
        await Store.AddAsync(Completion(nulKey, Run(run, ("k\0", "\u0001"))), default);

        Assert.Equal([nul], Ids(await ListAsync(run, more: ("k", "a\0b"))));
        Assert.Equal([lookalike], Ids(await ListAsync(run, more: ("k", "a\u0001\u0002b"))));
        Assert.Equal([nulKey], Ids(await ListAsync(run, more: ("k\0", "\u0001"))));
        Assert.NotNull(await Store.UpdateMetadataAsync(Projects.Default, nul, Run(run, ("k", "\0")), old => old, default));
        Assert.Equal([nul], Ids(await ListAsync(run, more: ("k", "\0"))));
        Assert.Empty((await ListAsync(run, more: ("k", "a\0b"))).Items);
        Assert.Null(await Store.GetAsync(Projects.Default, nul + "\0", default));
        Assert.Equal(ListFailure.UnknownCursor, (await Store.ListAsync(Projects.Default, new CompletionQuery(null, [], "x\0", 20, false), default)).Failure);
        Assert.Empty((await ListAsync(run, model: "e\0cho")).Items);
    }

    [Fact]
    public async Task ConcurrentCreates_AreAllStored_AndAFailingOneFailsAlone()
    {
        var run = Guid.NewGuid().ToString();
        var ids = Enumerable.Range(0, 300).Select(_ => Cairn.OpenAI.Ids.Completion()).ToList();

        // One id twice: whichever of the two commits first wins, the other fails, and only that one.
        var writes = ids.Append(ids[7]).Select(id => Task.Run(() => Store.AddAsync(Completion(id, Run(run)), default))).ToList();
        await Task.WhenAll(writes).ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.Equal(1, writes.Count(w => w.IsFaulted));
        var listed = new List<string>();
        for (string? after = null; ;)
        {
            var page = await ListAsync(run, after: after, limit: 100);
            listed.AddRange(Ids(page));
            if (!page.HasMore)
            {
                break;
            }
            after = listed[^1];
        }
        Assert.Equal(ids.Order(), listed.Order());
    }

    [Fact]
    public async Task ConcurrentUpdates_OfOneCompletion_AreSerialized_AndLeaveBodyAndFiltersAgreeing()
    {
        var run = Guid.NewGuid().ToString();
        var id = Cairn.OpenAI.Ids.Completion();
        await Store.AddAsync(Completion(id, Run(run, ("v", "start"))), default);

        // Each update rewrites the body it is given: a lost update would show as a count short of 50.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => Store.UpdateMetadataAsync(Projects.Default, id, Run(run, ("v", "v" + i)), Increment, default))));

        using var body = JsonDocument.Parse((await Store.GetAsync(Projects.Default, id, default))!);
        Assert.Equal(50, body.RootElement.GetProperty("n").GetInt32());
        var matches = new List<int>();
        for (var i = 0; i < 50; i++)
        {
            if ((await ListAsync(run, more: ("v", "v" + i))).Items.Count > 0)
            {
                matches.Add(i);
            }
        }
        Assert.Single(matches);
        Assert.Empty((await ListAsync(run, more: ("v", "start"))).Items);
    }

    private static byte[] Increment(byte[] body)
    {
        using var json = JsonDocument.Parse(body);
        var n = json.RootElement.GetProperty("n").GetInt32() + 1;
        return Encoding.UTF8.GetBytes($$"""{"id":"{{json.RootElement.GetProperty("id").GetString()}}","n":{{n}}}""");
    }
}
