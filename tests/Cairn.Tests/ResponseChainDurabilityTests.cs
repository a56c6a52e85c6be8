using System.ClientModel;
using Cairn.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked for evaluation in OpenAI 2.15.

namespace Cairn.Tests;

/// <summary>
/// Chains outlive the process that made them: a chain goes on after SIGKILL and a restart on SQLite, and across two
/// instances sharing PostgreSQL, each turn made on the other one.
/// </summary>
public sealed class ResponseChainDurabilityTests : IDisposable
{
    private readonly TempFolder folder = new();

    private static ResponsesClient Client(CairnProcess server) =>
        new(new ApiKeyCredential("sk-test"), new ResponsesClientOptions { Endpoint = new Uri(server.BaseUrl, "/v1") });

    private static ResponseResult Turn(CairnProcess server, string text, string? previous) =>
        Client(server).CreateResponse(new CreateResponseOptions("echo", [ResponseItem.CreateUserMessageItem(text)]) { PreviousResponseId = previous }).Value;

    private static List<string> Texts(CairnProcess server, string id) =>
        [.. Client(server).GetResponseInputItems(new ResponseItemCollectionOptions(id) { Order = ResponseItemCollectionOrder.Ascending })
            .Select(item => ((MessageResponseItem)item).Content[0].Text)];

    [Fact]
    public async Task AChain_GoesOnAfterSigkillAndARestart()
    {
        var database = folder.File("cairn.db");
        string second;
        using (var server = await CairnProcess.StartAsync(database))
        {
            var first = Turn(server, "one", null);
            second = Turn(server, "two", first.Id).Id;
            server.Kill();
        }

        using var restarted = await CairnProcess.StartAsync(database);
        var third = Turn(restarted, "three", second);

        Assert.Equal(["one", "one", "two", "two", "three"], Texts(restarted, third.Id));
    }

    [Fact]
    public async Task AChain_AlternatesBetweenTwoInstancesOnPostgres()
    {
        var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        using var a = await CairnProcess.StartOnPostgresAsync(database);
        using var b = await CairnProcess.StartOnPostgresAsync(database);

        var first = Turn(a, "one", null);
        var second = Turn(b, "two", first.Id);
        var third = Turn(a, "three", second.Id);

        Assert.Equal(["one", "one", "two", "two", "three"], Texts(b, third.Id));
        Assert.Equal(third.Id, Client(b).GetResponse(third.Id).Value.Id);
    }

    public void Dispose() => folder.Dispose();
}
