using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Cairn.Configuration;
using Cairn.Http;

namespace Cairn.Commands;

/// <summary>
/// Cairn's command line on System.CommandLine: the server (<c>cairn</c>, <c>cairn serve</c>) and the commands that
/// work on its store. The server passes its arguments on to ASP.NET Core's configuration as they are; every other
/// command refuses what it does not know with exit code 2 and one line naming it.
/// </summary>
internal static class CairnCommands
{
    private static readonly string[] StoreCommands = ["keys", "projects", "export", "import"];

    public static Task<int> InvokeAsync(string[] args) => InvokeAsync(args, Console.Out, Console.Error);

    public static async Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter errors)
    {
        // A store command takes the server's settings too (--Storage:ReadConnections=2): they go to the store's host.
        var (commandArgs, settings) = args is [var first, ..] && StoreCommands.Contains(first) ? StoreSettings.Split(args) : (args, []);
        var root = new RootCommand("""
            Cairn, an OpenAI-compatible chat completions server that stores completions.
            Without a command it serves; every setting can also be given as --Section:Key=value (see the README).
            """);
        ServeCommand.AddOptions(root);
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(AccessCommands.CreateKeys(settings));
        root.Subcommands.Add(AccessCommands.CreateProjects(settings));
        root.Subcommands.Add(ExportCommand.Create(settings));
        root.Subcommands.Add(ImportCommand.Create(settings));
        root.Subcommands.Add(MigrateCommand.Create());

        var result = root.Parse(commandArgs, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = errors,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // the server and export handle their own signals
        };
        var command = result.CommandResult.Command;
        if (command == root || command.Name == "serve")
        {
            // Help and version answer here; anything else is the server's, settings included, read by ASP.NET Core.
            return result.Action is HelpAction || result.Action?.GetType().DeclaringType == typeof(VersionOption)
                ? await result.InvokeAsync(invocation)
                : await ServeCommand.RunAsync(args is ["serve", .. var rest] ? rest : args, errors);
        }
        if (result.Action is not HelpAction && Problem(result) is { } problem)
        {
            await errors.WriteLineAsync($"{Name(result.CommandResult)}: {problem}");
            return 2;
        }
        try
        {
            return await result.InvokeAsync(invocation);
        }
        catch (OptionsException e)
        {
            await errors.WriteLineAsync($"cairn: {e.Message}");
            return 2;
        }
    }

    /// <summary>What is wrong with the command line, in the words of the old hand-written parsers; null when nothing.</summary>
    private static string? Problem(ParseResult result)
    {
        var unknown = result.UnmatchedTokens
            .Concat(result.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).Select(t => t.Value))
            .Where(t => t.StartsWith('-') && t != "-")
            .Select(t => t.Split('=')[0])
            .ToList();
        if (unknown.Count > 0)
        {
            return unknown.Count == 1 ? $"unknown option {unknown[0]}." : $"unknown options {string.Join(", ", unknown)}.";
        }
        if (result.UnmatchedTokens is [var stray, ..])
        {
            return $"unexpected argument '{stray}'.";
        }
        if (result.Errors is not [var error, ..])
        {
            return null;
        }
        return error.SymbolResult switch
        {
            OptionResult { Tokens.Count: 0 } option => $"{option.Option.Name} needs a value.",
            OptionResult option => $"{option.Option.Name} is given {option.Tokens.Count} times; give it once.",
            ArgumentResult { Tokens.Count: 0 } argument => $"{argument.Argument.Name} is missing.",
            CommandResult { Command.Subcommands.Count: > 0 } parent =>
                $"name a command ({string.Join(", ", parent.Command.Subcommands.Select(c => c.Name))}); --help says more.",
            _ => error.Message,
        };
    }

    /// <summary>The command as typed, for error lines: <c>cairn keys list</c>.</summary>
    private static string Name(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? at = command; at is CommandResult { Parent: not null } named; at = at.Parent)
        {
            names.Insert(0, named.Command.Name);
        }
        return string.Join(' ', ["cairn", .. names]);
    }
}
