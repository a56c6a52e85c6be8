using System.ClientModel;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace Cairn.Tests;

/// <summary><c>cairn export</c> and <c>cairn import</c> end to end, as child processes, on SQLite files.</summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly TempFolder folder = new();

    internal static List<string> CreateCompletions(Uri baseUrl, string run, int count)
    {
        var chat = new ChatClient("echo", new ApiKeyCredential("sk-test"), new OpenAIClientOptions { Endpoint = new Uri(baseUrl, "/v1") });
        var options = new ChatCompletionOptions { StoredOutputEnabled = true, Metadata = { ["run"] = run } };
        return [.. Enumerable.Range(0, count).Select(i => chat.CompleteChat([new SystemChatMessage("Be brief."), new UserChatMessage($"question {i}")], options).Value.Id)];
    }

    internal static List<string> Lines(string text) => text.Length == 0 ? [] : [.. text.Split('\n')[..^1]];

    [Fact]
    public async Task ExportAndImport_CarryTheCompletionsIntoAnotherFile_WithFiltersProgressAndClearRefusals()
    {
        var (source, target, raw) = (folder.File("source.db"), folder.File("target.db"), folder.File("out/raw.jsonl"));
        Directory.CreateDirectory(folder.File("out"));
        var run = Guid.NewGuid().ToString();
        using var server = await CairnProcess.StartAsync(source);
        var ids = CreateCompletions(server.BaseUrl, run, 3);
        CreateCompletions(server.BaseUrl, "another run", 1);

        var toFile = await CairnCommand.RunAsync("export", "--db", source, "--metadata", $"run={run}", "--format", "raw", "--output", raw, "--progress");
        var toStdout = await CairnCommand.RunAsync("export", "--db", source, "--metadata", $"run={run}", "--model", "echo",
            "--from", DateTimeOffset.UtcNow.AddHours(-1).ToString("O"), "--to", DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var intoRunning = await CairnCommand.RunAsync("import", "--db", source, raw);
        var unknownProject = await CairnCommand.RunAsync("export", "--db", source, "--project", "nope");
        var imported = await CairnCommand.RunAsync("import", "--db", target, "--project", "moved", raw);
        var again = await CairnCommand.RunAsync("import", "--db", target, "--project", "moved", raw);
        var back = await CairnCommand.RunAsync("export", "--db", target, "--project", "moved", "--format", "raw");

        Assert.True(toFile.Exit == 0, toFile.Stderr);
        Assert.Contains("cairn export [##############################] 100% 3 completions", toFile.Stderr, StringComparison.Ordinal);
        Assert.Contains($"wrote 3 completions to {raw}", toFile.Stderr, StringComparison.Ordinal);
        Assert.Empty(toFile.Stdout);
        Assert.Equal([], Directory.GetFiles(folder.File("out")).Where(f => f != raw));
        var rawLines = Lines(await File.ReadAllTextAsync(raw));
        Assert.Equal(ids, rawLines.Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>()));

        Assert.True(toStdout.Exit == 0, toStdout.Stderr);
        Assert.Equal(
            Enumerable.Range(0, 3).Select(i => $$"""{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"question {{i}}"},{"role":"assistant","content":"question {{i}}"}]}"""),
            Lines(toStdout.Stdout));
        Assert.DoesNotContain("cairn export [", toStdout.Stderr, StringComparison.Ordinal);

        Assert.Equal(2, intoRunning.Exit);
        Assert.Contains($"{source} is in use by process {server.Id} (cairn serve)", intoRunning.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, unknownProject.Exit);
        Assert.Contains("cairn export: --project: there is no project named 'nope'", unknownProject.Stderr, StringComparison.Ordinal);

        Assert.True(imported.Exit == 0, imported.Stderr);
        Assert.Contains("cairn import: imported 3 completions, skipped 0", imported.Stderr, StringComparison.Ordinal);
        Assert.True(again.Exit == 0, again.Stderr);
        Assert.Contains("cairn import: imported 0 completions, skipped 3", again.Stderr, StringComparison.Ordinal);
        Assert.True(back.Exit == 0, back.Stderr);
        Assert.Equal(rawLines.Select(l => l.Replace("\"project\":\"default\"", "\"project\":\"moved\"", StringComparison.Ordinal)), Lines(back.Stdout));
    }

    [Fact]
    public async Task Import_StopsAtAMalformedLine_NamingIt_WithExitCode1_KeepsTheLinesBeforeIt_AndARunFromStandardInputGoesOn()
    {
        var (source, target, file) = (folder.File("source.db"), folder.File("target.db"), folder.File("broken.jsonl"));
        var run = Guid.NewGuid().ToString();
        using (var server = await CairnProcess.StartAsync(source))
        {
            CreateCompletions(server.BaseUrl, run, 2);
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
        }
        var export = await CairnCommand.RunAsync("export", "--db", source, "--format", "raw");
        var lines = Lines(export.Stdout);
        await File.WriteAllTextAsync(file, $"{lines[0]}\n{{\"object\":\"chat.completion\"}}\n{lines[1]}\n");

        var broken = await CairnCommand.RunAsync("import", "--db", target, file);
        var kept = await CairnCommand.RunAsync("export", "--db", target, "--format", "raw");
        var fromStdin = await CairnCommand.RunWithInputAsync(export.Stdout, "import", "--db", target, "-");

        Assert.Equal(1, broken.Exit);
        Assert.Contains("cairn import: line 2: 'id' must be a string.", broken.Stderr, StringComparison.Ordinal);
        Assert.Contains("imported 1 completion, skipped 0", broken.Stderr, StringComparison.Ordinal);
        Assert.Equal([lines[0]], Lines(kept.Stdout));
        Assert.True(fromStdin.Exit == 0, fromStdin.Stderr);
        Assert.Contains("imported 1 completion, skipped 1", fromStdin.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("export --format xml", "cairn export: --format must be finetune or raw, not 'xml'.")]
    [InlineData("export --from yesterday", "cairn export: --from must be an ISO 8601 time")]
    [InlineData("export --from 2026-02-01 --to 2026-01-01", "cairn export: --from must be before --to.")]
    [InlineData("export --metadata novalue", "cairn export: --metadata takes KEY=VALUE, not 'novalue'.")]
    [InlineData("export --metadata", "cairn export: --metadata needs a value.")]
    [InlineData("export --frmat raw", "cairn export: unknown option --frmat.")]
    [InlineData("export --format raw --format finetune", "cairn export: --format is given 2 times; give it once.")]
    [InlineData("export stray", "cairn export: unexpected argument 'stray'.")]
    [InlineData("export --db DIR/missing.db", "cairn export: --db: DIR/missing.db does not exist.")]
    [InlineData("import", "cairn import: name the FILE to import.")]
    [InlineData("import DIR/missing.jsonl", "cairn import: DIR/missing.jsonl does not exist.")]
    [InlineData("import --project bad/name DIR/empty.jsonl", "cairn import: --project: Invalid 'project': a project name is 1 to 64")]
    public async Task BadArguments_ExitWithCode2_AndALineSayingWhatIsWrong(string command, string message)
    {
        await File.WriteAllTextAsync(folder.File("empty.jsonl"), "");
        var args = command.Replace("DIR", folder.Path, StringComparison.Ordinal).Split(' ');

        var outcome = await CairnCommand.RunAsync(args);

        Assert.Equal(2, outcome.Exit);
        Assert.Contains(message.Replace("DIR", folder.Path, StringComparison.Ordinal), outcome.Stderr, StringComparison.Ordinal);
        Assert.Empty(outcome.Stdout);
    }

    public void Dispose() => folder.Dispose();
}

/// <summary><c>cairn export</c> and <c>cairn import</c> end to end on PostgreSQL, where import may run beside the servers.</summary>
public sealed class ExportCommandPostgresTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task ExportAndImport_CarryTheCompletionsIntoAnotherDatabase_AndImportRunsBesideAServer()
    {
        var postgres = await PostgresServer.GetAsync();
        var (source, target, raw) = (await postgres.CreateDatabaseAsync(), await postgres.CreateDatabaseAsync(), folder.File("raw.jsonl"));
        var run = Guid.NewGuid().ToString();
        using var server = await CairnProcess.StartOnPostgresAsync(source);
        var ids = ExportCommandTests.CreateCompletions(server.BaseUrl, run, 3);

        var export = await CairnCommand.RunAsync("export", "--postgres", source, "--metadata", $"run={run}", "--format", "raw", "--output", raw);
        var imported = await CairnCommand.RunAsync("import", "--postgres", target, raw);
        var besideServer = await CairnCommand.RunAsync("import", "--postgres", source, raw);
        var back = await CairnCommand.RunAsync("export", "--postgres", target, "--format", "raw");

        Assert.True(export.Exit == 0, export.Stderr);
        Assert.True(imported.Exit == 0, imported.Stderr);
        Assert.Contains("imported 3 completions, skipped 0", imported.Stderr, StringComparison.Ordinal);
        Assert.True(besideServer.Exit == 0, besideServer.Stderr);
        Assert.Contains("imported 0 completions, skipped 3", besideServer.Stderr, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllTextAsync(raw), back.Stdout);
        Assert.Equal(ids, ExportCommandTests.Lines(back.Stdout).Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>()));
    }

    public void Dispose() => folder.Dispose();
}
