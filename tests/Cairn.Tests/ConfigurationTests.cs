using System.Diagnostics;
using System.Net;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>Start-up contract: the command-line flags, settings from the environment, and bad settings refused.</summary>
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

    [Theory]
    [InlineData("Host=127.0.0.1;Port=1;Database=cairn;Username=cairn;Password=hunter2-secret;Timeout=3", "cannot use the PostgreSQL database")]
    [InlineData("Hots=127.0.0.1;Password=hunter2-secret", "not a valid PostgreSQL connection string")]
    public async Task AnUnusablePostgresConnectionString_StopsTheServer_WithOneLine_AndNoPassword(string connectionString, string expected)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Cairn.dll"), "--urls", "http://127.0.0.1:0", "--postgres", connectionString },
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var line = (await stderr).Trim();

        Assert.Equal(2, process.ExitCode);
        Assert.Single(line.Split('\n'));
        Assert.Contains("Storage:Postgres", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", line + await stdout, StringComparison.Ordinal);
    }

    public void Dispose() => folder.Dispose();
}
