using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// <c>cairn export</c> and <c>cairn import</c> of stored responses as child processes: chains from a SQLite store
/// through a file into PostgreSQL, answered there byte for byte and continued; what the commands say.
/// </summary>
public sealed class ResponseExportCommandTests(ExportFixture fixture) : IClassFixture<ExportFixture>, IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task ExportFromSqlite_ImportIntoPostgres_AnswersGetAndInputItemsByteForByte_AndTheChainGoesOn()
    {
        var run = Guid.NewGuid().ToString();
        var source = fixture.Cairn;
        var ids = await ResponseExportContract.ToolChainAsync(source, run);
        var completions = ExportCommandTests.CreateCompletions(source.BaseUrl, run, 2);
        var file = folder.File("responses.jsonl");

        var export = await CairnCommand.RunAsync(
            "export", "--db", source.DatabasePath, "--objects", "responses", "--metadata", $"run={run}", "--format", "raw", "--output", file, "--progress");
        var everything = await CairnCommand.RunAsync("export", "--db", source.DatabasePath, "--metadata", $"run={run}", "--format", "raw");
        var fineTune = await CairnCommand.RunAsync("export", "--db", source.DatabasePath, "--metadata", $"run={run}");
        await using var target = new PostgresCairnServer();
        await target.InitializeAsync();
        var imported = await CairnCommand.RunAsync("import", "--postgres", target.ConnectionString, file);
        var again = await CairnCommand.RunAsync("import", "--postgres", target.ConnectionString, file);

        Assert.True(export.Exit == 0, export.Stderr);
        Assert.Contains("cairn export [##############################] 100% 3 responses", export.Stderr, StringComparison.Ordinal);
        Assert.Contains($"cairn export: wrote 3 responses to {file}", export.Stderr, StringComparison.Ordinal);
        Assert.True(everything.Exit == 0, everything.Stderr);
        Assert.Contains("cairn export: wrote 2 completions and 3 responses", everything.Stderr, StringComparison.Ordinal);
        Assert.Equal([.. completions, .. ids], ExportCommandTests.Lines(everything.Stdout).Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>()));
        Assert.True(fineTune.Exit == 0, fineTune.Stderr);
        Assert.Contains("cairn export: wrote 2 completions and 1 response chain", fineTune.Stderr, StringComparison.Ordinal);
        Assert.Equal(3, ExportCommandTests.Lines(fineTune.Stdout).Count);
        Assert.True(imported.Exit == 0, imported.Stderr);
        Assert.Contains("cairn import: imported 0 completions and 3 responses, skipped 0 completions and 0 responses", imported.Stderr, StringComparison.Ordinal);
        Assert.True(again.Exit == 0, again.Stderr);
        Assert.Contains("cairn import: imported 0 completions and 0 responses, skipped 0 completions and 3 responses", again.Stderr, StringComparison.Ordinal);
        await ResponseExportContract.AssertSameAsync(source, target, ids);
        Assert.Equal(await ResponseExportContract.ContinuedAsync(source, ids[^1]), await ResponseExportContract.ContinuedAsync(target, ids[^1]));
    }

    [Theory]
    [InlineData("export --objects chats", "cairn export: --objects must be all, completions or responses, not 'chats'.")]
    [InlineData("export --objects responses --objects all", "cairn export: --objects is given 2 times; give it once.")]
    public async Task BadObjects_ExitWithCode2_AndALineSayingWhatIsWrong(string command, string message)
    {
        var outcome = await CairnCommand.RunAsync([.. command.Split(' '), "--db", fixture.Cairn.DatabasePath]);

        Assert.Equal(2, outcome.Exit);
        Assert.Contains(message, outcome.Stderr, StringComparison.Ordinal);
        Assert.Empty(outcome.Stdout);
    }

    public void Dispose() => folder.Dispose();
}
