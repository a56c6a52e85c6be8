using Cairn.Storage;

namespace Cairn.Export;

/// <summary>
/// Writes what an export selects (<see cref="ExportFilter.Objects"/>) to one stream: the matching stored completions,
/// then the matching stored responses, each streamed by its own exporter. The command and the dashboard use it.
/// </summary>
internal sealed class StoreExporter(CompletionExporter completions, ResponseExporter responses, ICompletionArchive completionArchive, IResponseArchive responseArchive)
{
    /// <summary>
    /// Writes the export; <paramref name="progress"/> hears the lines written so far after each batch. Returns the
    /// lines written of each kind (for fine-tuning, a response line is a chain).
    /// </summary>
    public async Task<ExportCounts> WriteAsync(ExportFilter filter, ExportFormat format, Stream output, IProgress<ExportCounts>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var counts = new ExportCounts(0, 0);
        if (filter.Objects.HasFlag(ExportObjects.Completions))
        {
            var relay = progress is null ? null : new Relay(written => progress.Report(counts with { Completions = written }));
            counts = counts with { Completions = await completions.WriteAsync(filter, format, output, relay, cancellationToken) };
        }
        if (filter.Objects.HasFlag(ExportObjects.Responses))
        {
            var relay = progress is null ? null : new Relay(written => progress.Report(counts with { Responses = written }));
            counts = counts with { Responses = await responses.WriteAsync(filter, format, output, relay, cancellationToken) };
        }
        return counts;
    }

    /// <summary>About how many lines the export writes (fine-tuning leaves out answers with nothing to learn from), for a progress bar.</summary>
    public async Task<long> CountAsync(ExportFilter filter, ExportFormat format, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var total = 0L;
        if (filter.Objects.HasFlag(ExportObjects.Completions))
        {
            total += await completionArchive.CountAsync(filter.Query, cancellationToken);
        }
        if (filter.Objects.HasFlag(ExportObjects.Responses))
        {
            total += await responseArchive.CountAsync(filter.Query, chainEnds: format == ExportFormat.FineTune, cancellationToken);
        }
        return total;
    }

    private sealed class Relay(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}

/// <summary>Lines an export has written: completions, and responses (for fine-tuning, chains of them).</summary>
internal sealed record ExportCounts(long Completions, long Responses)
{
    public long Total => Completions + Responses;
}
