using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>Nothing acknowledged is lost on PostgreSQL: an instance killed (SIGKILL) or stopped (SIGTERM) mid-burst.</summary>
public sealed class PostgresDurabilityTests
{
    [Fact]
    public async Task SigkillOfOneInstance_LosesNothingItAcknowledged_AndTheOtherServesIt()
    {
        var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        using var survivor = await CairnProcess.StartOnPostgresAsync(database);
        var acknowledged = new ConcurrentBag<string>();
        using (var victim = await CairnProcess.StartOnPostgresAsync(database))
        {
            var senders = Enumerable.Range(0, 8).Select(_ => SendUntilFailureAsync(victim.BaseUrl, acknowledged)).ToArray();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (acknowledged.Count < 200)
            {
                Assert.True(DateTime.UtcNow < deadline, "the burst did not get going in time");
                await Task.Delay(10);
            }
            victim.Kill();
            await Task.WhenAll(senders);
        }

        using var http = new HttpClient { BaseAddress = survivor.BaseUrl };
        foreach (var id in acknowledged)
        {
            using var response = await http.GetAsync($"/v1/chat/completions/{id}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{id} was acknowledged but is gone after SIGKILL");
        }
    }

    [Fact]
    public async Task Sigterm_DrainsInFlightRequests_ExitsCleanly_AndKeepsEverythingAcknowledged()
    {
        var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        var acknowledged = new ConcurrentBag<string>();
        var serverErrors = 0;
        int exitCode;
        using (var server = await CairnProcess.StartOnPostgresAsync(database))
        {
            var senders = Enumerable.Range(0, 8)
                .Select(_ => SendUntilFailureAsync(server.BaseUrl, acknowledged, () => Interlocked.Increment(ref serverErrors)))
                .ToArray();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (acknowledged.Count < 100)
            {
                Assert.True(DateTime.UtcNow < deadline, "the burst did not get going in time");
                await Task.Delay(10);
            }
            exitCode = await server.TerminateAsync(TimeSpan.FromSeconds(30));
            await Task.WhenAll(senders);
        }

        using var restarted = await CairnProcess.StartOnPostgresAsync(database);
        using var http = new HttpClient { BaseAddress = restarted.BaseUrl };
        Assert.Equal(0, exitCode);
        Assert.Equal(0, serverErrors);
        foreach (var id in acknowledged)
        {
            using var response = await http.GetAsync($"/v1/chat/completions/{id}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static async Task SendUntilFailureAsync(Uri baseUrl, ConcurrentBag<string> acknowledged, Action? onServerError = null)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        for (var i = 0; i < 100_000; i++)
        {
            var body = $$"""{"model":"echo","store":true,"metadata":{"n":"{{i}}"},"messages":[{"role":"user","content":"durable {{i}}"}]}""";
            try
            {
                using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
                if ((int)response.StatusCode >= 500)
                {
                    onServerError?.Invoke();
                }
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return;
                }
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                acknowledged.Add(json.RootElement.GetProperty("id").GetString()!);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or JsonException)
            {
                return;
            }
        }
    }
}
