using System.Net;
using System.Text.Json.Nodes;
using Cairn.Access;
using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// A Cairn with authentication on (an admin key, projects team-a and team-b with a key each) in front of an upstream
/// (a real HTTP server on loopback) that answers <c>tools-*</c> models with two function calls, and stored responses
/// in both projects: in team-a a two-turn chain (a question answered with function calls, then their outputs
/// answered with text) and echo responses of two models with metadata; in team-b two echo responses.
/// </summary>
public sealed class ResponsesDashboardFixture : IAsyncLifetime
{
    private readonly UpstreamAccessFixture access = new();

    public CairnServer Cairn => access.Cairn;

    public string AdminKey => access.AdminKey;

    public string KeyA => access.KeyA;

    public string KeyB => access.KeyB;

    /// <summary>The chain's first turn (answered with function calls) and second (their outputs, answered with text).</summary>
    public string Question { get; private set; } = "";

    public string Answer { get; private set; } = "";

    /// <summary>Project A's echo responses, oldest first, with the model and topic of each.</summary>
    public List<(string Id, string Model, string Topic)> A { get; } = [];

    public List<string> B { get; } = [];

    /// <summary>Every response of project A, oldest first.</summary>
    public List<string> AllOfA { get; } = [];

    public const string Tools = """
        [{"type":"function","name":"get_weather","description":"The weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}}}},
         {"type":"function","name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string"}}}}]
        """;

    public async Task InitializeAsync()
    {
        await access.InitializeAsync();
        Question = await CreateAsync(KeyA, $$$"""
            {"model":"tools-weather","input":"What is the weather in Oslo, and the time?","instructions":"You answer about the weather.",
             "tools":{{{Tools}}},"metadata":{"topic":"weather","user":"alice"}}
            """);
        Answer = await CreateAsync(KeyA, $$$"""
            {"model":"answer-weather","previous_response_id":"{{{Question}}}","instructions":"Answer in one sentence.","temperature":0.2,"tools":{{{Tools}}},
             "input":[{"type":"function_call_output","call_id":"call_1","output":"{\"temperature\":4,\"sky\":\"overcast\"}"},
                      {"type":"function_call_output","call_id":"call_2","output":"10:00 CET"}],
             "metadata":{"topic":"weather"}}
            """);
        AllOfA.AddRange([Question, Answer]);
        for (var i = 0; i < 6; i++)
        {
            var model = i % 3 == 2 ? "other" : "echo";
            var topic = i % 2 == 0 ? "billing" : "search";
            var id = await CreateAsync(KeyA, $$$"""{"model":"{{{model}}}","input":"Question number {{{i}}} about {{{topic}}}","metadata":{"topic":"{{{topic}}}","n":"{{{i}}}"}}""");
            A.Add((id, model, topic));
            AllOfA.Add(id);
        }
        for (var i = 0; i < 2; i++)
        {
            B.Add(await CreateAsync(KeyB, $$$"""{"model":"echo","input":"Project B secret {{{i}}}","metadata":{"topic":"billing"}}"""));
        }
    }

    /// <summary>Creates a response through the API; its id.</summary>
    public async Task<string> CreateAsync(string key, string body)
    {
        using var response = await access.SendAsync(HttpMethod.Post, "/v1/responses", key, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!["id"]!.GetValue<string>();
    }

    public Task<HttpResponseMessage> ApiAsync(HttpMethod method, string path, string key, string? json = null) => access.SendAsync(method, path, key, json);

    public Task<string> CreateKeyAsync(string body) => access.CreateKeyAsync(body);

    /// <summary>Stores a response straight through the store (for what a client cannot send, such as a model name no model has).</summary>
    public async Task<string> StoreAsync(string project, string model, string text)
    {
        var projectId = (await Cairn.Services.GetRequiredService<IAccessStore>().FindProjectAsync(project, default))!.Id;
        var response = ResponseDashboardStoreContract.Response(projectId, model, [],
            id => [ResponseDashboardStoreContract.UserMessage(id, text)], id => [ResponseDashboardStoreContract.Answer(id, text)]);
        await Cairn.Services.GetRequiredService<IResponseStore>().AddAsync(response, default);
        return response.Id;
    }

    public async Task DisposeAsync()
    {
        await access.DisposeAsync();
        await access.Upstream.DisposeAsync();
    }

    /// <summary>The access fixture's Cairn with models <c>tools-*</c> and <c>answer-*</c> relayed to the fake upstream.</summary>
    private sealed class UpstreamAccessFixture : AccessFixture
    {
        public FakeUpstream Upstream { get; } = new();

        protected override async Task<CairnServer> StartServerAsync(string[] args)
        {
            await Upstream.InitializeAsync();
            var root = Upstream.BaseUrl.ToString().TrimEnd('/');
            return await base.StartServerAsync([.. args,
                "--Models:1:Id=tools-*", "--Models:1:Provider=openai", $"--Models:1:BaseUrl={root}/v1",
                "--Models:2:Id=answer-*", "--Models:2:Provider=openai", $"--Models:2:BaseUrl={root}/v1"]);
        }
    }
}
