using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using static Abuse.Bodies;

namespace Abuse;

/// <summary>
/// The worst cases of issue 13's section 2, sized to show each problem yet finish in bounded time on 2 cores. Each
/// is robust to the fixed behaviour: a refusal (400, 413, 429, 502), a truncated answer or a server that closes a
/// client is recorded as what it is, never as a harness failure.
/// </summary>
internal static partial class Cases
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static IReadOnlyList<Case> All(Settings settings)
    {
        var echoBytes = (int)(settings.EchoMib * MiB);
        return
        [
            new("a1", "token counting: a run without spaces", "echo, one user message of 64 KiB of `a`", 60,
                (c, ct) => OnceAsync(c, Create("echo", Run(64 * KiB)), 55, ct)),
            new("a2", "token counting: a longer run", "echo, one user message of 256 KiB of `a` (client waits 60 s)", 70,
                (c, ct) => OnceAsync(c, Create("echo", Run(256 * KiB)), 60, ct)),
            new("a3", "token counting before a rate-limit refusal", "3 × the 64 KiB `a` echo with a key of a project limited to 1,000 tokens/min", 60,
                RefusedAsync) { Prepare = LimitedProjectAsync },
            new("a4", "token counting of an upstream answer without usage", "`store: true` to a fake upstream answering 64 KiB of `a` without `usage`", 60,
                (c, ct) => StoredAsync(c, Create("up-nousage", "hi", store: true), 55, ct)),
            new("b", "work after the client left", "echo of 1 MiB of `a`; the client closes its connection after 1 s; CPU watched 20 s more", 30,
                LeavesAsync),
            new("c1", "memory amplification: a stored echo with n", $"echo of {settings.EchoMib.ToString("0.#", Invariant)} MiB of words, `n: 128`, `store: true`", 90,
                (c, ct) => StoredAsync(c, Create("echo", Words(echoBytes), n: 128, store: true), 80, ct)),
            new("c2", "memory amplification: the default list after c1", "`GET /v1/chat/completions` (limit 20) on c1's store", 70,
                (c, ct) => GetAsync(c, "/v1/chat/completions", 60, ct)) { SameServer = true },
            new("c3", "memory amplification: the dashboard's list after c1", "`GET /dashboard` (authentication off: the default project) on c1's store", 70,
                (c, ct) => GetAsync(c, "/dashboard", 60, ct)) { SameServer = true },
            new("c4", "memory amplification: the dashboard's page of c1's completion", "`GET /dashboard/completions/{id}` of c1's completion", 70,
                DashboardPageAsync) { SameServer = true },
            new("c5", "memory amplification: an echo stream with n", "echo of 1 MiB of words, `n: 16`, `stream: true`", 90,
                (c, ct) => OnceAsync(c, Create("echo", Words(MiB), n: 16, stream: true), 80, ct)),
            new("d1", "clients that stop reading", "20 raw connections (4 KiB receive buffer) each POST a 500 KB echo stream and never read; watched 40 s", 50,
                NonReadersAsync),
            new("d2", "the same streams, read", "20 clients read the same 500 KB echo streams to the end", 70,
                ReadersAsync),
            new("d3", "non-readers holding upstream connections", "2 non-reading streams from an upstream with `MaxConnections: 2` (attempt timeout 5 s), then a third client's request every second for 30 s", 45,
                HeldUpstreamAsync),
            new("e1", "upstream: a huge answer", $"`store: true` to a fake upstream answering {settings.UpstreamMb} MB non-streaming", 60,
                (c, ct) => StoredAsync(c, Create("up-big", "hi", store: true), 50, ct)),
            new("e2", "upstream: a stream that never ends", "`stream, store: true` to an upstream that streams chunks forever; the client reads 20 s", 30,
                (c, ct) => StreamForAsync(c, "up-endless", 20, ct)),
            new("e3", "upstream: an event without its blank line", "`stream, store: true`; the upstream sends `data:` lines and never the blank line; the client reads 20 s", 30,
                (c, ct) => StreamForAsync(c, "up-noblank", 20, ct)),
            new("e4", "upstream: a line without its end", "`stream, store: true`; the upstream sends one `data:` line that never ends; the client reads 10 s", 20,
                (c, ct) => StreamForAsync(c, "up-noline", 10, ct)),
            new("f1", "bad bytes: deep nesting", "a body of arrays nested 10,000 levels", 15,
                (c, ct) => OnceAsync(c, DeepArrays(10_000), 10, ct)),
            new("f2", "bad bytes: deep nesting in a field", "echo with a tool whose `parameters` nest objects 10,000 levels", 15,
                (c, ct) => OnceAsync(c, DeepTool(10_000, store: false), 10, ct)) { SameServer = true },
            new("f3", "bad bytes: nesting the store refuses", "echo, `store: true`, a tool whose `parameters` nest objects 100 levels", 15,
                (c, ct) => OnceAsync(c, DeepTool(100, store: true), 10, ct)) { SameServer = true },
            new("f4", "bad bytes: invalid UTF-8", "echo whose message content holds the byte 0xFF", 15,
                (c, ct) => OnceAsync(c, InvalidUtf8(), 10, ct)) { SameServer = true },
            new("f5", "bad bytes: a lone surrogate", "echo whose message content is `\"\\ud800\"`", 15,
                (c, ct) => OnceAsync(c, LoneSurrogate(), 10, ct)) { SameServer = true },
        ];
    }

    /// <summary>One request, read to its end (or until the client's limit, after which the server is restarted).</summary>
    private static async Task<Result> OnceAsync(CaseContext c, byte[] body, int limitSeconds, CancellationToken ct)
    {
        var reply = await c.PostAsync(body, TimeSpan.FromSeconds(limitSeconds), ct);
        return new Result(Stream(reply)) { ResponseBytes = reply.Bytes, LeavesServerBusy = !reply.Complete };
    }

    private static async Task<Result> GetAsync(CaseContext c, string path, int limitSeconds, CancellationToken ct)
    {
        var reply = await c.GetAsync(path, TimeSpan.FromSeconds(limitSeconds), ct);
        return new Result(reply.Describe()) { ResponseBytes = reply.Bytes, LeavesServerBusy = !reply.Complete };
    }

    private static Task<Result> DashboardPageAsync(CaseContext c, CancellationToken ct) =>
        c.Server.StoredId is { } id
            ? GetAsync(c, "/dashboard/completions/" + id, 60, ct)
            : Task.FromResult(new Result("skipped: c1 stored no completion"));

    /// <summary>One request whose growth of the store (file and WAL) is recorded.</summary>
    private static async Task<Result> StoredAsync(CaseContext c, byte[] body, int limitSeconds, CancellationToken ct)
    {
        var before = c.StoreBytes();
        var reply = await c.PostAsync(body, TimeSpan.FromSeconds(limitSeconds), ct);
        await Task.Delay(1000, ct); // a write acknowledged as queued lands within the writer's next batch
        if (reply.Status == 200 && CompletionId().Match(reply.Head) is { Success: true } id)
        {
            c.Server.StoredId = id.Groups[1].Value;
        }
        return new Result(Stream(reply)) { ResponseBytes = reply.Bytes, StoredBytes = c.StoreBytes() - before, LeavesServerBusy = !reply.Complete };
    }

    /// <summary>An answer's outcome: its status; for a stream whether it ended with an error event and [DONE]; whether a
    /// choice was cut short (<c>finish_reason: length</c> near its end).</summary>
    private static string Stream(Reply reply)
    {
        var text = reply.Describe();
        if (reply.Status == 200 && reply.Head.StartsWith("data:", StringComparison.Ordinal))
        {
            text += (reply.HasError ? "; ends with an error event" : "") + (reply.Done ? "; ends with [DONE]" : reply.Complete ? "; ends without [DONE]" : "");
        }
        if (reply.Status == 200 && reply.Tail.Contains("\"finish_reason\":\"length\"", StringComparison.Ordinal))
        {
            text += "; finish_reason length";
        }
        return text;
    }

    private static async Task<string?> LimitedProjectAsync(Settings settings, string folder)
    {
        var db = Path.Combine(folder, "cairn.db");
        await CairnServer.RunCommandAsync(settings, folder, "projects", "set", "limited", "--tpm", "1000", "--db", db);
        return await CairnServer.RunCommandAsync(settings, folder, "keys", "create", "--project", "limited", "--db", db);
    }

    private static async Task<Result> RefusedAsync(CaseContext c, CancellationToken ct)
    {
        var body = Create("echo", Run(64 * KiB));
        var statuses = new List<string>();
        long bytes = 0;
        var cpu = c.Cpu();
        for (var i = 0; i < 3; i++)
        {
            var reply = await c.PostAsync(body, TimeSpan.FromSeconds(18), ct);
            statuses.Add(reply.Describe());
            bytes += reply.Bytes;
            if (!reply.Complete)
            {
                return new Result(string.Join("; ", statuses)) { ResponseBytes = bytes, LeavesServerBusy = true };
            }
        }
        var each = (c.Cpu() - cpu) / 3;
        return new Result($"{Grouped(statuses)}; CPU per request {each:0.00} s") { ResponseBytes = bytes };
    }

    private static async Task<Result> LeavesAsync(CaseContext c, CancellationToken ct)
    {
        var reply = await c.PostAsync(Create("echo", Run(MiB)), TimeSpan.FromSeconds(1), ct);
        var left = c.Cpu();
        var clock = Stopwatch.StartNew();
        var samples = new List<double> { left };
        string ending = "still busy at the 20 s cap";
        while (clock.Elapsed.TotalSeconds < 20)
        {
            await Task.Delay(1000, ct);
            var now = c.Cpu();
            if (double.IsNaN(now))
            {
                ending = "the server exited";
                break;
            }
            samples.Add(now);
            // Idle: under 0.05 CPU s over the last 3 s.
            if (samples.Count >= 4 && now - samples[^4] < 0.05)
            {
                ending = $"idle within {clock.Elapsed.TotalSeconds:0} s";
                break;
            }
        }
        var after = samples[^1] - left;
        var first = reply.Complete ? $"answered before the client left: {reply.Describe()}" : "client left after 1 s";
        return new Result($"{first}; server CPU after that: {after:0.0} s in {clock.Elapsed.TotalSeconds:0} s, {ending}")
        {
            ResponseBytes = reply.Bytes,
            LeavesServerBusy = true,
        };
    }

    private static async Task<Result> NonReadersAsync(CaseContext c, CancellationToken ct)
    {
        var body = Create("echo", Words(500_000), stream: true);
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                sockets.Add(await Client.SendAndNeverReadAsync(c.Server.Url, body, ct));
            }
            var ports = sockets.Select(s => ((System.Net.IPEndPoint)s.LocalEndPoint!).Port).ToHashSet();
            var clock = Stopwatch.StartNew();
            double? firstLetGo = null;
            var held = 20;
            while (clock.Elapsed.TotalSeconds < 40)
            {
                await Task.Delay(250, ct);
                held = Proc.EstablishedTo(c.Server.Port, ports);
                if (held < 20)
                {
                    firstLetGo ??= clock.Elapsed.TotalSeconds;
                }
                if (held == 0)
                {
                    break;
                }
            }
            var outcome = held == 0
                ? $"the server closed all 20 connections, the first after {firstLetGo:0.0} s, the last after {clock.Elapsed.TotalSeconds:0.0} s"
                : $"the server still held {held} of 20 connections at the 40 s cap" + (firstLetGo is { } f ? $" (it closed the first after {f:0.0} s)" : "");
            return new Result($"{outcome}; answers begun: {Grouped(sockets.Select(Client.StatusSoFar))}") { LeavesServerBusy = true };
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static async Task<Result> ReadersAsync(CaseContext c, CancellationToken ct)
    {
        var body = Create("echo", Words(500_000), stream: true);
        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => c.PostAsync(body, TimeSpan.FromSeconds(60), ct)));
        var done = replies.Count(r => r.Complete && r.Status == 200);
        var outcome = $"{done} of 20 read to the end; slowest {replies.Max(r => r.Seconds):0.0} s; {Grouped(replies.Select(Stream))}";
        return new Result(outcome) { ResponseBytes = replies.Sum(r => r.Bytes), LeavesServerBusy = done < 20 };
    }

    private static async Task<Result> HeldUpstreamAsync(CaseContext c, CancellationToken ct)
    {
        var hold = Create("up-held", "hi", stream: true);
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                sockets.Add(await Client.SendAndNeverReadAsync(c.Server.Url, hold, ct));
            }
            await Task.Delay(2000, ct);
            var clock = Stopwatch.StartNew();
            var statuses = new List<string>();
            while (clock.Elapsed.TotalSeconds < 30)
            {
                var reply = await c.PostAsync(Create("up-held", "hi"), TimeSpan.FromSeconds(15), ct);
                statuses.Add(reply.Describe());
                if (reply.Status == 200)
                {
                    return new Result($"the third client got 200 after {clock.Elapsed.TotalSeconds:0.0} s ({Grouped(statuses)})") { LeavesServerBusy = true };
                }
                await Task.Delay(1000, ct);
            }
            return new Result($"every request of the third client failed for 30 s: {Grouped(statuses)}") { LeavesServerBusy = true };
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>A stored stream read for at most <paramref name="seconds"/>; the server may end it first (an error event, [DONE]).</summary>
    private static async Task<Result> StreamForAsync(CaseContext c, string model, int seconds, CancellationToken ct)
    {
        var before = c.StoreBytes();
        var reply = await c.PostAsync(Create(model, "hi", stream: true, store: true), TimeSpan.FromSeconds(seconds), ct);
        await Task.Delay(500, ct);
        var outcome = reply.Complete ? $"the server ended it after {reply.Seconds:0.0} s: {Stream(reply)}" : Stream(reply);
        return new Result(outcome) { ResponseBytes = reply.Bytes, StoredBytes = c.StoreBytes() - before, LeavesServerBusy = true };
    }

    /// <summary>"429 rate_limit_exceeded (tokens) × 3".</summary>
    private static string Grouped(IEnumerable<string> outcomes) =>
        string.Join(", ", outcomes.GroupBy(o => o, StringComparer.Ordinal).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} × {g.Count()}"));

    [GeneratedRegex("\"id\":\"(chatcmpl-[^\"]+)\"")]
    private static partial Regex CompletionId();
}
