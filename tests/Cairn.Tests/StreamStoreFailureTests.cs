using System.Net;
using Cairn.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Cairn.Tests;

/// <summary>
/// A stream whose completion cannot be stored, once its events are sent, still ends as every stream ends: an error
/// event in OpenAI's envelope, then <c>data: [DONE]</c> (a response: <c>response.failed</c>); never a connection that
/// just stops, and never a <c>response.completed</c> for what was not stored.
/// </summary>
public sealed class StreamStoreFailureTests : IAsyncLifetime
{
    private CairnServer cairn = null!;

    public async Task InitializeAsync()
    {
        cairn = await CairnServer.StartAsync();
        // A real fault in the real store: the file refuses completions tagged with this metadata.
        using var connection = new SqliteConnection($"Data Source={cairn.DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TRIGGER refuse_tagged BEFORE INSERT ON completions WHEN NEW.metadata LIKE '%refuse-me%'
            BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;
            CREATE TRIGGER refuse_tagged_responses BEFORE INSERT ON responses WHEN NEW.metadata LIKE '%refuse-me%'
            BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;
            """;
        command.ExecuteNonQuery();
    }

    public Task DisposeAsync() => cairn.DisposeAsync();

    [Fact]
    public async Task AStreamThatCannotBeStored_EndsWithAnErrorEventAndDone()
    {
        using var response = await cairn.PostJsonAsync("/v1/chat/completions",
            """{"model":"echo","stream":true,"store":true,"metadata":{"case":"refuse-me"},"messages":[{"role":"user","content":"hello there"}]}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("data: {\"error\":{", body, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"server_error\"", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        Assert.Equal(1, body.Split("data: [DONE]").Length - 1);
    }

    [Fact]
    public async Task AStreamThatIsStored_IsUntouchedByTheFault()
    {
        using var response = await cairn.PostJsonAsync("/v1/chat/completions",
            """{"model":"echo","stream":true,"store":true,"metadata":{"case":"keep"},"messages":[{"role":"user","content":"hello there"}]}""");
        var body = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("\"error\"", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResponseStreamThatCannotBeStored_EndsWithResponseFailed_NotCompleted()
    {
        using var response = await cairn.PostJsonAsync("/v1/responses",
            """{"model":"echo","stream":true,"metadata":{"case":"refuse-me"},"input":"hello there"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var last = body.TrimEnd('\n').Split("\n\n")[^1];

        Assert.StartsWith("event: response.failed\n", last, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"failed\"", last, StringComparison.Ordinal);
        Assert.DoesNotContain("response.completed", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
    }
}
