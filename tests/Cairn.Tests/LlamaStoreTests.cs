using System.Text.Json;
using Cairn.Tests.Infrastructure;
using OpenAI.Chat;

namespace Cairn.Tests;

/// <summary>
/// Completions of local models stored and served by the stored-completions API, written once and run on SQLite
/// (<see cref="LlamaStoreSqliteTests"/>) and PostgreSQL (<see cref="LlamaStorePostgresTests"/>).
/// </summary>
public abstract class LlamaStoreTests(LlamaModels models)
{
    private static readonly string Answer = GgufWriter.ScriptedAnswer;

    private CairnServer Server => models.Server;

    private static ChatMessage[] Hi => [new UserChatMessage("Hi")];

    [Fact]
    public async Task StoredLlamaCompletions_AreServedByTheStoredCompletionsApi()
    {
        var options = new ChatCompletionOptions { StoredOutputEnabled = true, IncludeLogProbabilities = true, Metadata = { ["topic"] = "llama" } };
        var chat = Server.Chat("scripted");
        var whole = (await chat.CompleteChatAsync(Hi, options)).Value;
        string? streamedId = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(Hi, options))
        {
            streamedId ??= update.CompletionId;
        }

        foreach (var id in new[] { whole.Id, streamedId! })
        {
            var stored = (await chat.GetChatCompletionAsync(id)).Value;
            Assert.Equal(Answer, stored.Content[0].Text);
            Assert.Equal(GgufWriter.ScriptedPieces, stored.ContentTokenLogProbabilities.Select(e => e.Token));
            var messages = new List<ChatCompletionMessageListDatum>();
            await foreach (var message in chat.GetChatCompletionMessagesAsync(id))
            {
                messages.Add(message);
            }
            Assert.Equal("Hi", Assert.Single(messages).Content);
        }
        using var raw = JsonDocument.Parse(await Server.Http.GetStringAsync($"/v1/chat/completions/{whole.Id}"));
        Assert.Equal(
            ["object", "id", "model", "created", "request_id", "tool_choice", "usage", "seed", "top_p", "temperature", "presence_penalty",
             "frequency_penalty", "system_fingerprint", "input_user", "service_tier", "tools", "metadata", "choices", "response_format"],
            raw.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task StoredToolCalls_KeepTheirShape_WholeAndStreamed()
    {
        var tool = ChatTool.CreateFunctionTool("get_weather", "The weather in a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Oslo"]}},"required":["city"],"additionalProperties":false}"""));
        var options = new ChatCompletionOptions { Tools = { tool }, MaxOutputTokenCount = 200, Seed = 4, AllowParallelToolCalls = false, StoredOutputEnabled = true };
        var chat = Server.Chat("tool-caller");
        var whole = (await chat.CompleteChatAsync(Hi, options)).Value;
        string? streamedId = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(Hi, options))
        {
            streamedId ??= update.CompletionId;
        }

        using var first = JsonDocument.Parse(await Server.Http.GetStringAsync($"/v1/chat/completions/{whole.Id}"));
        using var second = JsonDocument.Parse(await Server.Http.GetStringAsync($"/v1/chat/completions/{streamedId}"));
        foreach (var stored in new[] { first.RootElement, second.RootElement })
        {
            var choice = stored.GetProperty("choices")[0];
            Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
            var message = choice.GetProperty("message");
            Assert.Equal("OK", message.GetProperty("content").GetString());
            var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
            Assert.Equal(["id", "type", "function"], call.EnumerateObject().Select(p => p.Name));
            Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
            Assert.Equal(4, stored.GetProperty("seed").GetInt64());
        }
        // The same seed gives the same call, so both stored arguments are the same text.
        Assert.Equal(
            first.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString(),
            second.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString());
    }

    [Fact]
    public async Task TheStoredSeed_ReproducesAnAnswerThatGaveNone()
    {
        var chat = Server.Chat("random");
        var first = (await chat.CompleteChatAsync(Hi, new ChatCompletionOptions { StoredOutputEnabled = true, MaxOutputTokenCount = 16 })).Value;
        using var stored = JsonDocument.Parse(await Server.Http.GetStringAsync($"/v1/chat/completions/{first.Id}"));
        var seed = stored.RootElement.GetProperty("seed").GetInt64();

        var again = (await chat.CompleteChatAsync(Hi, new ChatCompletionOptions { Seed = seed, MaxOutputTokenCount = 16 })).Value;
        Assert.Equal(Text(first), Text(again));
    }

    private static string Text(ChatCompletion completion) => completion.Content.Count == 0 ? "" : completion.Content[0].Text;
}

public sealed class LlamaStoreSqliteTests(LlamaModels models) : LlamaStoreTests(models), IClassFixture<LlamaModels>;

public sealed class LlamaStorePostgresTests(LlamaModelsOnPostgres models) : LlamaStoreTests(models), IClassFixture<LlamaModelsOnPostgres>;
