using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Cairn.Access;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Export;

/// <summary>
/// Loads raw export lines (stored completions and responses) into the store, keeping ids, metadata, timestamps, chains
/// and the order of the file. Each chunk of lines goes through the store's own durable write path (group commit: a
/// chunk is a few commits, each waited for), so what the importer has counted as imported is on disk. Ids the store
/// holds or held (deleted or expired: their tombstones) are skipped and counted: an import can be run again after an
/// interruption, and never brings back a completion or a response someone deleted here. A response is stored only
/// after the one it continues: that one must be in the store, in the same project, or earlier in the file; or have
/// been deleted from the store, and then the response stands alone, as that delete would have left it, but without
/// the deleted response's items, which the import does not bring back.
/// </summary>
internal sealed class CompletionImporter(ICompletionStore store, ICompletionArchive archive, IResponseStore responseStore, IResponseArchive responseArchive, IAccessStore access)
{
    public const int DefaultChunkSize = 256;

    /// <summary>The most lines parsed (and held in memory) before they are written.</summary>
    public int ChunkSize { get; init; } = DefaultChunkSize;

    /// <summary>
    /// Reads JSONL from <paramref name="input"/> to its end or to its first malformed line; every line before that is
    /// imported (or skipped) first. <paramref name="project"/>, when given, receives every completion and response
    /// instead of the project each line names; projects are created when missing.
    /// </summary>
    public async Task<ImportResult> ImportAsync(Stream input, string? project, IProgress<ImportResult>? progress, CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(input, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        var state = new ImportResult(0, 0, 0, null);
        var chunk = new List<(long Line, IImportLine Object)>(ChunkSize);
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
                    chunk.Add((lineNumber, Parse(bytes, project)));
                }
                catch (FormatException e)
                {
                    state = await WriteChunkAsync(chunk, projects, state, cancellationToken);
                    await reader.CompleteAsync();
                    return state with { Failure = state.Failure ?? new ImportFailure(lineNumber, e.Message) };
                }
                if (chunk.Count == ChunkSize)
                {
                    state = await WriteChunkAsync(chunk, projects, state, cancellationToken);
                    progress?.Report(state);
                    if (state.Failure is not null)
                    {
                        await reader.CompleteAsync();
                        return state;
                    }
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

    /// <summary>A stored completion's line or a stored response's, by its <c>object</c>.</summary>
    private static IImportLine Parse(byte[] line, string? project)
    {
        using var document = RawFields.Read(line);
        var root = document.RootElement;
        return JsonCheck.Get(root, "object") is { ValueKind: JsonValueKind.String } kind && kind.ValueEquals("response"u8)
            ? ResponseImportLine.Parse(root, line, project)
            : ImportLine.Parse(root, line, project);
    }

    /// <summary>
    /// Writes a chunk in file order; a response whose chain is not stored stops it there, with everything before it
    /// written (the result's <see cref="ImportResult.Failure"/>).
    /// </summary>
    private async Task<ImportResult> WriteChunkAsync(
        List<(long Line, IImportLine Object)> chunk, Dictionary<string, long> projects, ImportResult state, CancellationToken cancellationToken)
    {
        if (chunk.Count == 0)
        {
            return state;
        }
        var completions = chunk.Select(c => c.Object).OfType<ImportLine>().ToList();
        var responses = chunk.Select(c => c.Object).OfType<ResponseImportLine>().ToList();
        var taken = completions.Count == 0 ? new HashSet<string>() : await archive.TakenIdsAsync([.. completions.Select(c => c.Id)], cancellationToken);
        // The chunk's responses and the responses they continue, where each is stored or was (deleted or expired), by project.
        var asked = responses.Select(r => r.Id).Concat(responses.Select(r => r.PreviousResponseId).OfType<string>()).Distinct().ToList();
        var stored = asked.Count == 0 ? new Dictionary<string, long>() : await responseArchive.FindAsync(asked, cancellationToken);
        var deleted = asked.Count == 0 ? new Dictionary<string, long>() : await responseArchive.FindDeletedAsync(asked, cancellationToken);
        var queued = new Dictionary<string, long>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var writes = new List<(bool Response, Task<bool> Added)>(chunk.Count);
        var (skipped, skippedResponses) = (0, 0);
        ImportFailure? failure = null;
        foreach (var (number, line) in chunk)
        {
            var isResponse = line is ResponseImportLine;
            if ((isResponse ? stored.ContainsKey(line.Id) || deleted.ContainsKey(line.Id) : taken.Contains(line.Id)) || !seen.Add(line.Id))
            {
                skipped++;
                skippedResponses += isResponse ? 1 : 0;
                continue;
            }
            if (!projects.TryGetValue(line.Project, out var projectId))
            {
                projectId = (await access.EnsureProjectAsync(line.Project, cancellationToken)).Id;
                projects[line.Project] = projectId;
            }
            // Queued together, so the group commit takes many per transaction; queued in file order, so they are
            // stored in it, a response after the one it continues.
            if (line is ImportLine completion)
            {
                writes.Add((false, AddAsync(() => store.AddAsync(
                    new StoredCompletion(projectId, completion.Id, completion.Model, completion.Created, completion.Body, completion.Metadata, completion.Messages)
                    {
                        Summary = completion.Summary,
                    }, CancellationToken.None))));
            }
            else if (line is ResponseImportLine response)
            {
                var row = response.In(projectId);
                if (response.PreviousResponseId is { } previous && Holds(deleted, previous, projectId) && !Holds(queued, previous, projectId))
                {
                    row = row with { PreviousResponseId = null };
                }
                else if (response.PreviousResponseId is { } missing && !Holds(stored, missing, projectId) && !Holds(queued, missing, projectId))
                {
                    failure = new ImportFailure(number, $"'{RawLine.Key}.previous_response_id': {missing} is neither stored in project '{line.Project}' nor on a line before this one. " +
                        "An export writes a response after the one it continues; import that line (or its file) first.");
                    break;
                }
                queued[response.Id] = projectId;
                writes.Add((true, AddAsync(() => responseStore.AddAsync(row, CancellationToken.None))));
            }
        }
        var added = await Task.WhenAll(writes.Select(w => w.Added));
        chunk.Clear();
        var (imported, responsesWritten) = (added.Count(ok => ok), writes.Count(w => w.Response));
        var importedResponses = writes.Zip(added).Count(w => w.First.Response && w.Second);
        return state with
        {
            Imported = state.Imported + imported,
            Skipped = state.Skipped + skipped + (writes.Count - imported),
            ResponsesImported = state.ResponsesImported + importedResponses,
            ResponsesSkipped = state.ResponsesSkipped + skippedResponses + (responsesWritten - importedResponses),
            Failure = failure,
        };
    }

    private static bool Holds(IReadOnlyDictionary<string, long> responses, string id, long projectId) =>
        responses.TryGetValue(id, out var project) && project == projectId;

    /// <summary>Stores one object; false when its id was stored meanwhile (by a server writing to the same store).</summary>
    private static async Task<bool> AddAsync(Func<Task> add)
    {
        try
        {
            await add();
            return true;
        }
        catch (System.Data.Common.DbException e) when (IsDuplicateId(e))
        {
            return false;
        }
    }

    /// <summary>A duplicate id, or a deleted response's id (which the store refuses as a duplicate: see its schema).</summary>
    private static bool IsDuplicateId(System.Data.Common.DbException e) => e switch
    {
        // SQLITE_CONSTRAINT_UNIQUE; SQLITE_CONSTRAINT_TRIGGER, only raised by the trigger that guards deleted responses' ids.
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1811,
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

/// <summary>
/// Where an import stands: lines imported, skipped (their ids already here), bytes read, and the line that stopped it;
/// of the lines imported and skipped, how many were responses (the others are completions).
/// </summary>
internal sealed record ImportResult(long Imported, long Skipped, long Bytes, ImportFailure? Failure)
{
    public long ResponsesImported { get; init; }

    public long ResponsesSkipped { get; init; }
}

/// <summary>A malformed line: its number (from 1) and what is wrong with it.</summary>
internal sealed record ImportFailure(long Line, string Problem);
