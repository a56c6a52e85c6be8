using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cairn.Observability;

namespace Cairn.Storage;

/// <summary>
/// The store's instruments on Cairn's meter, each with <c>cairn.store</c> (<c>sqlite</c> or <c>postgresql</c>): the
/// group commit (writes waiting, writes per commit, time per commit, failed commits), retention (sweeps, objects
/// removed) and SQLite's upkeep (search flushes, checkpoints). One per store, made where the database is registered;
/// a write costs one interlocked increment, a commit a few histogram records.
/// </summary>
internal sealed class StoreMetrics
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgresql";

    /// <summary>Stored completions, as <c>cairn.api</c> names their API.</summary>
    public const string Completions = "chat.completions";

    /// <summary>Stored responses, as <c>cairn.api</c> names their API.</summary>
    public const string Responses = "responses";

    /// <summary>Seconds, from a commit of a few rows on a fast disk to one stuck behind a busy lock.</summary>
    private static readonly IReadOnlyList<double> DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Writes per commit: powers of two up to the default <see cref="StorageOptions.MaxBatch"/> (512), of four past it.</summary>
    private static readonly IReadOnlyList<int> BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 2048, 8192, 32768];

    private readonly KeyValuePair<string, object?> store;
    private readonly Histogram<int> batchSize;
    private readonly Histogram<double> commitDuration;
    private readonly Counter<long> commitFailures;
    private readonly Histogram<double> searchFlushDuration;
    private readonly Counter<long> searchFlushRows;
    private readonly Histogram<double> checkpointDuration;
    private readonly Histogram<double> retentionDuration;
    private readonly Counter<long> retentionRemoved;
    private int waiting;

    public StoreMetrics(IMeterFactory meters, string store)
    {
        this.store = new(CairnTelemetry.StoreAttribute, store);
        var meter = meters.Create(CairnTelemetry.Name, CairnTelemetry.Version);
        meter.CreateObservableUpDownCounter("cairn.store.queue.depth", () => new Measurement<int>(Volatile.Read(ref waiting), this.store),
            "{write}", "Writes waiting for the next group commit.");
        batchSize = meter.CreateHistogram("cairn.store.commit.batch_size", "{write}", "Writes taken into one group commit.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchBuckets });
        commitDuration = meter.CreateHistogram("cairn.store.commit.duration", "s", "Time one group commit took, from taking its writes to telling their callers.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        commitFailures = meter.CreateCounter<long>("cairn.store.commit.failures", "{commit}", "Group commits that failed as a whole: each of their writes got an error.");
        searchFlushDuration = meter.CreateHistogram("cairn.store.search.flush.duration", "s", "Time one move of waiting search rows into SQLite's full-text index took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        searchFlushRows = meter.CreateCounter<long>("cairn.store.search.flush.rows", "{row}", "Search rows moved into SQLite's full-text index.");
        checkpointDuration = meter.CreateHistogram("cairn.store.checkpoint.duration", "s", "Time one checkpoint of SQLite's write-ahead log into the database file took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        retentionDuration = meter.CreateHistogram("cairn.store.retention.duration", "s", "Time one retention sweep (every expired completion and response, batch by batch) took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        retentionRemoved = meter.CreateCounter<long>("cairn.store.retention.removed", "{object}", "Expired completions and responses removed by retention.");
    }

    /// <summary>A write joined the queue of the group commit.</summary>
    public void Queued() => Interlocked.Increment(ref waiting);

    /// <summary>A group commit took <paramref name="writes"/> writes from the queue.</summary>
    public void Taken(int writes) => Interlocked.Add(ref waiting, -writes);

    /// <summary>A group commit of <paramref name="writes"/> writes, begun at <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp), ended.</summary>
    public void Committed(int writes, long started)
    {
        batchSize.Record(writes, store);
        commitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, store);
    }

    /// <summary>A group commit failed as a whole.</summary>
    public void CommitFailed(Exception exception) =>
        commitFailures.Add(1, store, new(GenAi.ErrorType, exception.GetType().FullName));

    /// <summary>A search flush begun at <paramref name="started"/> moved <paramref name="rows"/> rows.</summary>
    public void SearchFlushed(int rows, long started)
    {
        searchFlushDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, store);
        searchFlushRows.Add(rows, store);
    }

    /// <summary>A checkpoint begun at <paramref name="started"/> ended.</summary>
    public void Checkpointed(long started) => checkpointDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, store);

    /// <summary>A retention sweep begun at <paramref name="started"/> ended, or failed with <paramref name="exception"/>.</summary>
    public void Swept(long started, Exception? exception = null)
    {
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (exception is null)
        {
            retentionDuration.Record(seconds, store);
        }
        else
        {
            retentionDuration.Record(seconds, store, new(GenAi.ErrorType, exception.GetType().FullName));
        }
    }

    /// <summary>Retention removed <paramref name="count"/> expired objects of <paramref name="api"/> (<see cref="Completions"/> or <see cref="Responses"/>).</summary>
    public void Removed(string api, int count) => retentionRemoved.Add(count, store, new(CairnTelemetry.ApiAttribute, api));
}
