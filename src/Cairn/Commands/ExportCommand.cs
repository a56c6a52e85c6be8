using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Cairn.Access;
using Cairn.Configuration;
using Cairn.Export;
using Cairn.Http;
using Cairn.Storage;

namespace Cairn.Commands;

/// <summary>
/// <c>cairn export</c>: writes the stored completions and responses matching its filters as JSONL to a file or standard
/// output, with a progress bar on standard error when that is a terminal (or when asked).
/// </summary>
internal static class ExportCommand
{
    public static Command Create(IReadOnlyList<string> settings)
    {
        var objects = new Option<string>("--objects")
        {
            HelpName = "all|completions|responses",
            Description = "Which stored objects: all (the default: completions, then responses), completions, or responses.",
        };
        var project = new Option<string>("--project") { HelpName = "NAME", Description = "Only this project's objects (default: every project)." };
        var model = new Option<string>("--model") { HelpName = "MODEL", Description = "Only objects of this model (the name clients sent)." };
        var metadata = new Option<string[]>("--metadata")
        {
            HelpName = "KEY=VALUE",
            Description = "Only objects with this metadata; several pairs (or the option again) are ANDed.",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        var from = new Option<string>("--from") { HelpName = "TIME", Description = "Created at or after TIME: ISO 8601 (2026-03-01, 2026-03-01T12:00:00Z) or Unix seconds." };
        var to = new Option<string>("--to") { HelpName = "TIME", Description = "Created before TIME." };
        var format = new Option<string>("--format")
        {
            HelpName = "finetune|raw",
            Description = "finetune (the default): OpenAI's chat fine-tuning JSONL (a line per completion, and per chain of responses). raw: stored objects that 'cairn import' loads.",
        };
        var output = new Option<string>("--output") { HelpName = "FILE", Description = "Write to FILE (whole or not at all) instead of standard output." };
        var progress = new Option<bool>("--progress") { Description = "Show the progress bar even when standard error is not a terminal." };
        var export = new Command("export", "Write the stored completions and responses that match the filters as JSONL.")
        {
            objects, project, model, metadata, from, to, format, output, progress,
        };
        StoreOptions.AddTo(export);
        export.SetAction(async (result, _) =>
        {
            var errors = result.InvocationConfiguration.Error;
            var arguments = new Arguments(
                StoreOptions.Settings(result, settings), result.GetValue(objects), result.GetValue(project), result.GetValue(model), result.GetValue(metadata) ?? [],
                result.GetValue(from), result.GetValue(to), result.GetValue(format), result.GetValue(output), result.GetValue(progress));
            try
            {
                return await ExportAsync(arguments, errors);
            }
            catch (OptionsException e)
            {
                await errors.WriteLineAsync($"cairn export: {e.Message}");
                return 2;
            }
        });
        return export;
    }

    private sealed record Arguments(
        IEnumerable<string> Settings, string? Objects, string? Project, string? Model, string[] Metadata, string? From, string? To, string? Format, string? Output, bool Progress);

    private static async Task<int> ExportAsync(Arguments line, TextWriter errors)
    {
        var format = line.Format switch
        {
            null or "finetune" => ExportFormat.FineTune,
            "raw" => ExportFormat.Raw,
            var other => throw new OptionsException($"--format must be finetune or raw, not '{other}'."),
        };
        var objects = line.Objects switch
        {
            null or "all" => ExportObjects.All,
            "completions" => ExportObjects.Completions,
            "responses" => ExportObjects.Responses,
            var other => throw new OptionsException($"--objects must be all, completions or responses, not '{other}'."),
        };
        List<KeyValuePair<string, string>> metadata = [.. line.Metadata.Select(Pair)];
        var from = Time(line.From, "from");
        var to = Time(line.To, "to");
        if (from is not null && to is not null && from >= to)
        {
            throw new OptionsException("--from must be before --to.");
        }

        await using var store = await CommandStore.OpenAsync(line.Settings, RequireExistingFile, holder: null);
        long? projectId = null;
        if (line.Project is { } name)
        {
            projectId = (await store.Services.GetRequiredService<IAccessStore>().FindProjectAsync(name, CancellationToken.None))?.Id
                ?? throw new OptionsException($"--project: there is no project named '{name}'.");
        }
        var filter = new ExportFilter(projectId, line.Model, metadata, from, to) { Objects = objects };
        var exporter = store.Services.GetRequiredService<StoreExporter>();
        using var cancel = new CancellationTokenSource();
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            cancel.Cancel();
        }
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        // A service manager's SIGTERM (or a closed terminal's SIGHUP) interrupts as Ctrl+C does, so no partial file is left.
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        using var onHangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Interrupt);
        try
        {
            ProgressLine? bar = null;
            if (line.Progress || !Console.IsErrorRedirected)
            {
                bar = new ProgressLine("export", await exporter.CountAsync(filter, format, cancel.Token), errors);
            }
            var progress = bar is null ? null : new Progress(bar, format);
            var output = line.Output;
            var written = output is null
                ? await WriteToStandardOutputAsync(exporter, filter, format, progress, cancel.Token)
                : await WriteToFileAsync(exporter, filter, format, output, progress, cancel.Token);
            bar?.Finish(written.Total, progress!.Text(written));
            await errors.WriteLineAsync($"cairn export: wrote {Counted(written, format)}{(output is null ? "" : $" to {output}")}");
            return 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await errors.WriteLineAsync($"{Environment.NewLine}cairn export: interrupted; no file was written");
            return 130;
        }
        catch (IOException e)
        {
            // A full disk, or standard output closed by its reader (cairn export | head).
            await errors.WriteLineAsync($"{Environment.NewLine}cairn export: cannot write the export: {e.Message}");
            return 1;
        }
        catch (System.Data.Common.DbException e)
        {
            await errors.WriteLineAsync($"{Environment.NewLine}cairn export: the store failed: {e.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static async Task<ExportCounts> WriteToStandardOutputAsync(
        StoreExporter exporter, ExportFilter filter, ExportFormat format, IProgress<ExportCounts>? progress, CancellationToken cancellationToken)
    {
        await using var stdout = Console.OpenStandardOutput();
        return await exporter.WriteAsync(filter, format, stdout, progress, cancellationToken);
    }

    /// <summary>
    /// Writes beside the file (<c>FILE.partial</c>) and renames it when done, so a file of that name is always a whole
    /// export. Both are readable by their owner only (0600), since they hold prompts and answers, whatever mode an
    /// older file of that name had. A partial file is deleted when the export fails or is interrupted; one left by a
    /// killed export is replaced by the next export to that path.
    /// </summary>
    private static async Task<ExportCounts> WriteToFileAsync(
        StoreExporter exporter, ExportFilter filter, ExportFormat format, string output, IProgress<ExportCounts>? progress, CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(output, Environment.CurrentDirectory);
        if (Path.GetDirectoryName(path) is { } folder && !Directory.Exists(folder))
        {
            throw new OptionsException($"--output: the folder {folder} does not exist.");
        }
        if (IsSpecial(path))
        {
            await using var device = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16, useAsync: false);
            return await exporter.WriteAsync(filter, format, device, progress, cancellationToken);
        }
        var partial = $"{path}.partial";
        FileStream file;
        try
        {
            file = OpenPartial(partial);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new OptionsException($"--output: {partial} is being written by another export ({e.Message}).");
        }
        try
        {
            ExportCounts written;
            await using (file)
            {
                written = await exporter.WriteAsync(filter, format, file, progress, cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(partial, path, overwrite: true);
            return written;
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    /// <summary>Opens the partial file alone (another export to the same path is refused), empty and 0600 even when a killed export left it.</summary>
    private static FileStream OpenPartial(string partial)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 1 << 16,
            Options = FileOptions.Asynchronous,
        };
        if (OperatingSystem.IsWindows())
        {
            return new FileStream(partial, options);
        }
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        options.UnixCreateMode = OwnerOnly;
        var file = new FileStream(partial, options);
        File.SetUnixFileMode(file.SafeFileHandle, OwnerOnly);
        return file;
    }

    /// <summary>A device or a process's descriptor (/dev/null, /dev/stdout, /proc/self/fd/3): written in place, never replaced by a rename.</summary>
    private static bool IsSpecial(string path) =>
        path.StartsWith("/dev/", StringComparison.Ordinal) || path.StartsWith("/proc/", StringComparison.Ordinal);

    private static void RequireExistingFile(StorageOptions options)
    {
        var path = Path.GetFullPath(options.Path, Environment.CurrentDirectory);
        if (options.Postgres is null && !File.Exists(path))
        {
            throw new OptionsException($"--db: {path} does not exist.");
        }
    }

    private static KeyValuePair<string, string> Pair(string text)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        return eq > 0 ? new(text[..eq], text[(eq + 1)..]) : throw new OptionsException($"--metadata takes KEY=VALUE, not '{text}'.");
    }

    private static DateTimeOffset? Time(string? text, string name)
    {
        if (text is null)
        {
            return null;
        }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds is >= -62_135_596_800 and <= 253_402_300_799
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : throw new OptionsException($"--{name}: {text} is out of range.");
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new OptionsException($"--{name} must be an ISO 8601 time (2026-03-01T12:00:00Z) or Unix seconds, not '{text}'.");
    }

    /// <summary>
    /// What was written, as <c>3 completions and 2 responses</c>: the kinds with lines written (or <c>0 lines</c>); for
    /// fine-tuning, response lines are chains.
    /// </summary>
    private static string Counted(ExportCounts written, ExportFormat format)
    {
        var responses = format == ExportFormat.FineTune ? "response chain" : "response";
        List<string> kinds = [];
        if (written.Completions > 0)
        {
            kinds.Add(Count(written.Completions, "completion"));
        }
        if (written.Responses > 0)
        {
            kinds.Add(Count(written.Responses, responses));
        }
        return kinds.Count == 0 ? "0 lines" : string.Join(" and ", kinds);
    }

    private static string Count(long count, string noun) => string.Create(CultureInfo.InvariantCulture, $"{count:N0} {noun}{(count == 1 ? "" : "s")}");

    /// <summary>Redraws the bar as the exporter reports lines written.</summary>
    private sealed class Progress(ProgressLine bar, ExportFormat format) : IProgress<ExportCounts>
    {
        public void Report(ExportCounts value) => bar.Show(value.Total, Text(value));

        public string Text(ExportCounts written) => $"{(written.Responses == 0 ? Count(written.Completions, "completion") : Counted(written, format))}, {bar.Rate(written.Total)}";
    }
}
