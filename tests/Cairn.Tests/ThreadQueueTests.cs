using Cairn.Storage.Sqlite;

namespace Cairn.Tests;

/// <summary>The queue the SQLite writer and its sync thread sleep on: what a reader takes, and how it ends.</summary>
public sealed class ThreadQueueTests
{
    [Fact]
    public void Take_SleepsUntilAnItemIsAdded_ThenTakesIt()
    {
        var queue = new ThreadQueue<int>();
        var taken = new List<int>();
        var reader = new Thread(() => queue.Take(taken, 10));
        reader.Start();

        Assert.False(reader.Join(TimeSpan.FromMilliseconds(200)));
        Assert.True(queue.TryAdd(7));

        Assert.True(reader.Join(TimeSpan.FromSeconds(10)));
        Assert.Equal([7], taken);
    }

    [Fact]
    public void Take_MovesAtMostMax_InTheOrderAdded()
    {
        var queue = new ThreadQueue<int>();
        foreach (var i in Enumerable.Range(1, 5))
        {
            Assert.True(queue.TryAdd(i));
        }
        var batch = new List<int>();

        Assert.True(queue.Take(batch, 3));
        Assert.Equal([1, 2, 3], batch);
        batch.Clear();
        Assert.True(queue.Take(batch, 3));
        Assert.Equal([4, 5], batch);
    }

    [Fact]
    public void Complete_RefusesNewItems_LetsQueuedOnesBeTaken_ThenEndsTheReader()
    {
        var queue = new ThreadQueue<string>();
        Assert.True(queue.TryAdd("queued"));

        queue.Complete();

        Assert.False(queue.TryAdd("late"));
        var batch = new List<string>();
        Assert.True(queue.Take(batch, 10));
        Assert.Equal(["queued"], batch);
        Assert.False(queue.Take(batch, 10));
    }

    [Fact]
    public void Complete_WakesASleepingReader()
    {
        var queue = new ThreadQueue<int>();
        bool? result = null;
        var reader = new Thread(() => result = queue.Take([], 10));
        reader.Start();
        Assert.False(reader.Join(TimeSpan.FromMilliseconds(100)));

        queue.Complete();

        Assert.True(reader.Join(TimeSpan.FromSeconds(10)));
        Assert.False(result);
    }
}
