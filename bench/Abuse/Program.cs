// The abuse benchmark: runs a built Cairn as a child process on loopback and records what issue 13's worst cases
// cost it (CPU, peak RSS, bytes, wall time, outcome). Usage in Settings.Usage; bench/abuse builds and calls this.
using Abuse;

if (Settings.Parse(args) is not { } settings)
{
    Console.Error.WriteLine(Settings.Usage);
    return 2;
}

// Whatever ends the harness (Ctrl-C, SIGTERM from bench/abuse, an exception), no Cairn it started outlives it.
AppDomain.CurrentDomain.ProcessExit += (_, _) => CairnServer.KillAll();
Console.CancelKeyPress += (_, _) => CairnServer.KillAll();

var started = DateTime.UtcNow;
var all = Cases.All(settings);
if (settings.Only?.Except(all.Select(c => c.Id)).ToList() is { Count: > 0 } unknown)
{
    Console.Error.WriteLine($"unknown case {string.Join(", ", unknown)}; the cases are {string.Join(", ", all.Select(c => c.Id))}");
    return 2;
}
var cases = Select(all, settings.Only);
await using var upstream = await FakeUpstream.StartAsync(settings.UpstreamMb * 1_000_000L);
var models = Path.Combine(Path.GetTempPath(), $"cairn-abuse-models-{Environment.ProcessId}.json");
await File.WriteAllTextAsync(models, upstream.ModelsJson());
using var client = new Client();
var loadBefore = Load();
Say($"{cases.Count} cases against {settings.CairnDll} (deadline {settings.DeadlineSeconds} s)");
var runner = new Runner(settings, client, models, row => Say(Report.Line(row)));
try
{
    var rows = await runner.RunAsync(cases);
    var machine = $"Machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB; load average {loadBefore} at the start, {Load()} at the end.";
    var report = Report.Markdown(settings, rows, started, runner.Elapsed, machine);
    await File.WriteAllTextAsync(settings.Out, report);
    Say($"wrote {settings.Out} after {runner.Elapsed:0} s");
    return 0;
}
finally
{
    CairnServer.KillAll();
    File.Delete(models);
}

// --only: the chosen cases, each with the cases it continues (c2 runs on c1's store, so c2 alone brings c1).
static List<Case> Select(IReadOnlyList<Case> all, IReadOnlySet<string>? only)
{
    if (only is null)
    {
        return [.. all];
    }
    var keep = new bool[all.Count];
    for (var i = 0; i < all.Count; i++)
    {
        if (only.Contains(all[i].Id))
        {
            for (var j = i; j >= 0 && !keep[j]; j--)
            {
                keep[j] = true;
                if (!all[j].SameServer)
                {
                    break;
                }
            }
        }
    }
    return [.. all.Where((_, i) => keep[i])];
}

static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

static void Say(string text) => Console.Error.WriteLine($"[abuse {DateTime.Now:HH:mm:ss}] {text}");
