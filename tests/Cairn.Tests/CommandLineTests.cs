using Cairn.Commands;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>The command line as a new user meets it: help that touches nothing, every command's help, misspelled options refused.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task Help_ListsTheCommands_ExitsZero_AndCreatesNoFile()
    {
        // Before System.CommandLine, --help was read as a setting: the server started (and never exited) and created cairn.db here.
        var outcome = await CairnCommand.RunWithAsync(null, new Dictionary<string, string>(), ["--help"], TimeSpan.FromSeconds(60), folder.Path);

        Assert.True(outcome.Exit == 0, outcome.Stderr);
        foreach (var command in new[] { "serve", "keys", "projects", "export", "import", "migrate", "--urls", "--db", "--postgres", "--models" })
        {
            Assert.Contains(command, outcome.Stdout, StringComparison.Ordinal);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
    }

    [Fact]
    public async Task AMisspelledOption_ExitsWithCode2_AndOneLineNamingIt_BeforeTheStoreIsOpened()
    {
        var db = folder.File("typo.db");

        var outcome = await CairnCommand.RunAsync("keys", "list", "--projct", "shop", "--db", db);

        Assert.Equal(2, outcome.Exit);
        Assert.Equal("cairn keys list: unknown option --projct.", outcome.Stderr.Trim());
        Assert.Empty(outcome.Stdout);
        Assert.False(File.Exists(db));
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("keys")]
    [InlineData("keys create")]
    [InlineData("keys list")]
    [InlineData("keys revoke")]
    [InlineData("projects")]
    [InlineData("projects list")]
    [InlineData("projects set")]
    [InlineData("export")]
    [InlineData("import")]
    [InlineData("migrate")]
    public async Task EveryCommand_HasHelp(string command)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();

        var exit = await CairnCommands.InvokeAsync([.. command.Split(' '), "--help"], output, errors);

        Assert.True(exit == 0, errors.ToString());
        Assert.Contains($" {command} ", output.ToString(), StringComparison.Ordinal); // the usage line names it
        Assert.Contains("--help", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("keys create --project p --nmae x", "cairn keys create: unknown option --nmae.")]
    [InlineData("projects set p --rmp 5", "cairn projects set: unknown option --rmp.")]
    [InlineData("migrate --from a.db --to x --resume", "cairn migrate: unknown option --resume.")]
    [InlineData("keys", "cairn keys: name a command (create, list, revoke)")]
    [InlineData("keys revoke", "cairn keys revoke: KEY_ID is missing.")]
    public async Task BadCommandLines_ExitWithCode2_AndOneLine(string command, string line)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();

        var exit = await CairnCommands.InvokeAsync(command.Split(' '), output, errors);

        Assert.Equal(2, exit);
        Assert.StartsWith(line, Assert.Single(errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }

    [Fact]
    public async Task AStoreCommand_TakesTheServersSettings()
    {
        var db = folder.File("settings.db");
        using var output = new StringWriter();
        using var errors = new StringWriter();

        var exit = await CairnCommands.InvokeAsync(["keys", "create", "--project", "p", "--Storage:Path", db, "--Storage:Synchronous=NORMAL"], output, errors);

        Assert.True(exit == 0, errors.ToString());
        Assert.StartsWith("sk-cairn-", output.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(db));
    }

    public void Dispose() => folder.Dispose();
}
