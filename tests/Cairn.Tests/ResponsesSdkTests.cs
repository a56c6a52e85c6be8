using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked for evaluation in OpenAI 2.15.

namespace Cairn.Tests;

/// <summary>The Responses API driven end to end by the official OpenAI .NET client, on SQLite.</summary>
public sealed class ResponsesSdkTests(CairnServer server) : ResponsesContract(server), IClassFixture<CairnServer>;

/// <summary>The same, on PostgreSQL.</summary>
public sealed class ResponsesSdkPostgresTests(PostgresCairnServer server) : ResponsesContract(server), IClassFixture<PostgresCairnServer>;

/// <summary>The Responses API (create, stream, retrieve, chain, input items, delete) through the official .NET client, whatever the store.</summary>
public abstract class ResponsesContract(CairnServer server)
{
    private readonly ResponsesClient responses = server.Responses();

    private ResponseResult Create(string text, string? previous = null, bool? store = null, string? instructions = null)
    {
        var options = new CreateResponseOptions("echo", [ResponseItem.CreateUserMessageItem(text)])
        {
            PreviousResponseId = previous,
            StoredOutputEnabled = store,
            Instructions = instructions,
        };
        return responses.CreateResponse(options).Value;
    }

    private List<ResponseItem> InputItems(string id, ResponseItemCollectionOrder? order = null, int? limit = null) =>
        [.. responses.GetResponseInputItems(new ResponseItemCollectionOptions(id) { Order = order, PageSizeLimit = limit })];

    private static string TextOf(ResponseItem item) => Assert.IsAssignableFrom<MessageResponseItem>(item).Content[0].Text;

    [Fact]
    public void ACreatedResponse_IsStoredByDefault_AndRetrievedWithTheSameContent()
    {
        var created = Create("Remember this sentence.");

        var stored = responses.GetResponse(created.Id).Value;

        Assert.StartsWith("resp_", created.Id);
        Assert.Equal(ResponseStatus.Completed, created.Status);
        Assert.Equal("Remember this sentence.", created.GetOutputText());
        Assert.Equal(created.Id, stored.Id);
        Assert.Equal("Remember this sentence.", stored.GetOutputText());
        Assert.Equal(created.CreatedAt, stored.CreatedAt);
        Assert.Equal(created.Usage.TotalTokenCount, stored.Usage.TotalTokenCount);
        Assert.True(created.Usage.InputTokenCount > 0);
        Assert.Equal(created.OutputItems[0].Id, stored.OutputItems[0].Id);
    }

    [Fact]
    public async Task TheCreateBody_AndTheRetrievedBody_AreTheSameBytes()
    {
        using var create = await server.PostJsonAsync("/v1/responses", """{"model":"echo","input":"same bytes","metadata":{"k":"v"}}""");
        var created = await create.Content.ReadAsStringAsync();
        var id = JsonNode.Parse(created)!["id"]!.GetValue<string>();

        var stored = await server.Http.GetStringAsync($"/v1/responses/{id}");

        Assert.Equal(created, stored);
    }

    [Fact]
    public void AResponseNotStored_IsAnsweredButNeitherRetrievableNorChainable()
    {
        var created = Create("Forget this.", store: false);

        var get = Assert.Throws<ClientResultException>(() => responses.GetResponse(created.Id));
        var chain = Assert.Throws<ClientResultException>(() => Create("next", previous: created.Id));

        Assert.Equal("Forget this.", created.GetOutputText());
        Assert.Equal(404, get.Status);
        Assert.Equal(400, chain.Status);
        Assert.Contains("previous_response_not_found", chain.GetRawResponse()!.Content.ToString());
    }

    [Fact]
    public void AChain_CarriesEveryEarlierTurn_AndInputItemsListTheWholeChainNewestFirst_WithoutInstructions()
    {
        var first = Create("first question", instructions: "Be brief.");
        var second = Create("second question", previous: first.Id, instructions: "Be brief.");

        var items = InputItems(second.Id);

        Assert.Equal("second question", second.GetOutputText());
        Assert.Equal(first.Id, second.PreviousResponseId);
        Assert.Equal(3, items.Count);
        Assert.Equal("second question", TextOf(items[0]));
        Assert.Equal(first.OutputItems[0].Id, items[1].Id);
        Assert.Equal("first question", TextOf(items[1]));
        Assert.Equal("first question", TextOf(items[2]));
        Assert.DoesNotContain(items, item => item is MessageResponseItem { Role: MessageRole.System or MessageRole.Developer });
        // The whole chain was billed as the second turn's input.
        Assert.True(second.Usage.InputTokenCount > first.Usage.InputTokenCount);
    }

    [Fact]
    public void InputItems_PageInBothOrders()
    {
        var options = new CreateResponseOptions("echo",
            [.. Enumerable.Range(1, 4).Select(i => ResponseItem.CreateUserMessageItem($"Item {i}"))]);
        var created = responses.CreateResponse(options).Value;

        var newestFirst = InputItems(created.Id, limit: 2);
        var oldestFirst = InputItems(created.Id, ResponseItemCollectionOrder.Ascending, limit: 3);
        var page = responses.GetResponseInputItemCollectionPage(new ResponseItemCollectionOptions(created.Id) { PageSizeLimit = 2 }).Value;

        Assert.Equal(["Item 4", "Item 3", "Item 2", "Item 1"], newestFirst.Select(TextOf));
        Assert.Equal(["Item 1", "Item 2", "Item 3", "Item 4"], oldestFirst.Select(TextOf));
        Assert.True(page.HasMore);
        Assert.Equal(2, page.Data.Count);
    }

    [Fact]
    public void ADeletedResponse_IsGone_AndAResponseThatContinuedIt_KeepsItsWholeContext()
    {
        var first = Create("alpha");
        var second = Create("beta", previous: first.Id);
        var before = InputItems(second.Id).Select(item => item.Id).ToList();

        var deleted = responses.DeleteResponse(first.Id).Value;
        var after = InputItems(second.Id).Select(item => item.Id).ToList();
        var third = Create("gamma", previous: second.Id);
        var thirdItems = InputItems(third.Id);

        Assert.True(deleted.Deleted);
        Assert.Equal(first.Id, deleted.ResponseId);
        Assert.Equal(404, Assert.Throws<ClientResultException>(() => responses.GetResponse(first.Id)).Status);
        Assert.Equal(404, Assert.Throws<ClientResultException>(() => responses.DeleteResponse(first.Id)).Status);
        Assert.Equal(before, after);
        Assert.Equal(5, thirdItems.Count);
        Assert.Equal("alpha", TextOf(thirdItems[^1]));
    }

    [Fact]
    public async Task AStreamedResponse_SendsTheEventsInOrder_WithOneId_AndIsStoredAsCompleted()
    {
        var options = new CreateResponseOptions("echo", [ResponseItem.CreateUserMessageItem("stream these words please")]) { StreamingEnabled = true };
        var updates = new List<StreamingResponseUpdate>();
        await foreach (var update in await responses.CreateResponseStreamingAsync(options))
        {
            updates.Add(update);
        }

        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]).Response;
        var text = string.Concat(updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(u => u.Delta));
        var stored = responses.GetResponse(completed.Id).Value;

        Assert.IsType<StreamingResponseCreatedUpdate>(updates[0]);
        Assert.Equal(Enumerable.Range(0, updates.Count), updates.Select(u => u.SequenceNumber));
        Assert.Equal("stream these words please", text);
        Assert.Equal("stream these words please", completed.GetOutputText());
        Assert.Equal(completed.Id, ((StreamingResponseCreatedUpdate)updates[0]).Response.Id);
        Assert.Equal(ResponseStatus.Completed, stored.Status);
        Assert.Equal(completed.OutputItems[0].Id, stored.OutputItems[0].Id);
        Assert.Equal(completed.OutputItems[0].Id, updates.OfType<StreamingResponseOutputTextDeltaUpdate>().First().ItemId);
    }

    [Fact]
    public void MaxOutputTokens_MakesAnIncompleteResponse_WithItsReason()
    {
        var options = new CreateResponseOptions("echo", [ResponseItem.CreateUserMessageItem(string.Join(' ', Enumerable.Repeat("word", 100)))])
        {
            MaxOutputTokenCount = 16,
        };

        var created = responses.CreateResponse(options).Value;

        Assert.Equal(ResponseStatus.Incomplete, created.Status);
        Assert.Equal(ResponseIncompleteStatusReason.MaxOutputTokens, created.IncompleteStatusDetails.Reason);
        Assert.Equal(16, created.Usage.OutputTokenCount);
    }

    [Fact]
    public void InputTokens_CountWhatACreateWouldSend_ChainIncluded_AndUsageAgrees()
    {
        var first = Create("How many tokens is this question?", instructions: "Be brief.");
        const string Next = """{"model":"echo","previous_response_id":"@","input":"And this one?","instructions":"Be brief."}""";

        var counted = responses.GetInputTokenCount(
            BinaryContent.Create(BinaryData.FromString(Next.Replace("@", first.Id, StringComparison.Ordinal))), "application/json", new RequestOptions());
        using var json = System.Text.Json.JsonDocument.Parse(counted.GetRawResponse().Content);
        var second = Create("And this one?", previous: first.Id, instructions: "Be brief.");

        Assert.Equal("response.input_tokens", json.RootElement.GetProperty("object").GetString());
        Assert.Equal(second.Usage.InputTokenCount, json.RootElement.GetProperty("input_tokens").GetInt32());
        Assert.True(second.Usage.InputTokenCount > first.Usage.InputTokenCount);
    }

    [Fact]
    public void CancelAndResumingAStream_AreRefusedThroughTheClient_AsCairnRunsNoBackgroundResponses()
    {
        var created = Create("already finished");

        var cancel = Assert.Throws<ClientResultException>(() => responses.CancelResponse(created.Id));
        var resume = Assert.Throws<ClientResultException>(() =>
            responses.GetResponse(created.Id, include: null, stream: true, startingAfter: 1, includeObfuscation: null, new RequestOptions()));

        Assert.Equal(400, cancel.Status);
        Assert.Equal(400, resume.Status);
        Assert.Contains("\"param\":\"stream\"", resume.GetRawResponse()!.Content.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownIds_Get404_InOpenAIsWords_OnEveryEndpoint()
    {
        const string id = "resp_0000000000000000000000000000000000000000000000000";
        var expected = $$$"""{"error":{"message":"Response with id '{{{id}}}' not found.","type":"invalid_request_error","param":null,"code":null}}""";

        foreach (var (method, path) in new[]
                 {
                     (HttpMethod.Get, $"/v1/responses/{id}"), (HttpMethod.Delete, $"/v1/responses/{id}"),
                     (HttpMethod.Get, $"/v1/responses/{id}/input_items"), (HttpMethod.Post, $"/v1/responses/{id}/cancel"),
                 })
        {
            using var response = await server.Http.SendAsync(new HttpRequestMessage(method, path));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task AnUnknownPreviousResponse_Is400_NamingIt()
    {
        const string id = "resp_0000000000000000000000000000000000000000000000000";
        using var response = await server.PostJsonAsync("/v1/responses", $$"""{"model":"echo","input":"hi","previous_response_id":"{{id}}"}""");

        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal($"Previous response with id '{id}' not found.", error["message"]!.GetValue<string>());
        Assert.Equal("previous_response_id", error["param"]!.GetValue<string>());
        Assert.Equal("previous_response_not_found", error["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"model":"echo","input":"hi","text":{"format":{"type":"json_object"}}}""", "text.format", "unsupported_parameter")]
    [InlineData("""{"model":"echo","input":"hi","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"f"}}""", "tool_choice", "unsupported_parameter")]
    [InlineData("""{"model":"echo","input":"hi","max_output_tokens":8}""", "max_output_tokens", "integer_below_min_value")]
    [InlineData("""{"model":"echo","input":"hi","temperature":3}""", "temperature", "decimal_above_max_value")]
    [InlineData("""{"model":"echo","input":[{"role":"robot","content":"hi"}]}""", "input[0].role", "invalid_value")]
    [InlineData("""{"model":"echo","input":"hi","tools":[{"type":"web_search"}]}""", "tools[0].type", null)]
    [InlineData("""{"model":"echo","input":"hi","previous_response_id":"chatcmpl-1"}""", "previous_response_id", "invalid_id_prefix")]
    [InlineData("""{"model":"echo","input":"hi","messages":[]}""", "messages", "unknown_parameter")]
    [InlineData("""{"model":"echo","input":"hi","metadata":{"k":1}}""", "metadata.k", null)]
    [InlineData("""{"model":"nope","input":"hi"}""", "model", "model_not_found")]
    public async Task WhatCannotBeAnswered_IsA4xx_NamingTheResponsesParameter(string body, string param, string? code)
    {
        using var response = await server.PostJsonAsync("/v1/responses", body);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.True((int)response.StatusCode is 400 or 404, $"{(int)response.StatusCode}: {error}");
        Assert.Equal(param, error["param"]?.GetValue<string>());
        if (code is not null)
        {
            Assert.Equal(code, error["code"]?.GetValue<string>());
        }
    }

    [Fact]
    public async Task BackgroundResponses_AreRefusedClearly_AndCancelSaysWhy()
    {
        using var background = await server.PostJsonAsync("/v1/responses", """{"model":"echo","input":"hi","background":true}""");
        var created = Create("finished already");
        using var cancel = await server.Http.PostAsync($"/v1/responses/{created.Id}/cancel", null);

        Assert.Equal(HttpStatusCode.BadRequest, background.StatusCode);
        Assert.Equal("background", JsonNode.Parse(await background.Content.ReadAsStringAsync())!["error"]!["param"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, cancel.StatusCode);
    }

    [Fact]
    public async Task TheChatCallThatServesAResponse_IsNotStoredAsAChatCompletion()
    {
        var marker = "marker-" + Guid.NewGuid().ToString("N");
        Create(marker);

        var list = await server.Http.GetStringAsync("/v1/chat/completions?limit=100");

        Assert.DoesNotContain(marker, list);
    }
}
