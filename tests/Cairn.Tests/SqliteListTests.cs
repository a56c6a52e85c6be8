using Cairn.Storage;
using Cairn.Storage.Sqlite;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn.Tests;

/// <summary>
/// Lists with several filters on a real SQLite store, sized so that one filter matches more rows than the planner's
/// probe counts: whichever filter drives the walk, the page is the one a brute-force filter gives.
/// </summary>
public sealed class SqliteListTests : IAsyncLifetime
{
    private const int Rows = 700;
    private readonly TempFolder folder = new();
    private readonly List<Row> rows = [];
    private SqliteWriter writer = null!;
    private SqliteReaders readers = null!;
    private SqliteSearchIndex search = null!;
    private SqliteCompletionStore store = null!;

    private sealed record Row(string Id, string Model, Dictionary<string, string> Metadata);

    public async Task InitializeAsync()
    {
        var path = folder.File("list.db");
        writer = new SqliteWriter($"Data Source={path};Pooling=False", new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance);
        readers = new SqliteReaders($"Data Source={path};Pooling=False;Mode=ReadOnly", 2);
        search = new SqliteSearchIndex(path, readers, TestStoreMetrics.Sqlite());
        store = new SqliteCompletionStore(writer, readers, search);
        var adds = new List<Task>();
        for (var i = 0; i < Rows; i++)
        {
            // tenant: every row (broad); user: 7 rows (narrow); model: 10 rare rows; shard: half.
            var row = new Row(
                $"chatcmpl-{i:D6}",
                i % 70 == 3 ? "rare" : "common",
                new() { ["tenant"] = "t", ["user"] = i % 100 == 7 ? "u7" : $"x{i}", ["shard"] = (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) });
            rows.Add(row);
            adds.Add(store.AddAsync(new StoredCompletion(Projects.Default, row.Id, row.Model, i, "{}"u8.ToArray(), row.Metadata, []), default));
        }
        await Task.WhenAll(adds);
    }

    public static TheoryData<string?, string> Filters => new()
    {
        { null, "tenant=t&user=u7" },
        { null, "user=u7&tenant=t" },
        { null, "tenant=t&shard=1&user=u7" },
        { null, "shard=0&tenant=t" },
        { "rare", "tenant=t" },
        { "rare", "tenant=t&shard=1" },
        { "common", "user=u7&tenant=t" },
        { "common", "shard=1" },
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task EveryPage_IsTheBruteForceAnswer_WhicheverFilterDrives(string? model, string filter)
    {
        var pairs = filter.Split('&').Select(p => p.Split('=')).Select(p => KeyValuePair.Create(p[0], p[1])).ToList();
        foreach (var ascending in new[] { false, true })
        {
            var expected = rows.Where(r => (model is null || r.Model == model) && pairs.All(p => r.Metadata[p.Key] == p.Value)).Select(r => r.Id).ToList();
            if (!ascending)
            {
                expected.Reverse();
            }
            Assert.NotEmpty(expected);

            var walked = new List<string>();
            string? after = null;
            for (var page = 0; page < 1000; page++)
            {
                var (result, failure) = await store.ListAsync(Projects.Default, new CompletionQuery(model, pairs, after, 3, ascending), default);
                Assert.Equal(ListFailure.None, failure);
                walked.AddRange(result!.Items.Select(item => item.Id));
                if (!result.HasMore)
                {
                    break;
                }
                after = walked[^1];
            }
            Assert.Equal(expected, walked);
        }
    }

    [Theory]
    [InlineData(null, "tenant=t&user=nobody")]
    [InlineData(null, "tenant=nobody&user=u7")]
    [InlineData("missing", "tenant=t")]
    [InlineData("rare", "user=u7")]
    public async Task AFilterNothingMatches_GivesAnEmptyPage(string? model, string filter)
    {
        var pairs = filter.Split('&').Select(p => p.Split('=')).Select(p => KeyValuePair.Create(p[0], p[1])).ToList();

        var (page, failure) = await store.ListAsync(Projects.Default, new CompletionQuery(model, pairs, null, 20, false), default);

        Assert.Equal(ListFailure.None, failure);
        Assert.Empty(page!.Items);
        Assert.False(page.HasMore);
    }

    public async Task DisposeAsync()
    {
        await writer.DrainAsync();
        search.Dispose();
        writer.Dispose();
        readers.Dispose();
        folder.Dispose();
    }
}
