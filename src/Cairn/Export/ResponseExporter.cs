using System.Buffers;
using Cairn.Storage;

namespace Cairn.Export;

/// <summary>
/// Writes stored responses as JSONL, streaming as <see cref="CompletionExporter"/> does: the store is read in storage
/// order a bounded batch at a time (so a response comes after the one it continues), items are read for a few
/// responses at a time in one query each (a whole chain each where a line needs one), and the output is flushed
/// after every batch. Raw: one line per response (<see cref="ResponseRawLine"/>). Fine-tuning: one line per chain
/// (<see cref="ResponseFineTuneLine"/>), for each response that no response of the export continues.
/// </summary>
internal sealed class ResponseExporter(IResponseArchive archive, IAccessStore access)
{
    public const int DefaultBatchSize = 256;

    public const int DefaultItemBatchSize = 32;

    /// <summary>The most responses read from the store at once.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>The most responses whose items (a whole chain each, where needed) are read, and held, at once.</summary>
    public int ItemBatchSize { get; init; } = DefaultItemBatchSize;

    /// <summary>
    /// Writes the responses matching <paramref name="filter"/> to <paramref name="output"/>; <paramref name="progress"/>
    /// hears the number of lines written so far after each batch. Returns the number of lines written.
    /// </summary>
    public async Task<long> WriteAsync(ExportFilter filter, ExportFormat format, Stream output, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(output);
        if (format is not (ExportFormat.Raw or ExportFormat.FineTune))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown export format.");
        }
        var query = filter.Query;
        var projects = new ProjectNames(access);
        var line = new ArrayBufferWriter<byte>(16 * 1024);
        long written = 0;
        for (long after = 0; ;)
        {
            var batch = await archive.ReadBatchAsync(query, after, BatchSize, cancellationToken);
            foreach (var part in batch.Chunk(ItemBatchSize))
            {
                // Fine-tuning reads the chain of each response that ends one; raw reads each response's own items, and the
                // whole chain of one whose chain the filter cuts, so that its line carries that context itself.
                List<long> own = format == ExportFormat.Raw ? [.. part.Where(r => !CutOff(r)).Select(r => r.Seq)] : [];
                List<long> chains = [.. part.Where(format == ExportFormat.Raw ? CutOff : r => !r.ContinuedByKept).Select(r => r.Seq)];
                var items = own.Count + chains.Count == 0 ? Nothing : await archive.ReadItemsAsync(own, chains, cancellationToken);
                foreach (var response in part)
                {
                    line.ResetWrittenCount();
                    var read = items.GetValueOrDefault(response.Seq) ?? [];
                    bool made;
                    if (format == ExportFormat.Raw)
                    {
                        ResponseRawLine.Write(line, response, read, await projects.GetAsync(response.ProjectId, cancellationToken), linked: response.ContinuesKept);
                        made = true;
                    }
                    else
                    {
                        made = !response.ContinuedByKept && ResponseFineTuneLine.TryWrite(line, response.Body, read);
                    }
                    if (made)
                    {
                        await output.WriteAsync(line.WrittenMemory, cancellationToken);
                        written++;
                    }
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

    private static readonly Dictionary<long, IReadOnlyList<ArchivedItem>> Nothing = [];

    /// <summary>A response that continues one the export leaves out: its line stands alone, its chain's items as its context.</summary>
    private static bool CutOff(ArchivedResponse response) => response.PreviousResponseId is not null && !response.ContinuesKept;
}
