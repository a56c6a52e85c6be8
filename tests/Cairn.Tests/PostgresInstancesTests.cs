using System.ClientModel;
using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Cairn.Storage.Postgres;
using Cairn.Tests.Infrastructure;
using Npgsql;
using OpenAI;
using OpenAI.Chat;

namespace Cairn.Tests;

/// <summary>
/// Several Cairn processes on one PostgreSQL database, as behind a load balancer: they start together, apply the
/// migrations once, see each other's writes at once, and serialize updates of one completion.
/// </summary>
public sealed class PostgresInstancesTests
{
    private static async Task<string> NewDatabaseAsync() => await (await PostgresServer.GetAsync()).CreateDatabaseAsync();

    private static ChatClient Chat(CairnProcess server) =>
        new("echo", new ApiKeyCredential("sk-test"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseUrl, "/v1") });

    private static string Metadata(ClientResult<ChatCompletion> result, string key)
    {
        using var json = JsonDocument.Parse(result.GetRawResponse().Content);
        return json.RootElement.GetProperty("metadata").GetProperty(key).GetString()!;
    }

    [Fact]
    public async Task TwoInstancesStartingAtOnce_MigrateOnce_AndEachSeesWhatTheOtherWrote()
    {
        var database = await NewDatabaseAsync();
        var started = await Task.WhenAll(CairnProcess.StartOnPostgresAsync(database), CairnProcess.StartOnPostgresAsync(database));
        using var a = started[0];
        using var b = started[1];
        var (onA, onB) = (Chat(a), Chat(b));
        var run = Guid.NewGuid().ToString();
        var options = new ChatCompletionOptions { StoredOutputEnabled = true, Metadata = { ["run"] = run } };

        var first = onA.CompleteChat([new UserChatMessage("made on A")], options).Value;
        var second = onB.CompleteChat([new UserChatMessage("made on B")], options).Value;
        var listedOnB = onB.GetChatCompletions(new ChatCompletionCollectionOptions { Metadata = { ["run"] = run } }).Select(c => c.Id).ToList();
        var gotOnB = onB.GetChatCompletion(first.Id).Value;
        onB.UpdateChatCompletion(first.Id, new Dictionary<string, string> { ["run"] = run, ["stage"] = "final" });
        var updatedOnA = onA.GetChatCompletion(first.Id);
        onA.DeleteChatCompletion(first.Id);
        var deletedOnB = Assert.Throws<ClientResultException>(() => onB.GetChatCompletion(first.Id));
        var afterDeletedOnB = onB.GetChatCompletions(new ChatCompletionCollectionOptions
        {
            Metadata = { ["run"] = run },
            AfterId = first.Id,
            Order = ChatCompletionCollectionOrder.Ascending,
        }).Select(c => c.Id).ToList();

        Assert.Equal([second.Id, first.Id], listedOnB);
        Assert.Equal("made on A", gotOnB.Content[0].Text);
        Assert.Equal("final", Metadata(updatedOnA, "stage"));
        Assert.Equal(404, deletedOnB.Status);
        Assert.Equal([second.Id], afterDeletedOnB);
        Assert.Equal((long)PostgresSchema.Version, await SchemaVersionsAsync(database));
        using var http = new HttpClient { BaseAddress = b.BaseUrl };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task ConcurrentUpdatesOfOneCompletion_FromTwoInstances_LeaveBodyAndFiltersAgreeing()
    {
        var database = await NewDatabaseAsync();
        using var a = await CairnProcess.StartOnPostgresAsync(database);
        using var b = await CairnProcess.StartOnPostgresAsync(database);
        var run = Guid.NewGuid().ToString();
        var created = Chat(a).CompleteChat([new UserChatMessage("contested")],
            new ChatCompletionOptions { StoredOutputEnabled = true, Metadata = { ["run"] = run } }).Value;

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            Chat(i % 2 == 0 ? a : b).UpdateChatCompletion(created.Id, new Dictionary<string, string> { ["run"] = run, ["v"] = $"v{i}" }))));

        var stored = Chat(b).GetChatCompletion(created.Id);
        var winner = Metadata(stored, "v");
        var listedBy = Enumerable.Range(0, 40)
            .Where(i => Chat(i % 2 == 0 ? b : a).GetChatCompletions(new ChatCompletionCollectionOptions { Metadata = { ["run"] = run, ["v"] = $"v{i}" } }).Any())
            .Select(i => $"v{i}")
            .ToList();
        Assert.Equal("contested", stored.Value.Content[0].Text);
        Assert.Equal([winner], listedBy);
    }

    [Fact]
    public async Task AClientFollowingTheNewest_WhileTwoInstancesWrite_NeverStepsPastACompletion()
    {
        var database = await NewDatabaseAsync();
        var started = await Task.WhenAll(CairnProcess.StartOnPostgresAsync(database), CairnProcess.StartOnPostgresAsync(database));
        using var a = started[0];
        using var b = started[1];
        var run = Guid.NewGuid().ToString();
        var first = await CreateAsync(a.BaseUrl, run);
        var created = new ConcurrentBag<string> { first };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var writers = Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                created.Add(await CreateAsync((i % 2 == 0 ? a : b).BaseUrl, run));
            }
        })).ToArray();

        // Pages ascending after the last id seen, as a client tailing new completions does, on the other instance.
        using var http = new HttpClient { BaseAddress = b.BaseUrl };
        var seen = new List<string> { first };
        var writing = Task.WhenAll(writers);
        while (true)
        {
            var done = writing.IsCompleted;
            using var page = JsonDocument.Parse(await http.GetStringAsync(
                $"/v1/chat/completions?metadata[run]={run}&order=asc&limit=100&after={seen[^1]}"));
            seen.AddRange(page.RootElement.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetString()!));
            if (done && !page.RootElement.GetProperty("has_more").GetBoolean())
            {
                break;
            }
        }
        await writing;

        Assert.True(created.Count > 50, $"only {created.Count} created");
        Assert.Equal(created.Order(), seen.Order());
    }

    private static async Task<string> CreateAsync(Uri baseUrl, string run)
    {
        using var http = new HttpClient { BaseAddress = baseUrl };
        var body = $$"""{"model":"echo","store":true,"metadata":{"run":"{{run}}"},"messages":[{"role":"user","content":"tail"}]}""";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task MigrationsRacingFromManyStarts_AreAppliedOnce()
    {
        var database = await NewDatabaseAsync();

        var sources = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => PostgresConnect.Open(database, "test"))));

        foreach (var source in sources)
        {
            await source.DisposeAsync();
        }
        Assert.Equal((long)PostgresSchema.Version, await SchemaVersionsAsync(database));
    }

    private static async Task<long> SchemaVersionsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM cairn_schema", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
