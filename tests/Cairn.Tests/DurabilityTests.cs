using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Cairn.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Cairn.Tests;

/// <summary>
/// Nothing acknowledged is lost: Cairn runs as its own process and is killed (SIGKILL) or stopped (SIGTERM)
/// in the middle of a burst of stored creates; after a restart every answered completion is there.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private readonly TempFolder folder = new();

    private string Database => folder.File("cairn.db");

    [Fact]
    public async Task SigkillDuringABurst_LosesNoAcknowledgedCompletion_AndLeavesTheDatabaseIntact()
    {
        var acknowledged = new ConcurrentBag<string>();
        using (var server = await CairnProcess.StartAsync(Database))
        {
            using var burst = new CancellationTokenSource();
            var senders = Enumerable.Range(0, 16).Select(_ => SendUntilFailureAsync(server.BaseUrl, acknowledged, burst.Token)).ToArray();
            await WaitUntilAsync(() => acknowledged.Count >= 300, TimeSpan.FromSeconds(60));

            server.Kill();
            await Task.WhenAll(senders);
        }

        using var restarted = await CairnProcess.StartAsync(Database);
        using var http = new HttpClient { BaseAddress = restarted.BaseUrl };
        Assert.True(acknowledged.Count >= 300);
        foreach (var id in acknowledged)
        {
            using var response = await http.GetAsync($"/v1/chat/completions/{id}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{id} was acknowledged but is gone after SIGKILL");
        }
        Assert.Equal("ok", IntegrityCheck());
    }

    [Fact]
    public async Task Sigterm_DrainsInFlightRequests_AndExitsCleanly()
    {
        var acknowledged = new ConcurrentBag<string>();
        var serverErrors = 0;
        int exitCode;
        using (var server = await CairnProcess.StartAsync(Database))
        {
            using var burst = new CancellationTokenSource();
            var senders = Enumerable.Range(0, 8)
                .Select(_ => SendUntilFailureAsync(server.BaseUrl, acknowledged, burst.Token, () => Interlocked.Increment(ref serverErrors)))
                .ToArray();
            await WaitUntilAsync(() => acknowledged.Count >= 100, TimeSpan.FromSeconds(60));

            exitCode = await server.TerminateAsync(TimeSpan.FromSeconds(30));
            await Task.WhenAll(senders);
        }

        using var restarted = await CairnProcess.StartAsync(Database);
        using var http = new HttpClient { BaseAddress = restarted.BaseUrl };
        Assert.Equal(0, exitCode);
        Assert.Equal(0, serverErrors);
        foreach (var id in acknowledged)
        {
            using var response = await http.GetAsync($"/v1/chat/completions/{id}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal("ok", IntegrityCheck());
    }

    /// <summary>Sends stored creates one after another until the server stops answering; records each 200's id.</summary>
    private static async Task SendUntilFailureAsync(Uri baseUrl, ConcurrentBag<string> acknowledged, CancellationToken cancellationToken, Action? onServerError = null)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        for (var i = 0; i < 100_000 && !cancellationToken.IsCancellationRequested; i++)
        {
            var body = $$"""{"model":"echo","store":true,"metadata":{"n":"{{i}}"},"messages":[{"role":"user","content":"durable {{i}}"}]}""";
            try
            {
                using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);
                if ((int)response.StatusCode >= 500)
                {
                    onServerError?.Invoke();
                }
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return;
                }
                // Only a whole response counts as acknowledged.
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                acknowledged.Add(json.RootElement.GetProperty("id").GetString()!);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or JsonException)
            {
                return;
            }
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the burst did not get going in time");
            await Task.Delay(10);
        }
    }

    private string IntegrityCheck()
    {
        using var connection = new SqliteConnection($"Data Source={Database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        return (string)command.ExecuteScalar()!;
    }

    public void Dispose() => folder.Dispose();
}
