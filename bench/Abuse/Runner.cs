using System.Diagnostics;

namespace Abuse;

/// <summary>
/// Runs the cases in order, each on a fresh server unless it continues the previous one, and measures the server
/// around each: CPU from /proc/PID/stat, peak RSS from VmHWM (reset through clear_refs before the case), wall time.
/// A sampler watches resident memory every 100 ms and kills a server that passes the RSS cap.
/// </summary>
internal sealed class Runner(Settings settings, Client client, string modelsFile, Action<Row> report)
{
    private readonly Stopwatch run = Stopwatch.StartNew();

    public async Task<List<Row>> RunAsync(IReadOnlyList<Case> cases)
    {
        var rows = new List<Row>();
        CairnServer? server = null;
        try
        {
            foreach (var @case in cases)
            {
                var row = await RunOneAsync(@case, server, s => server = s);
                rows.Add(row);
                report(row);
            }
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
        return rows;
    }

    public double Elapsed => run.Elapsed.TotalSeconds;

    private async Task<Row> RunOneAsync(Case @case, CairnServer? server, Action<CairnServer?> setServer)
    {
        var remaining = settings.DeadlineSeconds - run.Elapsed.TotalSeconds;
        if (remaining < Math.Min(@case.CapSeconds, 20))
        {
            return new Row(@case, $"skipped: the run's {settings.DeadlineSeconds} s deadline");
        }
        if (@case.SameServer)
        {
            if (server is null || server.Dirty || server.Exited)
            {
                return new Row(@case, "skipped: it needs the previous case's server, which did not stay up and clean");
            }
        }
        else
        {
            if (server is not null)
            {
                setServer(null);
                await server.DisposeAsync();
            }
            try
            {
                server = await CairnServer.StartAsync(settings, modelsFile, @case.Prepare is { } prepare ? folder => prepare(settings, folder) : null);
                setServer(server);
            }
            catch (Exception e)
            {
                return new Row(@case, "not run: " + e.Message.ReplaceLineEndings(" "));
            }
        }
        var cap = (int)Math.Min(@case.CapSeconds, remaining);
        return await MeasureAsync(@case, server, cap);
    }

    private async Task<Row> MeasureAsync(Case @case, CairnServer server, int cap)
    {
        var pid = server.Pid;
        var cpuBefore = Proc.CpuSeconds(pid) ?? 0;
        var reset = Proc.ResetPeak(pid);
        var rssBefore = Proc.Mib(pid, "VmRSS");
        using var sampler = new Sampler(server, settings.RssCapMib);
        using var capped = new CancellationTokenSource(TimeSpan.FromSeconds(cap));
        var clock = Stopwatch.StartNew();
        Result result;
        try
        {
            result = await @case.Run(new CaseContext(server, client, settings), capped.Token);
        }
        catch (OperationCanceledException) when (capped.IsCancellationRequested)
        {
            result = new Result($"> {cap} s: hit the case's cap") { LeavesServerBusy = true };
        }
        catch (Exception e)
        {
            result = new Result($"harness error: {e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ")) { LeavesServerBusy = true };
        }
        var wall = clock.Elapsed.TotalSeconds;
        await sampler.StopAsync();
        var cpu = (Proc.CpuSeconds(pid) ?? sampler.LastCpu) - cpuBefore;
        var peak = Proc.Mib(pid, "VmHWM") ?? sampler.MaxHwm;
        var outcome = result.Outcome;
        if (sampler.Killed)
        {
            outcome = $"> RSS cap: the server passed {settings.RssCapMib} MiB and was killed ({outcome})";
        }
        else if (server.Exited)
        {
            outcome += " (the server exited)";
        }
        if (!reset)
        {
            outcome += " (peak RSS since the server started: clear_refs not writable)";
        }
        if (result.LeavesServerBusy || sampler.Killed || server.Exited)
        {
            server.Dirty = true;
        }
        return new Row(@case, outcome, wall, cpu, peak, rssBefore, result.ResponseBytes, result.StoredBytes);
    }

    /// <summary>Samples the server every 100 ms: its CPU and peak RSS (kept for when it is gone), and the RSS cap.</summary>
    private sealed class Sampler : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Task loop;

        public Sampler(CairnServer server, int capMib) => loop = Task.Run(() => LoopAsync(server, capMib));

        public double LastCpu { get; private set; } = double.NaN;
        public double? MaxHwm { get; private set; }
        public bool Killed { get; private set; }

        private async Task LoopAsync(CairnServer server, int capMib)
        {
            while (!stop.IsCancellationRequested && !server.Exited)
            {
                if (Proc.CpuSeconds(server.Pid) is { } cpu)
                {
                    LastCpu = cpu;
                }
                if (Proc.Mib(server.Pid, "VmHWM") is { } hwm)
                {
                    MaxHwm = Math.Max(MaxHwm ?? 0, hwm);
                }
                if (Proc.Mib(server.Pid, "VmRSS") > capMib)
                {
                    Killed = true;
                    server.Kill();
                    return;
                }
                try
                {
                    await Task.Delay(100, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public async Task StopAsync()
        {
            await stop.CancelAsync();
            await loop;
        }

        public void Dispose() => stop.Dispose();
    }
}
