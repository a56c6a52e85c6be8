using Cairn.OpenAI;
using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests;

/// <summary>A server that purges every 50 ms, three completions a batch.</summary>
public sealed class FastPurgeSqliteServer : CairnServer
{
    protected override string[] ExtraArgs => ["--Storage:RetentionDays=30", "--Storage:PurgeInterval=00:00:00.05", "--Storage:PurgeBatch=3"];
}

/// <summary>The same on PostgreSQL.</summary>
public sealed class FastPurgePostgresServer : PostgresCairnServer
{
    protected override string[] ExtraArgs => ["--Storage:RetentionDays=30", "--Storage:PurgeInterval=00:00:00.05", "--Storage:PurgeBatch=3"];
}

public sealed class SqliteRetentionTests(FastPurgeSqliteServer server) : RetentionContract(server), IClassFixture<FastPurgeSqliteServer>;

public sealed class PostgresRetentionTests(FastPurgePostgresServer server) : RetentionContract(server), IClassFixture<FastPurgePostgresServer>;

/// <summary>The background purge on each store: expired completions go in batches, with their rows; cursors stay a day.</summary>
public abstract class RetentionContract(CairnServer server)
{
    private readonly ICompletionStore store = server.Services.GetRequiredService<ICompletionStore>();

    [Fact]
    public async Task ExpiredCompletions_ArePurgedInTheBackground_NewerOnesStay_AndRecentIdsStayCursors()
    {
        var now = DateTimeOffset.UtcNow;
        var expiredAt = (now - TimeSpan.FromDays(31)).ToUnixTimeSeconds();
        // Ten expired (more than three batches): seven made recently (their ids stay cursors for a day), three
        // made long ago (their tombstones go too). Then a fresh one, which must stay.
        var recentIds = Enumerable.Range(0, 7).Select(_ => Ids.Completion()).ToList();
        var oldIds = Enumerable.Range(0, 3).Select(i => Ids.CompletionFloor(now - TimeSpan.FromDays(40)) + new string((char)('a' + i), 22)).ToList();
        foreach (var id in oldIds.Concat(recentIds))
        {
            await store.AddAsync(StoreContract.Completion(id, new Dictionary<string, string> { ["k"] = "expired" }, created: expiredAt), default);
        }
        var fresh = Ids.Completion();
        await store.AddAsync(StoreContract.Completion(fresh, new Dictionary<string, string> { ["k"] = "fresh" }), default);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await store.GetAsync(Projects.Default, recentIds[^1], default) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the expired completions were not purged in time");
            await Task.Delay(50);
        }

        foreach (var id in oldIds.Concat(recentIds))
        {
            Assert.Null(await store.GetAsync(Projects.Default, id, default));
            Assert.Equal(ListFailure.NotFound, (await store.ListMessagesAsync(Projects.Default, id, new MessageQuery(null, 10, true), default)).Failure);
        }
        Assert.NotNull(await store.GetAsync(Projects.Default, fresh, default));
        Assert.Empty((await ListAsync(("k", "expired"), null)).Page!.Items);
        Assert.Equal([fresh], (await ListAsync(("k", "fresh"), recentIds[0])).Page!.Items.Select(i => i.Id));
        Assert.Equal(ListFailure.UnknownCursor, (await ListAsync(("k", "fresh"), oldIds[0])).Failure);
    }

    private Task<(StoredPage? Page, ListFailure Failure)> ListAsync((string Key, string Value) pair, string? after) =>
        store.ListAsync(Projects.Default, new CompletionQuery(null, [new(pair.Key, pair.Value)], after, 20, true), default);
}
