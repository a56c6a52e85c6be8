using System.Globalization;

namespace Abuse;

/// <summary>The harness's command line (bench/abuse passes it on).</summary>
internal sealed record Settings
{
    public const string Usage = """
        usage: Abuse --cairn PATH/Cairn.dll [--out FILE] [--label TEXT] [--only a1,c1,...] [--deadline SECONDS]
                     [--rss-cap-mb MB] [--echo-mb MB] [--upstream-mb MB] [--pid-file FILE]
          --cairn        a built Cairn (dotnet publish src/Cairn -c Release); it runs as `dotnet Cairn.dll`
          --out          the markdown report (default abuse.md)
          --label        what was measured, for the report's title (a commit, "before", ...)
          --only         run only these cases (ids as in the report)
          --deadline     the whole run's limit in seconds (default 480); cases that would start after it are skipped
          --rss-cap-mb   a server whose resident memory passes this is killed and the case reads "> RSS cap" (default 7168)
          --echo-mb      the prompt of the n: 128 stored echo (c1), MiB (default 2; the issue's figure was for 4)
          --upstream-mb  the non-streaming upstream answer (e1), MB (default 100; the issue's figure was for 300)
        """;

    public required string CairnDll { get; init; }
    public string Out { get; init; } = "abuse.md";
    public string Label { get; init; } = "";
    public IReadOnlySet<string>? Only { get; init; }
    public int DeadlineSeconds { get; init; } = 480;
    public int RssCapMib { get; init; } = 7168;
    public double EchoMib { get; init; } = 2;
    public int UpstreamMb { get; init; } = 100;
    public string PidFile { get; init; } = Path.Combine(Path.GetTempPath(), "cairn-abuse-server.pid");

    public static Settings? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                return null;
            }
            values[args[i][2..]] = args[++i];
        }
        if (!values.TryGetValue("cairn", out var dll) || !File.Exists(dll))
        {
            return null;
        }
        var known = new[] { "cairn", "out", "label", "only", "deadline", "rss-cap-mb", "echo-mb", "upstream-mb", "pid-file" };
        if (values.Keys.Any(k => !known.Contains(k)))
        {
            return null;
        }
        var defaults = new Settings { CairnDll = "" };
        return new Settings
        {
            CairnDll = Path.GetFullPath(dll),
            Out = values.GetValueOrDefault("out", defaults.Out),
            Label = values.GetValueOrDefault("label", ""),
            Only = values.TryGetValue("only", out var only) ? only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet() : null,
            DeadlineSeconds = values.TryGetValue("deadline", out var d) ? int.Parse(d, CultureInfo.InvariantCulture) : defaults.DeadlineSeconds,
            RssCapMib = values.TryGetValue("rss-cap-mb", out var r) ? int.Parse(r, CultureInfo.InvariantCulture) : defaults.RssCapMib,
            EchoMib = values.TryGetValue("echo-mb", out var e) ? double.Parse(e, CultureInfo.InvariantCulture) : defaults.EchoMib,
            UpstreamMb = values.TryGetValue("upstream-mb", out var u) ? int.Parse(u, CultureInfo.InvariantCulture) : defaults.UpstreamMb,
            PidFile = values.GetValueOrDefault("pid-file", defaults.PidFile),
        };
    }
}
