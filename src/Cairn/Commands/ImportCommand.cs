using System.CommandLine;
using System.Globalization;
using Cairn.Configuration;
using Cairn.Export;
using Cairn.Http;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Commands;

/// <summary>
/// <c>cairn import</c>: loads a raw export (JSONL of stored objects, e.g. from another Cairn) into the store,
/// keeping ids, metadata and times, with a progress bar on standard error when that is a terminal (or when asked).
/// </summary>
internal static class ImportCommand
{
    public static Command Create(IReadOnlyList<string> settings)
    {
        var project = new Option<string>("--project")
        {
            HelpName = "NAME",
            Description = "Put every completion and response in this project instead of the one each line names; missing projects are created.",
        };
        var progress = new Option<bool>("--progress") { Description = "Show the progress bar even when standard error is not a terminal." };
        var files = new Argument<string[]>("FILE")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "Lines of 'cairn export --format raw' ('-' reads standard input). Ids already in the store (or deleted from it) are skipped, so an interrupted import can be run again.",
        };
        var import = new Command("import", "Load a raw export (JSONL of stored objects, e.g. from another Cairn) into the store.")
        {
            project, progress, files,
        };
        StoreOptions.AddTo(import);
        import.SetAction(async (result, _) =>
        {
            var errors = result.InvocationConfiguration.Error;
            try
            {
                return await ImportAsync(StoreOptions.Settings(result, settings), result.GetValue(files) ?? [], result.GetValue(project), result.GetValue(progress), errors);
            }
            catch (OptionsException e)
            {
                await errors.WriteLineAsync($"cairn import: {e.Message}");
                return 2;
            }
        });
        return import;
    }

    private static async Task<int> ImportAsync(IEnumerable<string> settings, string[] files, string? project, bool showProgress, TextWriter errors)
    {
        var file = files is [var only] ? only : throw new OptionsException(files.Length == 0 ? "name the FILE to import." : "import one FILE at a time.");
        if (file != "-" && !File.Exists(file))
        {
            throw new OptionsException($"{Path.GetFullPath(file)} does not exist.");
        }
        if (project is not null)
        {
            try
            {
                Cairn.Access.AccessService.CheckProjectName(project, "project");
            }
            catch (OpenAIException e)
            {
                throw new OptionsException($"--project: {e.Error.Message}");
            }
        }

        await using var store = await CommandStore.OpenAsync(settings, _ => { }, holder: "cairn import");
        await using var input = file == "-" ? Console.OpenStandardInput() : new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        ProgressLine? bar = showProgress || !Console.IsErrorRedirected
            ? new ProgressLine("import", file == "-" ? null : input.Length, errors)
            : null;
        var progress = bar is null ? null : new Progress(bar);
        ImportResult result;
        try
        {
            result = await store.Services.GetRequiredService<CompletionImporter>().ImportAsync(input, project, progress, CancellationToken.None);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException)
        {
            await errors.WriteLineAsync($"{Environment.NewLine}cairn import: {e.Message.ReplaceLineEndings(" ")} " +
                "Every chunk imported before this is committed; run the import again to go on: what is already imported is skipped.");
            return 1;
        }
        bar?.Finish(result.Bytes, progress!.Text(result));
        var counts = Counts(result);
        if (result.Failure is { } failure)
        {
            await errors.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"cairn import: line {failure.Line}: {failure.Problem}"));
            await errors.WriteLineAsync($"cairn import: stopped there; {counts} before it. Fix the line and run the import again: what is already imported is skipped.");
            return 1;
        }
        await errors.WriteLineAsync($"cairn import: {counts}");
        return 0;
    }

    /// <summary>
    /// <c>imported 3 completions, skipped 0 whose ids …</c>, naming responses only when the file had any:
    /// <c>imported 3 completions and 2 responses, skipped 1 completion and 0 responses whose ids …</c>.
    /// </summary>
    private static string Counts(ImportResult result)
    {
        var (completions, skippedCompletions) = (result.Imported - result.ResponsesImported, result.Skipped - result.ResponsesSkipped);
        if (result.ResponsesImported + result.ResponsesSkipped == 0)
        {
            return $"imported {Count(completions, "completion")}, skipped {skippedCompletions.ToString("N0", CultureInfo.InvariantCulture)} whose ids were already in the store (or deleted from it)";
        }
        return $"imported {Count(completions, "completion")} and {Count(result.ResponsesImported, "response")}, " +
            $"skipped {Count(skippedCompletions, "completion")} and {Count(result.ResponsesSkipped, "response")} whose ids were already in the store (or deleted from it)";
    }

    private static string Count(long count, string noun) => string.Create(CultureInfo.InvariantCulture, $"{count:N0} {noun}{(count == 1 ? "" : "s")}");

    private sealed class Progress(ProgressLine bar) : IProgress<ImportResult>
    {
        public void Report(ImportResult value) => bar.Show(value.Bytes, Text(value));

        public string Text(ImportResult value) =>
            string.Create(CultureInfo.InvariantCulture, $"{value.Imported:N0} imported, {value.Skipped:N0} skipped, {bar.Rate(value.Imported + value.Skipped)}");
    }
}
