using System.Diagnostics;
using System.Net;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>Start-up contract: the two command-line flags, settings from the environment, and bad settings refused.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task DbFlag_CreatesTheDatabaseThere_AndHealthIsOk()
    {
        var database = Path.Combine(folder.Path, "nested", "store.db");
        using var server = await CairnProcess.StartAsync(database);
        using var http = new HttpClient { BaseAddress = server.BaseUrl };

        using var health = await http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(File.Exists(database));
    }

    [Fact]
    public async Task ABadSetting_StopsTheServer_WithOneLineNamingTheKey()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Cairn.dll"), "--urls", "http://127.0.0.1:0", "--db", folder.File("x.db") },
        };
        start.Environment["Storage__Synchronous"] = "SOMETIMES";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("Storage:Synchronous", (await stderr).Trim(), StringComparison.Ordinal);
        Assert.Single((await stderr).Trim().Split('\n'));
    }

    public void Dispose() => folder.Dispose();
}
