using System.Buffers;
using System.IO.Pipelines;
using Cairn.Access;
using Cairn.Storage;

namespace Cairn.Export;

/// <summary>
/// Loads raw export lines into the store, keeping ids, metadata, timestamps and the order of the file. Each chunk
/// of lines goes through the store's own durable write path (group commit: a chunk is a few commits, each waited
/// for), so what the importer has counted as imported is on disk. Ids the store already holds, or held and deleted,
/// are skipped and counted: an import can be run again after an interruption, and never brings back a completion
/// someone deleted here.
/// </summary>
internal sealed class CompletionImporter(ICompletionStore store, ICompletionArchive archive, IAccessStore access)
{
    public const int DefaultChunkSize = 256;

    /// <summary>The most lines parsed (and held in memory) before they are written.</summary>
    public int ChunkSize { get; init; } = DefaultChunkSize;

    /// <summary>
    /// Reads JSONL from <paramref name="input"/> to its end or to its first malformed line; every line before that is
    /// imported (or skipped) first. <paramref name="project"/>, when given, receives every completion instead of the
    /// project each line names; projects are created when missing.
    /// </summary>
    public async Task<ImportResult> ImportAsync(Stream input, string? project, IProgress<ImportResult>? progress, CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(input, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        var state = new ImportResult(0, 0, 0, null);
        var chunk = new List<(long Line, ImportLine Completion)>(ChunkSize);
        var projects = new Dictionary<string, long>(StringComparer.Ordinal);
        long lineNumber = 0;
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            while (TakeLine(ref buffer, read.IsCompleted, out var line))
            {
                lineNumber++;
                state = state with { Bytes = state.Bytes + line.Length + 1 };
                var bytes = Trim(line);
                if (bytes.Length == 0)
                {
                    continue;
                }
                try
                {
                    chunk.Add((lineNumber, ImportLine.Parse(bytes, project)));
                }
                catch (FormatException e)
                {
                    state = await WriteChunkAsync(chunk, projects, state, cancellationToken);
                    await reader.CompleteAsync();
                    return state with { Failure = new ImportFailure(lineNumber, e.Message) };
                }
                if (chunk.Count == ChunkSize)
                {
                    state = await WriteChunkAsync(chunk, projects, state, cancellationToken);
                    progress?.Report(state);
                }
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }
        await reader.CompleteAsync();
        state = await WriteChunkAsync(chunk, projects, state, cancellationToken);
        progress?.Report(state);
        return state;
    }

    private async Task<ImportResult> WriteChunkAsync(
        List<(long Line, ImportLine Completion)> chunk, Dictionary<string, long> projects, ImportResult state, CancellationToken cancellationToken)
    {
        if (chunk.Count == 0)
        {
            return state;
        }
        var taken = await archive.TakenIdsAsync([.. chunk.Select(c => c.Completion.Id)], cancellationToken);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var writes = new List<Task<bool>>(chunk.Count);
        var skipped = 0;
        foreach (var (_, line) in chunk)
        {
            if (taken.Contains(line.Id) || !seen.Add(line.Id))
            {
                skipped++;
                continue;
            }
            if (!projects.TryGetValue(line.Project, out var projectId))
            {
                projectId = (await access.EnsureProjectAsync(line.Project, cancellationToken)).Id;
                projects[line.Project] = projectId;
            }
            // Queued together, so the group commit takes many per transaction; queued in file order, so they are
            // stored in it.
            writes.Add(AddAsync(new StoredCompletion(projectId, line.Id, line.Model, line.Created, line.Body, line.Metadata, line.Messages) { Summary = line.Summary }));
        }
        var added = (await Task.WhenAll(writes)).Count(ok => ok);
        chunk.Clear();
        return state with { Imported = state.Imported + added, Skipped = state.Skipped + skipped + (writes.Count - added) };
    }

    /// <summary>Stores one completion; false when its id was stored meanwhile (by a server writing to the same store).</summary>
    private async Task<bool> AddAsync(StoredCompletion completion)
    {
        try
        {
            await store.AddAsync(completion, CancellationToken.None);
            return true;
        }
        catch (System.Data.Common.DbException e) when (IsDuplicateId(e))
        {
            return false;
        }
    }

    private static bool IsDuplicateId(System.Data.Common.DbException e) => e switch
    {
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteExtendedErrorCode == 2067, // SQLITE_CONSTRAINT_UNIQUE
        Npgsql.PostgresException postgres => postgres.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    private static bool TakeLine(ref ReadOnlySequence<byte> buffer, bool completed, out ReadOnlySequence<byte> line)
    {
        if (buffer.PositionOf((byte)'\n') is { } end)
        {
            line = buffer.Slice(0, end);
            buffer = buffer.Slice(buffer.GetPosition(1, end));
            return true;
        }
        if (completed && !buffer.IsEmpty)
        {
            line = buffer;
            buffer = buffer.Slice(buffer.End);
            return true;
        }
        line = default;
        return false;
    }

    /// <summary>The line without a CR before its LF, a UTF-8 byte order mark, or surrounding blanks.</summary>
    private static byte[] Trim(ReadOnlySequence<byte> line)
    {
        var span = line.IsSingleSegment ? line.FirstSpan : line.ToArray();
        span = span.Trim(" \t\r"u8);
        if (span.StartsWith("\uFEFF"u8))
        {
            span = span[3..];
        }
        return span.ToArray();
    }
}

/// <summary>Where an import stands: completions imported, skipped (their ids already here), bytes read, and the line that stopped it.</summary>
internal sealed record ImportResult(long Imported, long Skipped, long Bytes, ImportFailure? Failure);

/// <summary>A malformed line: its number (from 1) and what is wrong with it.</summary>
internal sealed record ImportFailure(long Line, string Problem);
