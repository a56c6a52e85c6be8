using System.Net;
using System.Text;
using Cairn.Access;
using Cairn.Storage;
using Microsoft.Extensions.DependencyInjection;
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
        await SeedHistoryAsync();
    }

    /// <summary>
    /// A week of traffic in a project of its own, stored through the store with past <c>created</c> times (a client
    /// cannot set them), so that the overview has something to chart.
    /// </summary>
    private async Task SeedHistoryAsync()
    {
        var project = await Cairn.Services.GetRequiredService<IAccessStore>().EnsureProjectAsync("analytics", default);
        var store = Cairn.Services.GetRequiredService<ICompletionStore>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string[] models = ["gpt-4o-mini", "llama-3.1-8b", "echo"];
        var random = new Random(8);
        for (var hour = 7 * 24; hour > 0; hour -= 2)
        {
            var busy = 1 + (int)(3 * (1 + Math.Sin(hour * Math.PI / 12)));
            for (var i = 0; i < busy; i++)
            {
                var id = global::Cairn.OpenAI.Ids.Completion();
                var model = models[random.Next(i == 0 ? 1 : 3)];
                var created = now - (hour * 3600) - random.Next(3600);
                var (prompt, completion) = (40 + random.Next(400), 20 + random.Next(300));
                var body = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","object":"chat.completion","model":"{{model}}","created":{{created}},"usage":{"total_tokens":{{prompt + completion}},"completion_tokens":{{completion}},"prompt_tokens":{{prompt}}},"metadata":{"source":"history"},"choices":[{"index":0,"message":{"content":"Report {{hour}}-{{i}} is ready.","role":"assistant"},"finish_reason":"stop","logprobs":null}]}""");
                byte[][] messages = [Encoding.UTF8.GetBytes($$"""{"id":"{{id}}-0","role":"user","content":"Summarise report {{hour}}-{{i}}","content_parts":null,"name":null}""")];
                await store.AddAsync(new StoredCompletion(project.Id, id, model, created, body, new Dictionary<string, string> { ["source"] = "history" }, messages), default);
            }
        }
    }

    /// <summary>A small picture (a fjord, in SVG) as a data URL.</summary>
    public static readonly string Pixel = "data:image/svg+xml;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes("""
        <svg xmlns="http://www.w3.org/2000/svg" width="240" height="140" viewBox="0 0 240 140"><defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#93c5fd"/><stop offset="1" stop-color="#e0f2fe"/></linearGradient></defs><rect width="240" height="140" fill="url(#s)"/><path d="M0 110 L50 40 L90 95 L130 30 L180 100 L210 60 L240 90 L240 140 L0 140 Z" fill="#475569"/><path d="M120 42 L130 30 L140 44 Z" fill="#f8fafc"/><rect y="112" width="240" height="28" fill="#1d4ed8" opacity="0.75"/></svg>
        """));

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
