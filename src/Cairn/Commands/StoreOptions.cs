using System.CommandLine;

namespace Cairn.Commands;

/// <summary>The options that choose the store, shared by the server and the commands that open it.</summary>
internal static class StoreOptions
{
    public static Option<string> Db() =>
        new("--db") { HelpName = "PATH", Description = "The SQLite file (default cairn.db in the working directory)." };

    public static Option<string> Postgres() =>
        new("--postgres") { HelpName = "CONNECTION", Description = "A PostgreSQL connection string: store there instead." };

    /// <summary>Adds <c>--db</c> and <c>--postgres</c> to a store command.</summary>
    public static void AddTo(Command command)
    {
        command.Options.Add(Db());
        command.Options.Add(Postgres());
    }

    /// <summary>The store settings of a parsed command line, as the server reads them (<c>--db</c> and <c>--postgres</c> first, then the rest).</summary>
    public static IEnumerable<string> Settings(ParseResult result, IEnumerable<string> settings)
    {
        if (result.GetValue<string>("--db") is { } db)
        {
            yield return $"--Storage:Path={db}";
        }
        if (result.GetValue<string>("--postgres") is { } postgres)
        {
            yield return $"--Storage:Postgres={postgres}";
        }
        foreach (var setting in settings)
        {
            yield return setting;
        }
    }
}
