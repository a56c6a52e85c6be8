namespace Cairn.Commands;

/// <summary>
/// The server's settings given to a store command (<c>--Storage:ReadConnections=2</c>, <c>--Logging:LogLevel:Default Debug</c>):
/// an option whose name holds a colon is a setting, read by the store's host as the server reads it.
/// </summary>
internal static class StoreSettings
{
    /// <summary>Splits <paramref name="args"/> into the command's own arguments and the settings (each with its value).</summary>
    public static (string[] Command, string[] Settings) Split(string[] args)
    {
        var command = new List<string>();
        var settings = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var name = arg.Split('=')[0];
            if (!name.StartsWith("--", StringComparison.Ordinal) || !name.Contains(':', StringComparison.Ordinal))
            {
                command.Add(arg);
                continue;
            }
            settings.Add(arg);
            if (name.Length == arg.Length && i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                settings.Add(args[++i]);
            }
        }
        return ([.. command], [.. settings]);
    }
}
