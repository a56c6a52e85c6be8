using Cairn.Storage;
using Cairn.Storage.Sqlite;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn.Tests;

/// <summary>
/// SQLite reads honour their cancellation token: Microsoft.Data.Sqlite has no asynchronous I/O, so a read runs on the
/// caller's thread, and a token cancelled while it runs interrupts the statement (sqlite3_interrupt).
/// </summary>
public sealed class SqliteReadCancellationTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly SqliteWriter writer;
    private readonly SqliteReaders readers;
    private readonly string path;

    public SqliteReadCancellationTests()
    {
        path = folder.File("cancel.db");
        writer = new SqliteWriter($"Data Source={path};Pooling=False", new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance);
        readers = new SqliteReaders($"Data Source={path};Pooling=False;Mode=ReadOnly", 2);
    }

    [Fact]
    public async Task AReadThatNeverEnds_StopsWhenItsTokenIsCancelled_AndTheReadersStillServe()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        // Counts without end: only an interrupt stops it.
        var endless = Task.Run(() => readers.ReadAsync(
            session => session.Command("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r").ExecuteScalar(),
            cancel.Token));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => endless.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0L, await readers.ReadAsync(session => session.Command("SELECT count(*) FROM completions").ExecuteScalar(), default));
    }

    [Fact]
    public async Task AStoreRead_WithACancelledToken_IsCancelled()
    {
        using var search = new SqliteSearchIndex(path, readers, TestStoreMetrics.Sqlite());
        var store = new SqliteCompletionStore(writer, readers, search);

        var read = store.GetAsync(Projects.Default, "chatcmpl-none", new CancellationToken(canceled: true));

        Assert.True(read.IsCanceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    public void Dispose()
    {
        readers.Dispose();
        writer.Dispose();
        folder.Dispose();
    }
}
