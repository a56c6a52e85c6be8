using System.Net;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// With no keys, Cairn serves loopback only, whatever chose the addresses it listens on: the addresses Kestrel really
/// bound are checked after start, so an endpoint from Kestrel's own settings cannot open it to the network.
/// </summary>
public sealed class ListenGuardTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task AKestrelEndpointBeyondLoopback_OnTheCommandLine_StopsCairnWithOneLine()
    {
        var outcome = await CairnCommand.RunWithAsync(null, new Dictionary<string, string>(),
            ["--db", folder.File("cli.db"), "--Kestrel:Endpoints:Http:Url=http://0.0.0.0:0"], TimeSpan.FromSeconds(60));

        AssertRefused(outcome);
    }

    [Fact]
    public async Task AKestrelEndpointBeyondLoopback_FromTheEnvironment_StopsCairnWithOneLine()
    {
        var outcome = await CairnCommand.RunWithAsync(null, new Dictionary<string, string> { ["Kestrel__Endpoints__Http__Url"] = "http://0.0.0.0:0" },
            ["--db", folder.File("env.db")], TimeSpan.FromSeconds(60));

        AssertRefused(outcome);
    }

    [Fact]
    public async Task AKestrelEndpointOnLoopback_IsServed()
    {
        using var server = await CairnProcess.StartAsync(folder.File("loop.db"), "--Kestrel:Endpoints:Http:Url=http://127.0.0.1:0");
        using var http = new HttpClient { BaseAddress = server.BaseUrl };

        using var models = await http.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Contains("Authentication is off", server.Output, StringComparison.Ordinal);
    }

    private static void AssertRefused(CairnCommand.Outcome outcome)
    {
        Assert.Equal(2, outcome.Exit);
        var line = Assert.Single(outcome.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("cairn:", StringComparison.Ordinal));
        Assert.Contains("authentication is off", line, StringComparison.Ordinal);
        Assert.Contains("0.0.0.0", line, StringComparison.Ordinal);
        Assert.Contains("cairn keys create --project NAME", line, StringComparison.Ordinal);
        Assert.DoesNotContain("serves this machine only", outcome.Stdout, StringComparison.Ordinal);
    }

    public void Dispose() => folder.Dispose();
}
