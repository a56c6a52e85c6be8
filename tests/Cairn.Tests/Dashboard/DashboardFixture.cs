using System.Net;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;
using OpenAI.Chat;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// A Cairn with authentication on (an admin key and two projects with a key each) and stored completions in both
/// projects: two models, metadata, and one conversation with every kind of message (system, developer, user with
/// an image part, assistant tool calls, a tool result).
/// </summary>
public class DashboardFixture : IAsyncLifetime
{
    private readonly AccessFixture access = new();

    public CairnServer Cairn => access.Cairn;

    public string AdminKey => access.AdminKey;

    public string KeyA => access.KeyA;

    public string KeyB => access.KeyB;

    /// <summary>Ids of project A's completions, oldest first, and the model and metadata of each.</summary>
    public List<(string Id, string Model, string Topic)> A { get; } = [];

    public List<string> B { get; } = [];

    /// <summary>Project A's completion with tools, images and every role.</summary>
    public string Rich { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await access.InitializeAsync();
        for (var i = 0; i < 6; i++)
        {
            var model = i % 3 == 2 ? "other" : "echo";
            var topic = i % 2 == 0 ? "billing" : "search";
            var completion = await access.Chat(KeyA, model).CompleteChatAsync(
                [new SystemChatMessage("You are terse."), new UserChatMessage($"Question number {i} about {topic} and penguins{i}")],
                new ChatCompletionOptions { StoredOutputEnabled = true, Metadata = { ["topic"] = topic, ["n"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
            A.Add((completion.Value.Id, model, topic));
        }
        for (var i = 0; i < 2; i++)
        {
            var completion = await access.Chat(KeyB).CompleteChatAsync([new UserChatMessage($"Project B secret {i}")],
                new ChatCompletionOptions { StoredOutputEnabled = true, Metadata = { ["topic"] = "billing" } });
            B.Add(completion.Value.Id);
        }
        Rich = await CreateRawAsync(KeyA, RichBody);
    }

    /// <summary>A 1×1 PNG as a data URL.</summary>
    public const string Pixel = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    private static readonly string RichBody = """
        {"model":"echo","store":true,"metadata":{"topic":"weather","user":"alice"},"temperature":0.2,"seed":7,
         "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
         "messages":[
          {"role":"system","content":"You answer about the weather."},
          {"role":"developer","content":"Use metric units."},
          {"role":"user","content":[{"type":"text","text":"What is the weather in Oslo? Here is a photo."},{"type":"image_url","image_url":{"url":"PIXEL"}}]},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\",\"unit\":\"celsius\"}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"{\"temperature\":4,\"sky\":\"overcast\"}"},
          {"role":"user","content":"Thanks! Summarise it for a fjord trip."}]}
        """.Replace("PIXEL", Pixel, StringComparison.Ordinal);

    public async Task<string> CreateRawAsync(string key, string body)
    {
        using var response = await access.SendAsync(HttpMethod.Post, "/v1/chat/completions", key, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    public Task<HttpResponseMessage> ApiAsync(HttpMethod method, string path, string key, string? json = null) => access.SendAsync(method, path, key, json);

    public Task<string> CreateKeyAsync(string body) => access.CreateKeyAsync(body);

    public Task DisposeAsync() => access.DisposeAsync();
}
