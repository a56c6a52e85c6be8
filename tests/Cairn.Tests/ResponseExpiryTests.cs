using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Cairn.Tests.Infrastructure.ResponseChains;

namespace Cairn.Tests;

/// <summary>A server whose background purge is off, so that a test purges itself, batch by batch.</summary>
public sealed class NoPurgeSqliteServer : CairnServer
{
    protected override string[] ExtraArgs => ["--Storage:RetentionDays=0"];
}

/// <summary>The same on PostgreSQL.</summary>
public sealed class NoPurgePostgresServer : PostgresCairnServer
{
    protected override string[] ExtraArgs => ["--Storage:RetentionDays=0"];
}

/// <summary>Response expiry on SQLite, each test on a store of its own.</summary>
public sealed class SqliteResponseExpiryTests : ResponseExpiryContract
{
    private protected override CairnServer NewServer() => new NoPurgeSqliteServer();
}

/// <summary>Response expiry on PostgreSQL, each test on a database of its own.</summary>
public sealed class PostgresResponseExpiryTests : ResponseExpiryContract
{
    private protected override CairnServer NewServer() => new NoPurgePostgresServer();
}

/// <summary>
/// Expired responses go oldest first, at most a batch a step, with their items; the later turns of their chains that
/// are kept keep their whole context. Each test has an empty store, as a purge walks storage order from its start.
/// </summary>
public abstract class ResponseExpiryContract : IAsyncLifetime
{
    private CairnServer server = null!;

    private protected abstract CairnServer NewServer();

    private IResponseStore Store => server.Services.GetRequiredService<IResponseStore>();

    private IResponseRetention Retention => server.Services.GetRequiredService<IResponseRetention>();

    private static DateTimeOffset ExpiredBefore => DateTimeOffset.UtcNow - TimeSpan.FromDays(30);

    public async Task InitializeAsync()
    {
        server = NewServer();
        await server.InitializeAsync();
    }

    public Task DisposeAsync() => server.DisposeAsync();

    [Fact]
    public async Task ExpiredTurns_Go_AndTheKeptLaterTurnsKeepTheirContextAndInputItems()
    {
        var chains = new ResponseChains(Store);
        var expired = await chains.ChainAsync(3, createdAt: LongAgo);
        var alone = await chains.AddAsync(Turn("alone", previous: null, createdAt: LongAgo));
        var kept = await chains.ChainAsync(2, previous: expired[^1].Id);
        var branch = await chains.AddAsync(Turn("branch", previous: expired[1].Id));

        Assert.False(await Retention.PurgeAsync(ExpiredBefore, 100, default));

        foreach (var turn in expired.Append(alone))
        {
            Assert.Null(await Store.GetAsync(Projects.Default, turn.Id, default));
        }
        Assert.Equal(kept[0].Body, await Store.GetAsync(Projects.Default, kept[0].Id, default));
        Assert.Equal(Expected([.. expired, .. kept]), await chains.ContextAsync(kept[^1].Id));
        Assert.Equal(ExpectedInput([.. expired, kept[0]]), await chains.AllInputItemsAsync(kept[0].Id));
        Assert.Equal(ExpectedInput([expired[0], expired[1], branch]), await chains.AllInputItemsAsync(branch.Id));
    }

    [Fact]
    public async Task APurgeStep_TakesAtMostItsBatch_OldestFirst_AndSaysWhenMoreMayBeLeft()
    {
        var chains = new ResponseChains(Store);
        var expired = await chains.ChainAsync(3, createdAt: LongAgo);
        var child = await chains.AddAsync(Turn("child", previous: expired[^1].Id));

        Assert.True(await Retention.PurgeAsync(ExpiredBefore, 2, default));

        Assert.Null(await Store.GetAsync(Projects.Default, expired[1].Id, default));
        Assert.NotNull(await Store.GetAsync(Projects.Default, expired[2].Id, default));
        Assert.Equal(Expected([.. expired, child]), await chains.ContextAsync(child.Id));

        Assert.False(await Retention.PurgeAsync(ExpiredBefore, 2, default));

        Assert.Null(await Store.GetAsync(Projects.Default, expired[2].Id, default));
        Assert.Equal(Expected([.. expired, child]), await chains.ContextAsync(child.Id));
        Assert.Equal(child.Body, await Store.GetAsync(Projects.Default, child.Id, default));
    }
}

/// <summary>The background purge (every 50 ms, three a batch) expires responses on SQLite.</summary>
public sealed class SqliteResponseRetentionTests(FastPurgeSqliteServer server) : ResponseRetentionContract(server), IClassFixture<FastPurgeSqliteServer>;

/// <summary>The same on PostgreSQL.</summary>
public sealed class PostgresResponseRetentionTests(FastPurgePostgresServer server) : ResponseRetentionContract(server), IClassFixture<FastPurgePostgresServer>;

/// <summary>The retention service purges expired responses as it does completions, folding what is kept.</summary>
public abstract class ResponseRetentionContract(CairnServer server)
{
    [Fact]
    public async Task ExpiredResponses_ArePurgedInTheBackground_AndTheKeptTurnKeepsItsContext()
    {
        var store = server.Services.GetRequiredService<IResponseStore>();
        var chains = new ResponseChains(store);
        // They expire a few seconds from now, once the whole chain is stored: a turn must not be added after the
        // one it continues is gone.
        var soon = Now - (30 * 86_400) + 5;
        var expired = await chains.ChainAsync(7, createdAt: soon);
        var kept = await chains.AddAsync(Turn("kept", previous: expired[^1].Id));
        Assert.NotNull(await store.GetAsync(Projects.Default, expired[0].Id, default));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await store.GetAsync(Projects.Default, expired[^1].Id, default) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the expired responses were not purged in time");
            await Task.Delay(50);
        }

        foreach (var turn in expired)
        {
            Assert.Null(await store.GetAsync(Projects.Default, turn.Id, default));
        }
        Assert.Equal(Expected([.. expired, kept]), await chains.ContextAsync(kept.Id));
    }
}
