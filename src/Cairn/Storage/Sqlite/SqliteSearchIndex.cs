using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using static Cairn.Storage.Sqlite.SqliteBinding;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// The dashboard's full-text index of stored completions' words, in a SQLite file of its own beside the store
/// (<c>&lt;db&gt;-search</c>), written by its own connection: indexing (FTS5 tokenizes and merges its segments) never
/// holds the store's writer, and storing a completion writes nothing for the search.
/// </summary>
/// <remarks>
/// The index is derived from the store and can always be made again from it. It keeps one number beside the words,
/// the seq of the last completion indexed (the mark), in the same transaction as the words: a catch-up indexes the
/// completions stored past it, in seq order, in batches. Their texts come from memory (the store hands them over as
/// it writes each completion, <see cref="Keep"/>) or, after a restart, from the stored rows. A delete, once committed,
/// takes the completion's words out (<see cref="Forget"/>); should Cairn stop before that, the words stay behind with
/// no completion to join, which a search never shows, and no later completion takes the seq. A missing index file is
/// made again from the stored completions.
/// <para>
/// The process that keeps the index (it holds the store's lock) writes it without syncing (<c>synchronous=OFF</c>, on
/// Linux): the index's own checkpoints then never wait for the disk, nor make a request's sync of the store's log wait
/// behind theirs. A killed process loses nothing by it, the kernel still holding what it wrote; only a crash of the
/// system or a power loss can leave the file inconsistent. So the keeper first writes the machine's boot id beside the
/// index (<c>&lt;db&gt;-search-boot</c>, synced), and removes it once a clean close has synced the index; a start that
/// finds one from another boot throws the index away before anything reads it, and it is made again from the store
/// (<see cref="DiscardIfLeftByACrash"/>).
/// </para>
/// </remarks>
internal sealed partial class SqliteSearchIndex : IDisposable
{
    /// <summary>How many completions one transaction indexes (FTS5 writes a segment per transaction).</summary>
    internal const int Batch = 500;

    /// <summary>The most search texts kept in memory; past it the catch-up reads the rest from the stored rows.</summary>
    private const int TextsKept = 20_000;

    private readonly PreparedConnection connection;
    private readonly SqliteReaders store;
    private readonly StoreMetrics metrics;
    private readonly SemaphoreSlim gate = new(1, 1);

    // The words' insert, prepared on the index's connection at the first catch-up and finalized before it closes.
    private sqlite3_stmt? insert;

    // Texts of stored completions, in seq order as the writer stored them; an entry whose seq never committed (its
    // batch failed) is passed over. Seqs of deleted completions wait in forgotten until the next catch-up.
    private readonly ConcurrentQueue<SearchText> texts = new();
    private readonly ConcurrentQueue<long> forgotten = new();
    private long mark;
    private int waiting = 1;

    // The file naming the boot whose unsynced writes the index may hold; null where this process does not keep it.
    private readonly string? bootFile;

    /// <param name="keeper">
    /// Whether this process keeps the index (holds the store's lock): it alone writes without syncing, after
    /// <see cref="DiscardIfLeftByACrash"/>. A command reading beside a server leaves the file as it found it.
    /// </param>
    public SqliteSearchIndex(string storePath, SqliteReaders store, StoreMetrics metrics, bool keeper = false)
    {
        this.store = store;
        this.metrics = metrics;
        var sqlite = new SqliteConnection(ConnectionString(storePath));
        sqlite.Open();
        SqliteSchema.Execute(sqlite, "PRAGMA journal_mode = WAL");
        SqliteSchema.Execute(sqlite, "PRAGMA busy_timeout = 5000");
        // What a crash loses here is made again from the store, so no commit waits for the disk.
        SqliteSchema.Execute(sqlite, "PRAGMA synchronous = NORMAL");
        Create(sqlite, "main");
        connection = new PreparedConnection(sqlite);
        mark = Claim();
        if (keeper && OperatingSystem.IsLinux() && BootId() is { } boot)
        {
            bootFile = BootFileFor(storePath);
            WriteSynced(bootFile, boot);
            SqliteSchema.Execute(sqlite, "PRAGMA synchronous = OFF");
        }
    }

    private static string BootFileFor(string storePath) => PathFor(storePath) + "-boot";

    /// <summary>The index connection's <c>synchronous</c> setting (0 OFF, 1 NORMAL).</summary>
    internal long Synchronous => (long)connection.Command("PRAGMA synchronous").ExecuteScalar()!;

    /// <summary>This boot of the machine (Linux); null elsewhere, where the index keeps syncing.</summary>
    internal static string? BootId()
    {
        const string path = "/proc/sys/kernel/random/boot_id";
        return OperatingSystem.IsLinux() && File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    /// <summary>
    /// Deletes the index of the store at <paramref name="storePath"/> when a keeper wrote it without syncing during an
    /// earlier boot and never closed it: the system stopped under it, and the file may be inconsistent. The next open
    /// makes the index again from the store. Run by the lock's holder before any connection has the file attached.
    /// </summary>
    public static void DiscardIfLeftByACrash(string storePath, ILogger logger)
    {
        var bootFile = BootFileFor(storePath);
        if (!File.Exists(bootFile) || File.ReadAllText(bootFile).Trim() == BootId())
        {
            return;
        }
        LogDiscarded(logger);
        var index = PathFor(storePath);
        foreach (var file in new[] { index, index + "-wal", index + "-shm" })
        {
            File.Delete(file);
        }
        File.Delete(bootFile);
    }

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "The search index was left unsynced by a system that did not shut down cleanly; it is made again from the stored completions, and text searches wait for it.")]
    private static partial void LogDiscarded(ILogger logger);

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> (owner only) and syncs it and its folder.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static void WriteSynced(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using (var file = new FileStream(path, options))
        {
            file.Write(Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }
        SqliteWalSync.SyncFolder(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>
    /// The mark of an index made for this store; an index that another store made (copied beside it) or that has
    /// words of completions this store never held (the store put back from a backup) is emptied and made again.
    /// </summary>
    private long Claim()
    {
        var (identity, newest) = store.Read(session =>
        {
            var identity = (string)session.Command("SELECT id FROM store_identity").ExecuteScalar()!;
            var newest = (long)session.Command(SqliteCompletionStore.NewestSeqSql).ExecuteScalar()!;
            return (identity, newest);
        }, CancellationToken.None);
        using (var reader = connection.Command("SELECT store, seq FROM search_mark").ExecuteReader())
        {
            reader.Read();
            var (owner, indexed) = (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetInt64(1));
            if ((owner is null || owner == identity) && indexed <= newest)
            {
                reader.Close();
                var claim = connection.Command("UPDATE search_mark SET store = $store");
                Bind(claim, ("$store", identity));
                claim.ExecuteNonQuery();
                return indexed;
            }
        }
        SqliteSchema.Execute(connection.Connection, "DROP TABLE completion_search; DROP TABLE search_mark");
        Create(connection.Connection, "main");
        return Claim();
    }

    /// <summary>The index file of the store at <paramref name="storePath"/>.</summary>
    public static string PathFor(string storePath) => storePath + "-search";

    private static string ConnectionString(string storePath) => new SqliteConnectionStringBuilder
    {
        DataSource = PathFor(storePath),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = false,
    }.ConnectionString;

    /// <summary>Makes the index's tables in <paramref name="schema"/> (the index's own file, or attached) when they are missing.</summary>
    private static void Create(SqliteConnection connection, string schema)
    {
        if (SqliteSchema.Scalar(connection, $"SELECT count(*) FROM {schema}.sqlite_master WHERE name = 'search_mark'") is 1L)
        {
            return;
        }
        // rowid = the completion's seq. Contentless: the text is in the store. Accents count (as in PostgreSQL's simple
        // configuration), so both stores find the same words. Segments merge 16 to a level rather than FTS5's 4:
        // merging is most of what indexing costs, and a search reads a few more segments instead. store is the
        // identity of the store the words are from (null until the first open claims it), seq the mark.
        SqliteSchema.Execute(connection, $"""
            BEGIN IMMEDIATE;
            CREATE VIRTUAL TABLE {schema}.completion_search USING fts5(
                prompt, answer, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
            INSERT INTO {schema}.completion_search(completion_search, rank) VALUES('automerge', 16);
            CREATE TABLE {schema}.search_mark(store TEXT, seq INTEGER NOT NULL);
            INSERT INTO {schema}.search_mark(store, seq) VALUES (NULL, 0);
            COMMIT;
            """);
    }

    /// <summary>
    /// Moves the index a store kept in its own file before migration 10 into the index file, on the store's
    /// migrating connection: FTS5 keeps an index wholly in its shadow tables, so they are copied as they are, and the
    /// mark is set below the first completion whose words still waited. Run again from the start after a crash.
    /// </summary>
    internal static void Adopt(SqliteConnection storeConnection)
    {
        if (SqliteSchema.Scalar(storeConnection, "SELECT count(*) FROM sqlite_master WHERE name = 'completion_search'") is not 1L)
        {
            return;
        }
        var path = PathFor(storeConnection.DataSource);
        SqliteServiceCollectionExtensions.CreateOwnerOnly(path);
        Attach(storeConnection, path);
        try
        {
            Create(storeConnection, "search");
            var copy = new System.Text.StringBuilder("BEGIN IMMEDIATE;\n");
            foreach (var shadow in new[] { "data", "idx", "docsize", "config" })
            {
                copy.Append(CultureInfo.InvariantCulture, $"DELETE FROM search.completion_search_{shadow};\n")
                    .Append(CultureInfo.InvariantCulture, $"INSERT INTO search.completion_search_{shadow} SELECT * FROM main.completion_search_{shadow};\n");
            }
            copy.Append("""
                INSERT OR REPLACE INTO search.completion_search_config(k, v) VALUES('automerge', 16);
                UPDATE search.search_mark SET store = NULL, seq = coalesce(
                    (SELECT min(seq) - 1 FROM main.completion_search_pending), (SELECT max(seq) FROM main.completions), 0);
                COMMIT;
                """);
            SqliteSchema.Execute(storeConnection, copy.ToString());
        }
        finally
        {
            SqliteSchema.Execute(storeConnection, "DETACH DATABASE search");
        }
    }

    /// <summary>Attaches the index file at <paramref name="path"/> to a store connection as schema <c>search</c>.</summary>
    internal static void Attach(SqliteConnection connection, string path)
    {
        using var attach = connection.CreateCommand();
        attach.CommandText = "ATTACH DATABASE $path AS search";
        attach.Parameters.AddWithValue("$path", path);
        attach.ExecuteNonQuery();
    }

    /// <summary>Keeps the texts of a completion being stored, for the catch-up; on the store's writer thread, in seq order.</summary>
    public void Keep(long seq, CompletionSummary summary)
    {
        if (texts.Count < TextsKept)
        {
            texts.Enqueue(SearchText.Of(seq, summary.PromptText, summary.AnswerText));
        }
        Volatile.Write(ref waiting, 1);
    }

    /// <summary>Takes the words of deleted completions out at the next catch-up; called once their delete committed.</summary>
    public void Forget(IEnumerable<long> seqs)
    {
        foreach (var seq in seqs)
        {
            forgotten.Enqueue(seq);
            Volatile.Write(ref waiting, 1);
        }
    }

    /// <summary>
    /// Indexes every completion committed before the call, on the calling thread; skips when nothing was stored or
    /// deleted since the last catch-up (the background flush). Stops between two batches once
    /// <paramref name="stopping"/> is cancelled.
    /// </summary>
    public void CatchUpIfWaiting(CancellationToken stopping)
    {
        if (Interlocked.Exchange(ref waiting, 0) == 0)
        {
            return;
        }
        gate.Wait(stopping);
        try
        {
            CatchUpHeld(stopping);
        }
        catch
        {
            // The mark stays where it was: the next tick tries again even if nothing more is stored meanwhile.
            Volatile.Write(ref waiting, 1);
            throw;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Indexes every completion committed before the call and takes out the deleted ones' words.</summary>
    public async Task CatchUpAsync()
    {
        await gate.WaitAsync();
        try
        {
            CatchUpHeld(CancellationToken.None);
        }
        finally
        {
            gate.Release();
        }
    }

    private void CatchUpHeld(CancellationToken stopping)
    {
        var started = Stopwatch.GetTimestamp();
        int indexed, total = 0;
        do
        {
            indexed = IndexBatch();
            total += indexed;
        }
        while (indexed == Batch && !stopping.IsCancellationRequested);
        metrics.SearchFlushed(total, started);
        if (!texts.IsEmpty)
        {
            // Texts kept for completions whose commit had not ended when the store was read: the next tick looks again.
            Volatile.Write(ref waiting, 1);
        }
    }

    private int IndexBatch()
    {
        // Deletes committed before the store is read below: their completions are not read again. A delete that
        // commits later is taken out by the next batch, after this one indexed it.
        var gone = new List<long>();
        while (forgotten.TryDequeue(out var seq))
        {
            gone.Add(seq);
        }
        var rows = store.Read(session =>
        {
            var next = session.Command($"SELECT seq FROM completions WHERE seq > $mark ORDER BY seq LIMIT {Batch}");
            Bind(next, ("$mark", mark));
            var seqs = new List<long>(Batch);
            using (var reader = next.ExecuteReader())
            {
                while (reader.Read())
                {
                    seqs.Add(reader.GetInt64(0));
                }
            }
            return seqs.ConvertAll(seq => TextOf(session, seq));
        }, CancellationToken.None);
        if (rows.Count == 0 && gone.Count == 0)
        {
            return 0;
        }
        var done = false;
        connection.Command("BEGIN IMMEDIATE").ExecuteNonQuery();
        try
        {
            var delete = connection.Command("DELETE FROM completion_search WHERE rowid = $seq");
            foreach (var seq in gone)
            {
                // A completion past the mark was never indexed, and its row is gone from the store.
                if (seq <= mark)
                {
                    Bind(delete, ("$seq", seq));
                    delete.ExecuteNonQuery();
                }
            }
            foreach (var text in rows)
            {
                Insert(text);
            }
            if (rows.Count > 0)
            {
                var advance = connection.Command("UPDATE search_mark SET seq = $seq");
                Bind(advance, ("$seq", rows[^1].Seq));
                advance.ExecuteNonQuery();
            }
            connection.Command("COMMIT").ExecuteNonQuery();
            done = true;
        }
        finally
        {
            if (!done)
            {
                connection.Command("ROLLBACK").ExecuteNonQuery();
                foreach (var seq in gone)
                {
                    forgotten.Enqueue(seq);
                }
            }
        }
        if (rows.Count > 0)
        {
            mark = rows[^1].Seq;
        }
        return rows.Count;
    }

    /// <summary>
    /// The search texts of the completion <paramref name="seq"/>: kept in memory since it was stored, or read from its
    /// stored body and messages (after a restart, or when more were waiting than memory keeps).
    /// </summary>
    private SearchText TextOf(PreparedConnection session, long seq)
    {
        while (texts.TryPeek(out var kept) && kept.Seq <= seq)
        {
            texts.TryDequeue(out _);
            if (kept.Seq == seq)
            {
                return kept;
            }
            kept.Return();
        }
        var body = session.Command("SELECT body FROM completions WHERE seq = $seq");
        Bind(body, ("$seq", seq));
        var messages = new List<byte[]>();
        var items = session.Command("SELECT body FROM completion_messages WHERE seq = $seq ORDER BY idx");
        Bind(items, ("$seq", seq));
        using (var reader = items.ExecuteReader())
        {
            while (reader.Read())
            {
                messages.Add((byte[])reader.GetValue(0));
            }
        }
        var stored = new StoredCompletion(0, "", "", 0, body.ExecuteScalar() as byte[] ?? "{}"u8.ToArray(), new Dictionary<string, string>(), [.. messages]);
        var summary = CompletionSummary.Of(stored);
        return SearchText.Of(seq, summary.PromptText, summary.AnswerText);
    }

    /// <summary>
    /// Indexes one completion's words through a statement of SQLite's own interface, which binds the kept UTF-8 bytes
    /// as text where a command's parameter would need a string made of them. Its buffer goes back to the pool after.
    /// </summary>
    private void Insert(SearchText text)
    {
        var db = connection.Connection.Handle!;
        if (insert is null)
        {
            var prepared = raw.sqlite3_prepare_v2(db, "INSERT INTO completion_search(rowid, prompt, answer) VALUES (?1, ?2, ?3)", out var statement);
            SqliteException.ThrowExceptionForRC(prepared, db);
            insert = statement;
        }
        raw.sqlite3_bind_int64(insert, 1, text.Seq);
        raw.sqlite3_bind_text(insert, 2, text.Prompt);
        raw.sqlite3_bind_text(insert, 3, text.Answer);
        var stepped = raw.sqlite3_step(insert);
        raw.sqlite3_reset(insert);
        if (stepped != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(stepped, db);
        }
        text.Return();
    }

    /// <summary>
    /// A completion's search texts as UTF-8, prompt then answer, in one buffer from <see cref="Buffers"/>. Kept as
    /// strings, each stored completion's texts outlived a young-generation collection while they waited for the
    /// catch-up (up to 200 ms): the collector grew its young generation for them, handed the memory back after each
    /// collection and faulted it in again, and promoted enough of them to need a full, blocking collection every 10-30 s
    /// at one stored connection. Pooled buffers are allocated once and reused, so what waits allocates nothing new.
    /// </summary>
    private readonly record struct SearchText(long Seq, byte[] Buffer, int PromptBytes, int AnswerBytes)
    {
        public ReadOnlySpan<byte> Prompt => Buffer.AsSpan(0, PromptBytes);

        public ReadOnlySpan<byte> Answer => Buffer.AsSpan(PromptBytes, AnswerBytes);

        public static SearchText Of(long seq, string prompt, string answer)
        {
            var promptBytes = Encoding.UTF8.GetByteCount(prompt);
            var answerBytes = Encoding.UTF8.GetByteCount(answer);
            var buffer = Buffers.Rent(promptBytes + answerBytes);
            Encoding.UTF8.GetBytes(prompt, buffer);
            Encoding.UTF8.GetBytes(answer, buffer.AsSpan(promptBytes));
            return new SearchText(seq, buffer, promptBytes, answerBytes);
        }

        public void Return() => Buffers.Return(Buffer);
    }

    /// <summary>
    /// The buffers of texts waiting for the catch-up: up to 512 of each size to 32 KiB (~440 wait at 2,200 stored
    /// completions a second), so what the pool keeps stays within ~32 MiB however the sizes fall. A larger text is
    /// allocated and left to the collector, as one past the bucket's count is.
    /// </summary>
    private static readonly ArrayPool<byte> Buffers = ArrayPool<byte>.Create(maxArrayLength: 32 * 1024, maxArraysPerBucket: 512);

    public void Dispose()
    {
        if (bootFile is not null)
        {
            CloseSynced();
        }
        insert?.Dispose();
        connection.Dispose();
        gate.Dispose();
    }

    /// <summary>
    /// Copies the index's log into its file and syncs both, then removes the boot id: the index is whole on the disk. A
    /// reader still holding an older snapshot can keep the copy from finishing; the boot id then stays, and a start
    /// after a crash of the system makes the index again.
    /// </summary>
    private void CloseSynced()
    {
        try
        {
            SqliteSchema.Execute(connection.Connection, "PRAGMA synchronous = FULL");
            using var checkpoint = connection.Connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            using var result = checkpoint.ExecuteReader();
            if (result.Read() && result.GetInt64(0) == 0)
            {
                File.Delete(bootFile!);
            }
        }
        catch (SqliteException)
        {
            // Left as written: the boot id stays beside it.
        }
    }
}
