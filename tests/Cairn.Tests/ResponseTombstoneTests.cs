using System.Data.Common;
using System.Net;
using System.Text;
using Cairn.Export;
using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Cairn.Tests.ResponseExportContract;

namespace Cairn.Tests;

/// <summary>Response tombstones on SQLite, each test on a store of its own.</summary>
public sealed class SqliteResponseTombstoneTests : ResponseTombstoneContract
{
    private protected override CairnServer NewServer() => new NoPurgeSqliteServer();
}

/// <summary>Response tombstones on PostgreSQL, each test on a database of its own.</summary>
public sealed class PostgresResponseTombstoneTests : ResponseTombstoneContract
{
    private protected override CairnServer NewServer() => new NoPurgePostgresServer();
}

/// <summary>
/// A deleted or expired response leaves its id behind: an import of an export taken before skips it (counted), the
/// rest of its chain is kept or imported and goes on, its id is never stored again, and retention drops the tombstone
/// a day after the response would have expired.
/// </summary>
public abstract class ResponseTombstoneContract : IAsyncLifetime
{
    private CairnServer server = null!;

    private protected abstract CairnServer NewServer();

    private IResponseArchive Archive => server.Services.GetRequiredService<IResponseArchive>();

    private IResponseRetention Retention => server.Services.GetRequiredService<IResponseRetention>();

    public async Task InitializeAsync()
    {
        server = NewServer();
        await server.InitializeAsync();
    }

    public Task DisposeAsync() => server.DisposeAsync();

    private async Task<List<string>> ExportAsync(string run)
    {
        using var output = new MemoryStream();
        var filter = new ExportFilter(null, null, [new("run", run)], null, null) { Objects = ExportObjects.Responses };
        await server.Services.GetRequiredService<StoreExporter>().WriteAsync(filter, ExportFormat.Raw, output, null, default);
        return [.. Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    private Task<ImportResult> ImportAsync(IEnumerable<string> lines) => ImportAsync(server, lines);

    private static Task<ImportResult> ImportAsync(CairnServer into, IEnumerable<string> lines) =>
        into.Services.GetRequiredService<CompletionImporter>().ImportAsync(
            new MemoryStream(Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")))), null, null, default);

    private async Task<HttpStatusCode> StatusAsync(string id)
    {
        using var response = await server.Http.GetAsync($"/v1/responses/{id}");
        return response.StatusCode;
    }

    private static (long, long, long, long, ImportFailure?) Counts(ImportResult result) =>
        (result.Imported, result.Skipped, result.ResponsesImported, result.ResponsesSkipped, result.Failure);

    [Fact]
    public async Task ADeletedResponse_LeavesATombstone_AndAnOlderExportImportedAgainSkipsIt_WhileItsChainGoesOn()
    {
        var run = Guid.NewGuid().ToString();
        var chain = await EchoChainAsync(server, run, "one", "two", "three");
        var lines = await ExportAsync(run);
        var before = await ContinuedAsync(server, chain[2]);
        using (var deleted = await server.Http.DeleteAsync($"/v1/responses/{chain[1]}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        var again = await ImportAsync(lines);

        Assert.Equal(new Dictionary<string, long> { [chain[1]] = Projects.Default }, await Archive.FindDeletedAsync(chain, default));
        Assert.Equal((0L, 3L, 0L, 3L, (ImportFailure?)null), Counts(again));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(chain[1]));
        Assert.Equal(before, await ContinuedAsync(server, chain[2]));
        // The dashboard's list pages on after a response deleted meanwhile.
        Assert.NotNull(await server.Services.GetRequiredService<IResponseDashboard>().CursorAsync(Projects.Default, chain[1], default));
    }

    [Fact]
    public async Task ATurnContinuingADeletedResponse_ImportsStandingAlone_WithoutTheDeletedItems_AndItsChainGoesOn()
    {
        var run = Guid.NewGuid().ToString();
        var chain = await EchoChainAsync(server, run, "one", "two", "three");
        var lines = await ExportAsync(run);
        var full = await ContinuedAsync(server, chain[2]);
        // Another store got the first turn only, and deleted it; the later turns were never there.
        await using var other = NewServer();
        await other.InitializeAsync();
        Assert.Equal(1L, (await ImportAsync(other, lines[..1])).ResponsesImported);
        using (var deleted = await other.Http.DeleteAsync($"/v1/responses/{chain[0]}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        var imported = await ImportAsync(other, lines);

        Assert.Equal((2L, 1L, 2L, 1L, (ImportFailure?)null), Counts(imported));
        using (var gone = await other.Http.GetAsync($"/v1/responses/{chain[0]}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        // Each turn is one input item and one output item: the chain goes on from the second turn's.
        Assert.Equal(6, full.Count);
        Assert.Equal(full[2..], await ContinuedAsync(other, chain[2]));
    }

    [Fact]
    public async Task AnExpiredResponse_LeavesATombstone_AndAnOlderExportImportedAgainSkipsIt_WhileItsChainGoesOn()
    {
        var run = Guid.NewGuid().ToString();
        var chain = await EchoChainAsync(server, run, "one", "two", "three");
        var lines = await ExportAsync(run);
        var before = await ContinuedAsync(server, chain[2]);

        // A batch of one takes the oldest turn only.
        Assert.True(await Retention.PurgeAsync(DateTimeOffset.UtcNow + TimeSpan.FromMinutes(1), 1, default));
        var again = await ImportAsync(lines);

        Assert.Equal(new Dictionary<string, long> { [chain[0]] = Projects.Default }, await Archive.FindDeletedAsync(chain, default));
        Assert.Equal((0L, 3L, 0L, 3L, (ImportFailure?)null), Counts(again));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(chain[0]));
        Assert.Equal(before, await ContinuedAsync(server, chain[2]));
    }

    [Fact]
    public async Task ATombstone_IsDroppedADayAfterItsResponseWouldHaveExpired()
    {
        var run = Guid.NewGuid().ToString();
        var chain = await EchoChainAsync(server, run, "one", "two");
        using (var deleted = await server.Http.DeleteAsync($"/v1/responses/{chain[0]}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        // Expired a minute from now: the tombstones stay. Expired a day and a minute ago: they go.
        Assert.False(await Retention.PurgeAsync(DateTimeOffset.UtcNow + TimeSpan.FromMinutes(1), 100, default));
        var kept = await Archive.FindDeletedAsync(chain, default);
        Assert.False(await Retention.PurgeAsync(DateTimeOffset.UtcNow + TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1), 100, default));

        Assert.Equal([chain[0], chain[1]], kept.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(await Archive.FindDeletedAsync(chain, default));
    }

    [Fact]
    public async Task NoResponseIsStoredAgain_UnderADeletedId()
    {
        var chains = new ResponseChains(server.Services.GetRequiredService<IResponseStore>());
        var turn = await chains.AddAsync(ResponseChains.Turn("gone", previous: null));
        Assert.True(await server.Services.GetRequiredService<IResponseStore>().DeleteAsync(Projects.Default, turn.Id, default));

        await Assert.ThrowsAnyAsync<DbException>(() => chains.AddAsync(turn));

        Assert.Null(await server.Services.GetRequiredService<IResponseStore>().GetAsync(Projects.Default, turn.Id, default));
    }
}
