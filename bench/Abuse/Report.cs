using System.Globalization;
using System.Text;

namespace Abuse;

/// <summary>The markdown report: a header saying what ran where, one table row per case, and what each column means.</summary>
internal static class Report
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Line(Row row) =>
        $"{row.Case.Id}: {row.Outcome} | wall {Num(row.WallSeconds, "0.00")} s | CPU {Num(row.CpuSeconds, "0.00")} s | " +
        $"peak RSS {Num(row.PeakMib, "0")} MiB (from {Num(row.RssBeforeMib, "0")}) | response {Bytes(row.ResponseBytes)} | store growth {Bytes(row.StoredBytes)}";

    public static string Markdown(Settings settings, IReadOnlyList<Row> rows, DateTime started, double seconds, string machine)
    {
        var text = new StringBuilder();
        var dll = Path.GetRelativePath(Environment.CurrentDirectory, settings.CairnDll);
        text.Append(Invariant, $"# Cairn abuse benchmark{(settings.Label.Length > 0 ? ": " + settings.Label : "")}\n\n");
        text.Append(Invariant, $"Measured by `bench/abuse` on {started:yyyy-MM-dd HH:mm} UTC: `{(dll.StartsWith("..", StringComparison.Ordinal) ? settings.CairnDll : dll)}` as a child process on 127.0.0.1 with a fresh SQLite store per case ");
        text.Append(Invariant, $"(cases marked ↳ continue the previous case's server and store). {machine} The run took {seconds:0} s ");
        text.Append(Invariant, $"(deadline {settings.DeadlineSeconds} s); a server passing {settings.RssCapMib} MiB of RSS is killed. ");
        text.Append("Where other processes share the cores (a load above the core count), wall times stretch and CPU seconds stay comparable.\n\n");
        text.Append("| case | scenario | request | outcome | wall s | server CPU s | peak RSS MiB | RSS before MiB | response | store growth |\n");
        text.Append("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        foreach (var row in rows)
        {
            text.Append(Invariant, $"| {row.Case.Id}{(row.Case.SameServer ? " ↳" : "")} (cap {row.Case.CapSeconds} s) | {Cell(row.Case.Scenario)} | {Cell(row.Case.Request)} | {Cell(row.Outcome)} | ");
            text.Append(Invariant, $"{Num(row.WallSeconds, "0.00")} | {Num(row.CpuSeconds, "0.00")} | {Num(row.PeakMib, "0")} | {Num(row.RssBeforeMib, "0")} | {Bytes(row.ResponseBytes)} | {Bytes(row.StoredBytes)} |\n");
        }
        text.Append("""

            - **wall s**: from the case's first request to its end (a case's own waits included: b watches 20 s, d1 up to 40 s).
            - **server CPU s**: user + system CPU of the Cairn process over the case (`utime + stime` of `/proc/PID/stat`), all threads.
            - **peak RSS MiB**: `VmHWM` of `/proc/PID/status`, reset to the current RSS (`echo 5 > /proc/PID/clear_refs`) before the case;
              **RSS before** is `VmRSS` at that moment. It counts file pages SQLite maps, so a store read whole shows up in it.
            - **response**: body bytes the client read (all clients together in d2); **store growth**: growth of the SQLite file
              plus its WAL over the case. A page written to the WAL and checkpointed into the file counts twice, so a large stored
              completion shows up to twice its size; 0 means nothing was stored. c2 (the list holding it) shows its size once.
            - **> cap**: the case ran past its cap; the client left and the server was killed (SIGKILL) so the next case starts clean.
              Every case except those marked ↳ starts a fresh server; a case that leaves work behind (b, d, e) is never followed by ↳.

            """);
        return text.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    private static string Num(double? value, string format) =>
        value is { } v && !double.IsNaN(v) ? v.ToString(format, Invariant) : "";

    private static string Bytes(long? bytes) => bytes switch
    {
        null => "",
        < 10_000 => bytes.Value.ToString("#,0", Invariant) + " B",
        < 10_000_000 => (bytes.Value / 1e3).ToString("#,0", Invariant) + " kB",
        _ => (bytes.Value / 1e6).ToString("#,0", Invariant) + " MB",
    };
}
