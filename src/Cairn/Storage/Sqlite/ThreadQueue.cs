namespace Cairn.Storage.Sqlite;

/// <summary>
/// A queue whose one reader is a thread of its own (the writer, the log's sync), which sleeps while the queue is
/// empty. A channel read synchronously spins and yields before it sleeps, taking cores from the request threads on a
/// small machine: at 1,000 stored writes/s the writer switched ~13 times per write that way, ~5 once it slept at once.
/// This waits on a monitor, which sleeps at once and is woken by the next <see cref="TryAdd"/>.
/// </summary>
internal sealed class ThreadQueue<T>
{
    private readonly object signal = new();
    private readonly Queue<T> items = new();
    private bool completed;

    /// <summary>Queues <paramref name="item"/> and wakes the reader; false once <see cref="Complete"/> was called.</summary>
    public bool TryAdd(T item)
    {
        lock (signal)
        {
            if (completed)
            {
                return false;
            }
            items.Enqueue(item);
            Monitor.Pulse(signal);
        }
        return true;
    }

    /// <summary>Whether <see cref="Complete"/> was called.</summary>
    public bool IsCompleted
    {
        get
        {
            lock (signal)
            {
                return completed;
            }
        }
    }

    /// <summary>Takes no more items; the reader still takes those already queued, then <see cref="Take"/> returns false.</summary>
    public void Complete()
    {
        lock (signal)
        {
            completed = true;
            Monitor.PulseAll(signal);
        }
    }

    /// <summary>
    /// Waits until the queue holds an item, then moves up to <paramref name="max"/> items into
    /// <paramref name="into"/>; false once the queue is completed and empty.
    /// </summary>
    public bool Take(List<T> into, int max)
    {
        if (!WaitForItems())
        {
            return false;
        }
        TakeAvailable(into, max);
        return true;
    }

    /// <summary>Waits until the queue holds an item, leaving it there; false once the queue is completed and empty.</summary>
    public bool WaitForItems()
    {
        lock (signal)
        {
            while (items.Count == 0)
            {
                if (completed)
                {
                    return false;
                }
                Monitor.Wait(signal);
            }
            return true;
        }
    }

    /// <summary>Moves what the queue holds now, up to <paramref name="max"/> items, into <paramref name="into"/>, without waiting; returns how many.</summary>
    public int TakeAvailable(List<T> into, int max)
    {
        lock (signal)
        {
            var taken = 0;
            while (into.Count < max && items.TryDequeue(out var item))
            {
                into.Add(item);
                taken++;
            }
            return taken;
        }
    }
}
