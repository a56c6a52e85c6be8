using System.ClientModel;
using Cairn.Tests.Infrastructure;
using OpenAI.Chat;

namespace Cairn.Tests;

/// <summary>The stored-completions API driven end to end by the official OpenAI .NET client, on SQLite.</summary>
public sealed class StoredCompletionsSdkTests(CairnServer server) : StoredCompletionsContract(server), IClassFixture<CairnServer>;

/// <summary>The same, on PostgreSQL.</summary>
public sealed class StoredCompletionsSdkPostgresTests(PostgresCairnServer server) : StoredCompletionsContract(server), IClassFixture<PostgresCairnServer>;

/// <summary>The stored-completions API driven end to end by the official OpenAI .NET client, whatever the store.</summary>
public abstract class StoredCompletionsContract(CairnServer server)
{
    private readonly ChatClient chat = server.Chat();

    private ChatCompletion Store(string text, string run, IDictionary<string, string>? extra = null)
    {
        var options = new ChatCompletionOptions { StoredOutputEnabled = true };
        options.Metadata["run"] = run;
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            options.Metadata[key] = value;
        }
        return chat.CompleteChat([new UserChatMessage(text)], options).Value;
    }

    /// <summary>The client's ChatCompletion type has no metadata property; the raw response has it.</summary>
    private static string MetadataValue(ClientResult<ChatCompletion> result, string key)
    {
        using var json = System.Text.Json.JsonDocument.Parse(result.GetRawResponse().Content);
        return json.RootElement.GetProperty("metadata").GetProperty(key).GetString()!;
    }

    [Fact]
    public void StoredCompletion_IsRetrievableAtOnce_WithTheSameContentAndMetadata()
    {
        var run = Guid.NewGuid().ToString();
        var created = Store("Remember this sentence.", run);

        var result = chat.GetChatCompletion(created.Id);
        var stored = result.Value;

        Assert.Equal(created.Id, stored.Id);
        Assert.Equal("Remember this sentence.", stored.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, stored.FinishReason);
        Assert.Equal(run, MetadataValue(result, "run"));
        Assert.Equal(created.CreatedAt, stored.CreatedAt);
        Assert.Equal(created.Usage.TotalTokenCount, stored.Usage.TotalTokenCount);
    }

    [Fact]
    public void CompletionWithoutStore_IsNotRetrievable()
    {
        var created = chat.CompleteChat([new UserChatMessage("Forget this.")]).Value;

        var error = Assert.Throws<ClientResultException>(() => chat.GetChatCompletion(created.Id));

        Assert.Equal(404, error.Status);
        Assert.Contains("not_found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StreamedCompletionWithStore_IsStoredWithTheWholeAnswer()
    {
        var options = new ChatCompletionOptions { StoredOutputEnabled = true };
        var id = "";
        var text = "";
        foreach (var update in chat.CompleteChatStreaming([new UserChatMessage("A streamed answer, stored whole.")], options))
        {
            id = update.CompletionId;
            text += string.Concat(update.ContentUpdate.Select(part => part.Text));
        }

        var stored = chat.GetChatCompletion(id).Value;

        Assert.Equal("A streamed answer, stored whole.", text);
        Assert.Equal(text, stored.Content[0].Text);
        Assert.True(stored.Usage.OutputTokenCount > 1);
    }

    [Fact]
    public void GetChatCompletions_FiltersByMetadata_NewestFirstByDefault()
    {
        var run = Guid.NewGuid().ToString();
        var ids = Enumerable.Range(0, 3).Select(i => Store($"item {i}", run).Id).ToList();
        Store("other", Guid.NewGuid().ToString());

        var listed = chat.GetChatCompletions(new ChatCompletionCollectionOptions { Metadata = { ["run"] = run } }).ToList();

        Assert.Equal(ids.AsEnumerable().Reverse(), listed.Select(c => c.Id));
    }

    [Fact]
    public void GetChatCompletions_PagesThroughEverything_InBothOrders()
    {
        var run = Guid.NewGuid().ToString();
        var ids = Enumerable.Range(0, 7).Select(i => Store($"page item {i}", run).Id).ToList();

        var ascending = chat.GetChatCompletions(new ChatCompletionCollectionOptions
        {
            Metadata = { ["run"] = run },
            PageSizeLimit = 2,
            Order = ChatCompletionCollectionOrder.Ascending,
        }).Select(c => c.Id).ToList();
        var descending = chat.GetChatCompletions(new ChatCompletionCollectionOptions
        {
            Metadata = { ["run"] = run },
            PageSizeLimit = 3,
            Order = ChatCompletionCollectionOrder.Descending,
        }).Select(c => c.Id).ToList();

        Assert.Equal(ids, ascending);
        Assert.Equal(ids.AsEnumerable().Reverse(), descending);
    }

    [Fact]
    public void GetChatCompletions_WithAfterId_StartsAfterIt()
    {
        var run = Guid.NewGuid().ToString();
        var ids = Enumerable.Range(0, 4).Select(i => Store($"after {i}", run).Id).ToList();

        var rest = chat.GetChatCompletions(new ChatCompletionCollectionOptions
        {
            Metadata = { ["run"] = run },
            AfterId = ids[1],
            Order = ChatCompletionCollectionOrder.Ascending,
        }).Select(c => c.Id).ToList();

        Assert.Equal(ids[2..], rest);
    }

    [Fact]
    public void GetChatCompletions_AndsSeveralMetadataKeys_AndFiltersByModel()
    {
        var run = Guid.NewGuid().ToString();
        var red = Store("red one", run, new Dictionary<string, string> { ["color"] = "red" });
        Store("blue one", run, new Dictionary<string, string> { ["color"] = "blue" });

        var reds = chat.GetChatCompletions(new ChatCompletionCollectionOptions
        {
            Metadata = { ["run"] = run, ["color"] = "red" },
            Model = "echo",
        }).Select(c => c.Id).ToList();
        var otherModel = chat.GetChatCompletions(new ChatCompletionCollectionOptions
        {
            Metadata = { ["run"] = run },
            Model = "some-other-model",
        }).ToList();

        Assert.Equal([red.Id], reds);
        Assert.Empty(otherModel);
    }

    [Fact]
    public void UpdateChatCompletion_ReplacesMetadata_AndListsFollow()
    {
        var run = Guid.NewGuid().ToString();
        var created = Store("to be relabelled", run, new Dictionary<string, string> { ["stage"] = "draft" });

        var updated = chat.UpdateChatCompletion(created.Id, new Dictionary<string, string> { ["run"] = run, ["stage"] = "final" });
        var finals = chat.GetChatCompletions(new ChatCompletionCollectionOptions { Metadata = { ["run"] = run, ["stage"] = "final" } }).ToList();
        var drafts = chat.GetChatCompletions(new ChatCompletionCollectionOptions { Metadata = { ["run"] = run, ["stage"] = "draft" } }).ToList();

        Assert.Equal("final", MetadataValue(updated, "stage"));
        Assert.Equal("to be relabelled", updated.Value.Content[0].Text);
        Assert.Equal(created.Id, Assert.Single(finals).Id);
        Assert.Empty(drafts);
        Assert.Equal("final", MetadataValue(chat.GetChatCompletion(created.Id), "stage"));
    }

    [Fact]
    public void DeleteChatCompletion_RemovesIt_AndASecondDeleteIsNotFound()
    {
        var run = Guid.NewGuid().ToString();
        var created = Store("short-lived", run);

        var deleted = chat.DeleteChatCompletion(created.Id).Value;

        Assert.True(deleted.Deleted);
        Assert.Equal(created.Id, deleted.ChatCompletionId);
        Assert.Equal(404, Assert.Throws<ClientResultException>(() => chat.GetChatCompletion(created.Id)).Status);
        Assert.Equal(404, Assert.Throws<ClientResultException>(() => chat.DeleteChatCompletion(created.Id)).Status);
        Assert.Empty(chat.GetChatCompletions(new ChatCompletionCollectionOptions { Metadata = { ["run"] = run } }));
    }

    [Fact]
    public void Paging_GoesOn_WhenThePreviousPagesLastItemWasDeleted()
    {
        var run = Guid.NewGuid().ToString();
        var ids = Enumerable.Range(0, 3).Select(i => Store($"cursor {i}", run).Id).ToList();
        chat.DeleteChatCompletion(ids[0]);

        var rest = chat.GetChatCompletions(new ChatCompletionCollectionOptions
        {
            Metadata = { ["run"] = run },
            AfterId = ids[0],
            Order = ChatCompletionCollectionOrder.Ascending,
        }).Select(c => c.Id).ToList();

        Assert.Equal(ids[1..], rest);
    }

    [Fact]
    public void DeletingTheNewest_ThenStoringAgain_KeepsTheDeletedIdAValidCursorBeforeTheNewOne()
    {
        var run = Guid.NewGuid().ToString();
        var first = Store("first", run).Id;
        var newest = Store("newest", run).Id;
        chat.DeleteChatCompletion(newest);
        var next = Store("next", run).Id;

        var afterDeleted = chat.GetChatCompletions(new ChatCompletionCollectionOptions
        {
            Metadata = { ["run"] = run },
            AfterId = newest,
            Order = ChatCompletionCollectionOrder.Ascending,
        }).Select(c => c.Id).ToList();

        Assert.Equal([next], afterDeleted);
        Assert.NotEqual(first, next);
    }

    [Fact]
    public void GetChatCompletionMessages_ListsTheInputMessages_WithPaging()
    {
        var options = new ChatCompletionOptions { StoredOutputEnabled = true };
        List<ChatMessage> messages =
        [
            new SystemChatMessage("You repeat."),
            new UserChatMessage("First question"),
            new AssistantChatMessage("First answer"),
            new UserChatMessage(ChatMessageContentPart.CreateTextPart("Look:"), ChatMessageContentPart.CreateImagePart(new Uri("https://example.com/cat.png"))),
        ];
        var created = chat.CompleteChat(messages, options).Value;

        var all = chat.GetChatCompletionMessages(created.Id, new ChatCompletionMessageCollectionOptions { PageSizeLimit = 3 }).ToList();
        var newestFirst = chat.GetChatCompletionMessages(created.Id, new ChatCompletionMessageCollectionOptions
        {
            Order = ChatCompletionMessageCollectionOrder.Descending,
        }).Select(m => m.Id).ToList();

        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"{created.Id}-{i}"), all.Select(m => m.Id));
        Assert.Equal("You repeat.", all[0].Content);
        Assert.Equal("First answer", all[2].Content);
        Assert.Equal("Look: ", all[3].Content);
        Assert.Equal(2, all[3].ContentParts.Count);
        Assert.Equal("Look:", all[3].ContentParts[0].Text);
        Assert.Equal(all.Select(m => m.Id).Reverse(), newestFirst);
        Assert.Equal("Look:", created.Content[0].Text);
    }

    [Fact]
    public void GetChatCompletionMessages_OfAnUnknownCompletion_IsNotFound()
    {
        var error = Assert.Throws<ClientResultException>(() => chat.GetChatCompletionMessages("chatcmpl-doesnotexist").ToList());

        Assert.Equal(404, error.Status);
    }
}
