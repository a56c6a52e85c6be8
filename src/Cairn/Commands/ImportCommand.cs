using System.Globalization;
using Cairn.Http;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Export;

/// <summary>
/// <c>cairn import</c>: loads a raw export (JSONL of stored objects, e.g. from another Cairn) into the store,
/// keeping ids, metadata and times, with a progress bar on standard error when that is a terminal (or when asked).
/// </summary>
internal static class ImportCommand
{
    public const string Usage = """
        usage: cairn import [--db PATH | --postgres "CONNECTION"] [--project NAME] [--progress] FILE
          FILE holds lines of 'cairn export --format raw' ('-' reads standard input). Ids already in the store (or
          deleted from it) are skipped, so an interrupted import can be run again. --project puts every completion
          in that project instead of the one each line names; missing projects are created.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter errors)
    {
        if (args is ["--help" or "-h"])
        {
            await errors.WriteLineAsync(Usage);
            return 0;
        }
        try
        {
            return await ImportAsync(args, errors);
        }
        catch (OptionsException e)
        {
            await errors.WriteLineAsync($"cairn import: {e.Message}");
            return 2;
        }
    }

    private static async Task<int> ImportAsync(string[] args, TextWriter errors)
    {
        CommandLine line;
        string file;
        string? project;
        try
        {
            line = CommandLine.Parse(args, ["project", "progress"], flags: ["progress"], lists: []);
            file = line.Positional is [var only] ? only : throw new OptionsException(line.Positional.Count == 0 ? "name the FILE to import." : "import one FILE at a time.");
            if (file != "-" && !File.Exists(file))
            {
                throw new OptionsException($"{Path.GetFullPath(file)} does not exist.");
            }
            project = line.Single("project");
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
        }
        catch (OptionsException e)
        {
            await errors.WriteLineAsync($"cairn import: {e.Message}");
            await errors.WriteLineAsync(Usage);
            return 2;
        }

        await using var store = await CommandStore.OpenAsync(line.Others, _ => { }, holder: "cairn import");
        await using var input = file == "-" ? Console.OpenStandardInput() : new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        ProgressLine? bar = line.Flag("progress") || !Console.IsErrorRedirected
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
        var counts = string.Create(CultureInfo.InvariantCulture,
            $"imported {result.Imported:N0} completion{(result.Imported == 1 ? "" : "s")}, skipped {result.Skipped:N0} whose ids were already in the store (or deleted from it)");
        if (result.Failure is { } failure)
        {
            await errors.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"cairn import: line {failure.Line}: {failure.Problem}"));
            await errors.WriteLineAsync($"cairn import: stopped there; {counts} before it. Fix the line and run the import again: what is already imported is skipped.");
            return 1;
        }
        await errors.WriteLineAsync($"cairn import: {counts}");
        return 0;
    }

    private sealed class Progress(ProgressLine bar) : IProgress<ImportResult>
    {
        public void Report(ImportResult value) => bar.Show(value.Bytes, Text(value));

        public string Text(ImportResult value) =>
            string.Create(CultureInfo.InvariantCulture, $"{value.Imported:N0} imported, {value.Skipped:N0} skipped, {bar.Rate(value.Imported + value.Skipped)}");
    }
}
