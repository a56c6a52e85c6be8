using System.Buffers;
using Cairn.Access;
using Cairn.Storage;

namespace Cairn.Export;

/// <summary>
/// Writes stored completions as JSONL, streaming: the store is read in storage order a bounded batch at a time
/// (a keyset over seq), each line is written as it is made, and the output is flushed after every batch, so memory
/// stays flat however many completions match and a download starts at once.
/// </summary>
internal sealed class CompletionExporter(ICompletionArchive archive, IAccessStore access)
{
    public const int DefaultBatchSize = 256;

    /// <summary>The most completions read from the store (and held in memory) at once.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>
    /// Writes every completion matching <paramref name="filter"/> to <paramref name="output"/>, one line each;
    /// <paramref name="progress"/> hears the number written so far after each batch. Returns the number written
    /// (in <see cref="ExportFormat.FineTune"/>, completions whose answer has neither text nor tool calls are left out).
    /// </summary>
    public async Task<long> WriteAsync(ExportFilter filter, ExportFormat format, Stream output, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(output);
        var query = filter.Query;
        var projects = new ProjectNames(access);
        var line = new ArrayBufferWriter<byte>(16 * 1024);
        long written = 0;
        for (long after = 0; ;)
        {
            var batch = await archive.ReadBatchAsync(query, after, BatchSize, cancellationToken);
            foreach (var completion in batch)
            {
                line.ResetWrittenCount();
                var made = format switch
                {
                    ExportFormat.Raw => RawLine.Write(line, completion, await projects.GetAsync(completion.ProjectId, cancellationToken)),
                    ExportFormat.FineTune => FineTuneLine.TryWrite(line, completion),
                    _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown export format."),
                };
                if (made)
                {
                    await output.WriteAsync(line.WrittenMemory, cancellationToken);
                    written++;
                }
            }
            await output.FlushAsync(cancellationToken);
            progress?.Report(written);
            if (batch.Count < BatchSize)
            {
                return written;
            }
            after = batch[^1].Seq;
        }
    }
}
