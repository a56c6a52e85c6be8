using System.ClientModel;
using Cairn.Tests.Infrastructure;
using OpenAI.Chat;

namespace Cairn.Tests;

/// <summary>Creating completions with the echo model through the official OpenAI .NET client.</summary>
public sealed class ChatCompletionsSdkTests(CairnServer server) : IClassFixture<CairnServer>
{
    private readonly ChatClient chat = server.Chat();

    [Fact]
    public void CompleteChat_EchoesTheLastUserMessage_WithRealTokenCounts()
    {
        var completion = chat.CompleteChat(
        [
            new SystemChatMessage("Be brief."),
            new UserChatMessage("First"),
            new AssistantChatMessage("Ok"),
            new UserChatMessage("Hello, world!"),
        ]).Value;

        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Equal("echo", completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal("Hello, world!", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(4, completion.Usage.OutputTokenCount); // o200k_base: "Hello" "," " world" "!"
        Assert.True(completion.Usage.InputTokenCount > 10);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public void CompleteChat_WithMaxOutputTokens_TruncatesWithFinishReasonLength()
    {
        var completion = chat.CompleteChat([new UserChatMessage("one two three four five six")],
            new ChatCompletionOptions { MaxOutputTokenCount = 3 }).Value;

        Assert.Equal("one two three", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
    }

    [Fact]
    public void CompleteChat_WithStopSequence_EndsBeforeIt()
    {
        var options = new ChatCompletionOptions { StopSequences = { "STOP" } };

        var completion = chat.CompleteChat([new UserChatMessage("keep this STOP not this")], options).Value;

        Assert.Equal("keep this ", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public void CompleteChatStreaming_SendsSeveralChunks_UsageLast()
    {
        var updates = chat.CompleteChatStreaming([new UserChatMessage("Streaming comes in several pieces.")]).ToList();

        var text = string.Concat(updates.SelectMany(u => u.ContentUpdate).Select(p => p.Text));
        Assert.Equal("Streaming comes in several pieces.", text);
        var textChunks = updates.Count(u => u.ContentUpdate.Any(p => p.Text.Length > 0));
        Assert.True(textChunks > 3);
        Assert.Equal(ChatFinishReason.Stop, updates.Single(u => u.FinishReason is not null).FinishReason);
        Assert.NotNull(updates[^1].Usage);
        Assert.Equal(textChunks, updates[^1].Usage.OutputTokenCount); // one chunk per token
        Assert.Single(updates.Select(u => u.CompletionId).Distinct());
    }

    [Fact]
    public void CompleteChatStreaming_WithMaxOutputTokens_StopsWithLength()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 2 };

        var updates = chat.CompleteChatStreaming([new UserChatMessage("alpha beta gamma delta")], options).ToList();

        Assert.Equal("alpha beta", string.Concat(updates.SelectMany(u => u.ContentUpdate).Select(p => p.Text)));
        Assert.Equal(ChatFinishReason.Length, updates.Single(u => u.FinishReason is not null).FinishReason);
    }

    [Fact]
    public async Task CompleteChat_WithSeed_IsRecordedAndDeterministic()
    {
        var options = new ChatCompletionOptions { StoredOutputEnabled = true };
#pragma warning disable OPENAI001
        options.Seed = 42;
#pragma warning restore OPENAI001

        var first = chat.CompleteChat([new UserChatMessage("same seed, same answer")], options).Value;
        var second = chat.CompleteChat([new UserChatMessage("same seed, same answer")], options).Value;

        Assert.Equal(first.Content[0].Text, second.Content[0].Text);
        using var stored = System.Text.Json.JsonDocument.Parse(await server.Http.GetStringAsync($"/v1/chat/completions/{first.Id}"));
        Assert.Equal(42, stored.RootElement.GetProperty("seed").GetInt64());
    }

    [Fact]
    public void CompleteChat_WithToolsAndAutoChoice_AnswersInText()
    {
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather for a city") } };

        var completion = chat.CompleteChat([new UserChatMessage("no tool needed")], options).Value;

        Assert.Equal("no tool needed", completion.Content[0].Text);
        Assert.Empty(completion.ToolCalls);
    }

    [Fact]
    public void CompleteChat_WithARequiredToolCall_IsRefusedByName()
    {
        var options = new ChatCompletionOptions
        {
            Tools = { ChatTool.CreateFunctionTool("get_weather") },
            ToolChoice = ChatToolChoice.CreateRequiredChoice(),
        };

        var error = Assert.Throws<ClientResultException>(() => chat.CompleteChat([new UserChatMessage("x")], options));

        Assert.Equal(400, error.Status);
        Assert.Contains("Parameter: tool_choice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CompleteChat_OnAnUnknownModel_IsModelNotFound()
    {
        var error = Assert.Throws<ClientResultException>(() => server.Chat("no-such-model").CompleteChat([new UserChatMessage("x")]));

        Assert.Equal(404, error.Status);
        Assert.Contains("model_not_found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Models_ListAndGet_IncludeEcho_AndUnknownIsNotFound()
    {
        var models = server.Models();

        var all = models.GetModels().Value;
        var echo = models.GetModel("echo").Value;
        var error = Assert.Throws<ClientResultException>(() => models.GetModel("ft:gpt-4o-mini:org:suffix:abc123"));

        Assert.Contains(all, m => m.Id == "echo");
        Assert.Equal("cairn", echo.OwnedBy);
        Assert.Equal(404, error.Status);
        Assert.Contains("model_not_found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentStoredCreates_AreAllStoredAndListed()
    {
        var run = Guid.NewGuid().ToString();
        var creates = Enumerable.Range(0, 64).Select(i => Task.Run(async () =>
        {
            var options = new ChatCompletionOptions { StoredOutputEnabled = true };
            options.Metadata["run"] = run;
            return (await chat.CompleteChatAsync([new UserChatMessage($"concurrent {i}")], options)).Value.Id;
        }));

        var ids = await Task.WhenAll(creates);
        var listed = chat.GetChatCompletions(new ChatCompletionCollectionOptions { Metadata = { ["run"] = run }, PageSizeLimit = 100 })
            .Select(c => c.Id).ToHashSet();

        Assert.Equal(64, listed.Count);
        Assert.All(ids, id => Assert.Contains(id, listed));
    }
}
