namespace Cairn.Export;

/// <summary>
/// The arguments of <c>cairn export</c> and <c>cairn import</c>: the command's own options (some given more than
/// once, or with several values), its positional arguments, and everything else (store settings) for the app.
/// </summary>
internal sealed record CommandLine(Dictionary<string, List<string>> Options, List<string> Positional, List<string> Others)
{
    /// <summary>Splits <paramref name="args"/>; <paramref name="flags"/> take no value, <paramref name="lists"/> take every value up to the next option.</summary>
    public static CommandLine Parse(string[] args, string[] own, string[] flags, string[] lists)
    {
        var options = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var positional = new List<string>();
        var others = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--")
            {
                positional.Add(arg);
                continue;
            }
            var name = arg[2..];
            string? value = null;
            if (name.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0)
            {
                (name, value) = (name[..eq], name[(eq + 1)..]);
            }
            if (!own.Contains(name))
            {
                if (name is not ("db" or "postgres") && !name.Contains(':', StringComparison.Ordinal))
                {
                    throw new Cairn.Http.OptionsException($"unknown option --{name}.");
                }
                // A store setting (--db, --postgres, --Storage:Path=…): it and its value go to the app.
                others.Add(arg);
                if (value is null && i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    others.Add(args[++i]);
                }
                continue;
            }
            var values = options.TryGetValue(name, out var list) ? list : options[name] = [];
            if (flags.Contains(name))
            {
                values.Add(value ?? "true");
            }
            else if (value is not null)
            {
                values.Add(value);
            }
            else if (lists.Contains(name))
            {
                var start = values.Count;
                while (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    values.Add(args[++i]);
                }
                if (values.Count == start)
                {
                    throw new Cairn.Http.OptionsException($"--{name} needs a value.");
                }
            }
            else
            {
                values.Add(i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                    ? args[++i]
                    : throw new Cairn.Http.OptionsException($"--{name} needs a value."));
            }
        }
        return new CommandLine(options, positional, others);
    }

    /// <summary>The option's value; given twice, an error.</summary>
    public string? Single(string name) => Options.TryGetValue(name, out var values)
        ? values.Count == 1 ? values[0] : throw new Cairn.Http.OptionsException($"--{name} is given {values.Count} times; give it once.")
        : null;

    public bool Flag(string name) => Options.ContainsKey(name);
}
