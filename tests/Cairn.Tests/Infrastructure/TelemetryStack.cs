namespace Cairn.Tests.Infrastructure;

/// <summary>
/// One test's Cairn exporting traces, metrics and logs to its own <see cref="OtlpReceiver"/>: echo answers every
/// model named <c>tele-…</c>; <c>native/…</c> goes to a <see cref="FakeUpstream"/>'s Responses API for a response
/// (<c>ResponsesApi: native</c>) and every other name to its chat completions, the name picking its behaviour.
/// </summary>
public sealed class TelemetryStack : IAsyncDisposable
{
    private TelemetryStack(OtlpReceiver receiver, FakeUpstream upstream)
    {
        Receiver = receiver;
        Upstream = upstream;
    }

    public OtlpReceiver Receiver { get; }

    public FakeUpstream Upstream { get; }

    public CairnServer Cairn { get; private set; } = null!;

    private bool stopped;

    /// <summary>A model name echo answers, unique to the caller.</summary>
    public static string LocalModel() => $"tele-{Guid.NewGuid():N}";

    /// <summary>A model name the fake upstream answers with <paramref name="behaviour"/> (see <see cref="FakeUpstream"/>), unique to the caller.</summary>
    public static string UpstreamModel(string behaviour) => $"{behaviour}-{Guid.NewGuid():N}";

    public static async Task<TelemetryStack> StartAsync(params string[] moreArgs)
    {
        var stack = new TelemetryStack(new OtlpReceiver(), new FakeUpstream());
        await stack.Receiver.InitializeAsync();
        await stack.Upstream.InitializeAsync();
        var upstream = $"{stack.Upstream.BaseUrl.ToString().TrimEnd('/')}/v1";
        try
        {
            stack.Cairn = await CairnServer.StartAsync(
            [
                .. stack.Receiver.CairnArgs,
                "--Models:0:Id=tele-*", "--Models:0:Provider=echo",
                "--Models:1:Id=native/*", "--Models:1:Provider=openai", $"--Models:1:BaseUrl={upstream}", "--Models:1:ResponsesApi=native",
                "--Models:2:Id=*", "--Models:2:Provider=openai", $"--Models:2:BaseUrl={upstream}", "--Models:2:MaxRetries=2", "--Models:2:MaxRetryDelaySeconds=1",
                .. moreArgs,
            ]);
        }
        catch
        {
            stack.stopped = true;
            await stack.DisposeAsync();
            throw;
        }
        return stack;
    }

    /// <summary>Stops Cairn: its telemetry providers export everything they still hold before it is gone.</summary>
    public async Task StopCairnAsync()
    {
        if (!stopped)
        {
            stopped = true;
            await Cairn.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopCairnAsync();
        await Upstream.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}
