using Cairn.Storage;
using Cairn.Storage.Sqlite;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn.Tests;

/// <summary>Background work that yields the cores to requests: the thread's own nice value, and the search flush's.</summary>
public sealed class BackgroundPriorityTests
{
    [Fact]
    public void LowerCurrentThread_LowersThatThreadOnly()
    {
        var before = BackgroundPriority.CurrentNice();
        int lowered = 0, sibling = 0;
        var background = new Thread(() =>
        {
            BackgroundPriority.LowerCurrentThread();
            lowered = BackgroundPriority.CurrentNice();
        });
        background.Start();
        background.Join();
        var other = new Thread(() => sibling = BackgroundPriority.CurrentNice());
        other.Start();
        other.Join();

        // A thread's own nice value is Linux's; elsewhere the call leaves the thread as it was.
        Assert.Equal(OperatingSystem.IsLinux() ? Math.Max(before, BackgroundPriority.Nice) : before, lowered);
        Assert.Equal(before, BackgroundPriority.CurrentNice());
        Assert.Equal(before, sibling);
    }

    [Fact]
    public async Task SearchFlush_RunsOnItsOwnLoweredThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Threads and their nice values are read from Linux's /proc; CI and the benchmarks run there.
        }
        var server = await CairnServer.StartAsync();
        List<string> flushersNice;
        try
        {
            // Linux keeps 15 characters of a thread's name. Field 19 of stat is the nice value; the name before it is
            // in parentheses and may hold spaces.
            flushersNice = [.. Directory.GetDirectories("/proc/self/task")
                .Where(task => File.ReadAllText(Path.Combine(task, "comm")).Trim() == "cairn-search-fl")
                .Select(task => File.ReadAllText(Path.Combine(task, "stat")).Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[16])];
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.NotEmpty(flushersNice);
        Assert.All(flushersNice, nice => Assert.Equal(BackgroundPriority.Nice.ToString(System.Globalization.CultureInfo.InvariantCulture), nice));
    }

    [Fact]
    public async Task SearchFlush_DisposedWithoutStopping_EndsItsThreadFirst()
    {
        // The host disposes its services without stopping them when one after the flusher fails to start (a model file
        // that is not a model): the flush thread must not wake to a disposed token, an unhandled exception that ends
        // the process.
        using var folder = new TempFolder();
        var path = folder.File("flush.db");
        using var writer = new SqliteWriter($"Data Source={path};Pooling=False", new StorageOptions(), TestStoreMetrics.Sqlite(), NullLogger.Instance);
        using var readers = new SqliteReaders($"Data Source={path};Pooling=False;Mode=ReadOnly", 1);
        using var index = new SqliteSearchIndex(path, readers, TestStoreMetrics.Sqlite());
        var flusher = new SqliteSearchFlusher(index, NullLogger<SqliteSearchFlusher>.Instance);
        await flusher.StartAsync(CancellationToken.None);
        Assert.True(flusher.Running);

        flusher.Dispose();

        Assert.False(flusher.Running);
        await Task.Delay(SqliteSearchFlusher.Interval * 2); // past a tick, when the old code threw and ended the process
    }
}
