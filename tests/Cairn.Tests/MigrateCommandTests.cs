using System.ClientModel;
using System.Diagnostics;
using Cairn.Tests.Infrastructure;
using Npgsql;
using OpenAI;
using OpenAI.Chat;

namespace Cairn.Tests;

/// <summary><c>cairn migrate</c> end to end: a SQLite store made by Cairn, copied into PostgreSQL, served from there.</summary>
public sealed class MigrateCommandTests : IDisposable
{
    private readonly TempFolder folder = new();

    private static ChatClient Chat(CairnProcess server) =>
        new("echo", new ApiKeyCredential("sk-test"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseUrl, "/v1") });

    [Fact]
    public async Task Migrate_CopiesEverything_ResumesAfterAnInterruption_AndPostgresServesItInTheSameOrder()
    {
        var file = folder.File("old.db");
        var run = Guid.NewGuid().ToString();
        var options = new ChatCompletionOptions { StoredOutputEnabled = true, Metadata = { ["run"] = run } };
        List<string> ids;
        using (var sqlite = await CairnProcess.StartAsync(file))
        {
            ids = [.. Enumerable.Range(0, 6).Select(i => Chat(sqlite).CompleteChat([new SystemChatMessage("sys"), new UserChatMessage($"old {i}")], options).Value.Id)];
            Chat(sqlite).DeleteChatCompletion(ids[2]);
            Assert.Equal(0, await sqlite.TerminateAsync(TimeSpan.FromSeconds(30)));
        }
        var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();

        var (firstExit, firstErr) = await MigrateAsync(file, database);
        await ExecuteAsync(database, """
            DELETE FROM completion_metadata WHERE seq > 4; DELETE FROM completion_messages WHERE seq > 4; DELETE FROM completions WHERE seq > 4;
            """);
        var (resumedExit, resumedErr) = await MigrateAsync(file, database);

        Assert.True(firstExit == 0, firstErr);
        Assert.Contains("cairn migrate [", firstErr, StringComparison.Ordinal);
        Assert.Contains("every count matches", firstErr, StringComparison.Ordinal);
        Assert.True(resumedExit == 0, resumedErr);
        Assert.Contains("resuming after seq 4", resumedErr, StringComparison.Ordinal);
        Assert.Contains("every count matches", resumedErr, StringComparison.Ordinal);

        using var postgres = await CairnProcess.StartOnPostgresAsync(database);
        var chat = Chat(postgres);
        var kept = ids.Where((_, i) => i != 2).ToList();
        var newest = chat.CompleteChat([new UserChatMessage("new")], options).Value.Id;
        var listed = chat.GetChatCompletions(new ChatCompletionCollectionOptions { Metadata = { ["run"] = run } }).Select(c => c.Id).ToList();
        var afterDeleted = chat.GetChatCompletions(new ChatCompletionCollectionOptions
        {
            Metadata = { ["run"] = run },
            AfterId = ids[2],
            Order = ChatCompletionCollectionOrder.Ascending,
        }).Select(c => c.Id).ToList();

        Assert.Equal([newest, .. kept.AsEnumerable().Reverse()], listed);
        Assert.Equal([ids[3], ids[4], ids[5], newest], afterDeleted);
        Assert.Equal("old 4", chat.GetChatCompletion(ids[4]).Value.Content[0].Text);
        Assert.Equal(["sys", "old 5"], chat.GetChatCompletionMessages(ids[5]).Select(m => m.Content));
        Assert.Equal(404, Assert.Throws<ClientResultException>(() => chat.GetChatCompletion(ids[2])).Status);
    }

    [Fact]
    public async Task Migrate_WithoutArguments_SaysHowToUseIt()
    {
        var (exit, stderr) = await RunCairnAsync("migrate");

        Assert.Equal(2, exit);
        Assert.Contains("usage: cairn migrate --from", stderr, StringComparison.Ordinal);
    }

    private static Task<(int Exit, string Stderr)> MigrateAsync(string file, string database) =>
        RunCairnAsync("migrate", "--from", file, "--to", database);

    private static async Task<(int Exit, string Stderr)> RunCairnAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Cairn.dll"), .. args])
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, await stderr);
    }

    private static async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public void Dispose() => folder.Dispose();
}
