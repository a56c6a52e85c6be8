using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cairn.Tests.Infrastructure;
using static Cairn.Tests.Infrastructure.Recordings;

namespace Cairn.Tests;

/// <summary>The raw-HTTP contract on SQLite.</summary>
public sealed class RawHttpTests(CairnServer server) : RawHttpContract(server), IClassFixture<CairnServer>;

/// <summary>The raw-HTTP contract on PostgreSQL.</summary>
public sealed class RawHttpPostgresTests(PostgresCairnServer server) : RawHttpContract(server), IClassFixture<PostgresCairnServer>;

/// <summary>
/// The bytes a client without an SDK sees, checked against recorded OpenAI traffic: headers on every response,
/// SSE framing, and the shapes of the create response, the stored object and its input messages.
/// </summary>
public abstract partial class RawHttpContract(CairnServer server)
{
    private const string Completions = "/v1/chat/completions";
    private const string StoredWork = "ChatStoreTests/StoredChatCompletionsWork.json";
    private const string UpdateWorks = "ChatStoreTests/UpdateChatCompletionWorks.json";
    private const string EmptyPage = """{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}""";

    [GeneratedRegex("^req_[0-9a-f]{32}$")]
    private static partial Regex RequestId();

    [GeneratedRegex("^chatcmpl-[0-9A-Za-z]{29}$")]
    private static partial Regex CompletionId();

    /// <summary>Exactly <c>data: &lt;one line&gt;\n\n</c> events, nothing else, no carriage returns.</summary>
    [GeneratedRegex(@"\A(data: [^\r\n]+\n\n)+\z")]
    private static partial Regex SseEvents();

    // ---- (a) Headers on every response ----

    [Theory]
    [InlineData("POST", Completions, """{"model":"echo","messages":[{"role":"user","content":"hi"}]}""", "application/json", 200, "application/json")]
    [InlineData("POST", Completions, """{"model":"echo","stream":true,"messages":[{"role":"user","content":"hi"}]}""", "application/json", 200, "text/event-stream")]
    [InlineData("POST", Completions, """{"model":"echo","messages":[]}""", "application/json", 400, "application/json")]
    [InlineData("POST", Completions, """{"model":"nope","messages":[{"role":"user","content":"hi"}]}""", "application/json", 404, "application/json")]
    [InlineData("POST", Completions, "model=echo", "text/plain", 415, "application/json")]
    [InlineData("GET", Completions, null, null, 200, "application/json")]
    [InlineData("GET", Completions + "?limit=0", null, null, 400, "application/json")]
    [InlineData("GET", Completions + "/chatcmpl-NeverStored", null, null, 404, "application/json")]
    [InlineData("GET", Completions + "/chatcmpl-NeverStored/messages", null, null, 404, "application/json")]
    [InlineData("DELETE", Completions + "/chatcmpl-NeverStored", null, null, 404, "application/json")]
    [InlineData("POST", Completions + "/chatcmpl-NeverStored", """{"metadata":{}}""", "application/json", 404, "application/json")]
    [InlineData("GET", "/v1/models", null, null, 200, "application/json")]
    [InlineData("GET", "/v1/models/echo", null, null, 200, "application/json")]
    [InlineData("GET", "/v1/models/no-such-model", null, null, 404, "application/json")]
    [InlineData("GET", "/v1/no/such/route", null, null, 404, "application/json")]
    [InlineData("PUT", Completions, "{}", "application/json", 405, "application/json")]
    [InlineData("GET", "/health", null, null, 200, "application/json")]
    public async Task EveryResponse_HasARequestId_AndSuccessesHaveProcessingMs(
        string method, string path, string? body, string? contentType, int status, string mediaType)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType!);
        }

        using var response = await server.Http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Matches(RequestId(), Single(response, "x-request-id"));
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        if (status == 200)
        {
            Assert.Matches("^[0-9]+$", Single(response, "openai-processing-ms"));
        }
        if (path.StartsWith("/v1", StringComparison.Ordinal))
        {
            Assert.Equal("2020-10-01", Single(response, "openai-version"));
        }
    }

    [Fact]
    public async Task RequestIds_AreFreshPerResponse_AndTheStoredRequestIdIsTheCreateResponsesHeader()
    {
        var (first, firstRequestId) = await CreateAsync("\"store\":true,\"messages\":[{\"role\":\"user\",\"content\":\"ids\"}]");
        var (_, secondRequestId) = await CreateAsync("\"messages\":[{\"role\":\"user\",\"content\":\"ids\"}]");
        using var get = await server.Http.GetAsync($"{Completions}/{Id(first)}");
        var stored = Parse(await get.Content.ReadAsStringAsync());

        Assert.NotEqual(firstRequestId, secondRequestId);
        Assert.NotEqual(firstRequestId, Single(get, "x-request-id"));
        Assert.Equal(firstRequestId, stored.GetProperty("request_id").GetString());
    }

    // ---- (b) Server-sent events ----

    [Fact]
    public async Task Stream_WithIncludeUsage_IsDataEventsOnly_WithUsageNullUntilAFinalUsageChunk()
    {
        const string text = "Stream me, please: one two three.";
        var messages = $$"""[{"role":"user","content":"{{text}}"}]""";
        var recorded = RecordedStream();
        var (whole, _) = await CreateAsync($"\"messages\":{messages}");

        var (status, mediaType, raw) = await StreamAsync($$"""{"model":"echo","stream":true,"stream_options":{"include_usage":true},"messages":{{messages}}}""");

        Assert.Equal(200, status);
        Assert.Equal("text/event-stream", mediaType);
        var chunks = Chunks(raw);
        Assert.True(chunks.Count >= 4, raw);
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => (c.GetProperty("id").GetString(), c.GetProperty("created").GetInt64(), c.GetProperty("model").GetString())).Distinct());
        Assert.Matches(CompletionId(), chunks[0].GetProperty("id").GetString());
        Assert.Equal("echo", chunks[0].GetProperty("model").GetString());

        // Key order as recorded (the recording's random `obfuscation` padding is optional).
        Assert.Equal(Keys(recorded[0]).Where(k => k != "obfuscation"), Keys(chunks[0]));
        Assert.Equal(Keys(recorded[^1]).Where(k => k != "obfuscation"), Keys(chunks[^1]));
        Assert.All(chunks[..^1], c => Assert.Equal(Keys(recorded[0].GetProperty("choices")[0]), Keys(c.GetProperty("choices")[0])));

        var first = chunks[0].GetProperty("choices")[0].GetProperty("delta");
        Assert.Equal("assistant", first.GetProperty("role").GetString());
        Assert.Equal("", first.GetProperty("content").GetString());
        Assert.Equal(Compact(recorded[0].GetProperty("choices")[0].GetProperty("delta")), first.GetRawText());

        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        Assert.All(chunks[..^2], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        var finish = chunks[^2].GetProperty("choices")[0];
        Assert.Equal("{}", finish.GetProperty("delta").GetRawText());
        Assert.Equal("stop", finish.GetProperty("finish_reason").GetString());
        Assert.All(chunks[1..^2], c => Assert.Equal(["content"], Keys(c.GetProperty("choices")[0].GetProperty("delta"))));
        var streamed = string.Concat(chunks[1..^2].Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()));
        Assert.Equal(text, streamed);

        var last = chunks[^1];
        Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
        var usage = last.GetProperty("usage");
        Assert.Equal(Keys(recorded[^1].GetProperty("usage")), Keys(usage));
        var (prompt, completion, total) = (usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
        Assert.True(prompt > 0 && completion > 0);
        Assert.Equal(prompt + completion, total);
        Assert.Equal(whole.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), prompt);
        Assert.Equal(whole.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), completion);
    }

    [Fact]
    public async Task Stream_WithoutIncludeUsage_HasNoUsageKeyAndNoUsageChunk()
    {
        var (status, mediaType, raw) = await StreamAsync("""{"model":"echo","stream":true,"messages":[{"role":"user","content":"no usage please"}]}""");

        Assert.Equal(200, status);
        Assert.Equal("text/event-stream", mediaType);
        var chunks = Chunks(raw);
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _), c.GetRawText()));
        Assert.All(chunks, c => Assert.Equal(1, c.GetProperty("choices").GetArrayLength()));
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("no usage please", string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString())));
    }

    [Fact]
    public async Task Stream_WithNTwo_GivesEachIndexARoleChunkTheWholeTextAndAFinish()
    {
        const string text = "two voices";
        var (whole, _) = await CreateAsync($$"""  "n":2,"messages":[{"role":"user","content":"{{text}}"}]  """);

        var (_, _, raw) = await StreamAsync($$"""{"model":"echo","stream":true,"n":2,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"{{text}}"}]}""");

        var chunks = Chunks(raw);
        var choices = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()).ToList();
        Assert.Equal([0, 1], choices.Select(c => c.GetProperty("index").GetInt32()).Distinct().Order());
        foreach (var index in (int[])[0, 1])
        {
            var mine = choices.Where(c => c.GetProperty("index").GetInt32() == index).ToList();
            Assert.Equal("assistant", mine[0].GetProperty("delta").GetProperty("role").GetString());
            Assert.Equal("stop", mine[^1].GetProperty("finish_reason").GetString());
            Assert.Single(mine, c => c.GetProperty("finish_reason").ValueKind != JsonValueKind.Null);
            Assert.Equal(text, string.Concat(mine.Select(c => c.GetProperty("delta"))
                .Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString())));
        }
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(whole.GetProperty("usage").GetProperty("completion_tokens").GetInt32(),
            chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    // ---- (c) Shapes of what is created and stored ----

    [Fact]
    public async Task CreateResponse_HasTheRecordedKeysInTheRecordedOrder()
    {
        var recorded = ResponseBody("ChatTests/HelloWorldChat.json", 0);

        var (created, _) = await CreateAsync("\"messages\":[{\"role\":\"user\",\"content\":\"Hello, world!\"}]");

        Assert.Equal(Keys(recorded), Keys(created));
        Assert.Equal(Keys(recorded.GetProperty("choices")[0]), Keys(created.GetProperty("choices")[0]));
        Assert.Equal(Keys(recorded.GetProperty("choices")[0].GetProperty("message")), Keys(created.GetProperty("choices")[0].GetProperty("message")));
        Assert.Equal(Keys(recorded.GetProperty("usage")), Keys(created.GetProperty("usage")));
        Assert.Equal(Keys(recorded.GetProperty("usage").GetProperty("prompt_tokens_details")), Keys(created.GetProperty("usage").GetProperty("prompt_tokens_details")));
        Assert.Equal(Keys(recorded.GetProperty("usage").GetProperty("completion_tokens_details")), Keys(created.GetProperty("usage").GetProperty("completion_tokens_details")));
        Assert.Matches(CompletionId(), Id(created));
        Assert.Equal("Hello, world!", created.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.False(created.TryGetProperty("metadata", out _));
    }

    [Fact]
    public async Task StoredObject_HasTheRecordedKeysInTheRecordedOrder_AndTheSameObjectInTheList()
    {
        var run = Guid.NewGuid().ToString("N");
        var (created, requestId) = await CreateAsync($$"""  "store":true,"metadata":{"run":"{{run}}"},"messages":[{"role":"user","content":"Say this is a test."}]  """);

        var (status, stored, raw) = await GetAsync($"{Completions}/{Id(created)}");
        var (_, list, _) = await GetAsync($"{Completions}?metadata[run]={run}");

        Assert.Equal(200, status);
        foreach (var recorded in (JsonElement[])[ResponseBody(StoredWork, 4), ResponseBody(UpdateWorks, 1)])
        {
            Assert.Equal(Keys(recorded), Keys(stored));
            Assert.Equal(Keys(recorded.GetProperty("usage")), Keys(stored.GetProperty("usage")));
            Assert.Equal(Keys(recorded.GetProperty("choices")[0]), Keys(stored.GetProperty("choices")[0]));
            AssertStoredMessageKeys(recorded.GetProperty("choices")[0].GetProperty("message"), stored.GetProperty("choices")[0].GetProperty("message"));
            foreach (var name in (string[])["top_p", "temperature", "presence_penalty", "frequency_penalty"])
            {
                Assert.Equal(recorded.GetProperty(name).GetRawText(), stored.GetProperty(name).GetRawText());
            }
        }
        Assert.Equal(["total_tokens", "completion_tokens", "prompt_tokens"], Keys(stored.GetProperty("usage")));
        var message = stored.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("Say this is a test.", message.GetProperty("content").GetString());
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("tool_calls").ValueKind);
        Assert.Equal(JsonValueKind.Null, message.GetProperty("function_call").ValueKind);
        Assert.Equal("stop", stored.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("chat.completion", stored.GetProperty("object").GetString());
        Assert.Equal(Id(created), Id(stored));
        Assert.Equal(created.GetProperty("created").GetInt64(), stored.GetProperty("created").GetInt64());
        Assert.Equal(created.GetProperty("model").GetString(), stored.GetProperty("model").GetString());
        Assert.Equal(requestId, stored.GetProperty("request_id").GetString());
        Assert.True(stored.GetProperty("seed").TryGetInt64(out _));
        foreach (var name in (string[])["tool_choice", "input_user", "tools", "response_format"])
        {
            Assert.Equal(JsonValueKind.Null, stored.GetProperty(name).ValueKind);
        }
        Assert.Equal($$"""{"run":"{{run}}"}""", stored.GetProperty("metadata").GetRawText());
        Assert.Equal(created.GetProperty("usage").GetProperty("total_tokens").GetInt32(), stored.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal(raw, Assert.Single(list.GetProperty("data").EnumerateArray()).GetRawText());
    }

    [Fact]
    public async Task StoredObject_WithoutMetadata_HasAnEmptyMetadataObject()
    {
        var (created, _) = await CreateAsync("\"store\":true,\"messages\":[{\"role\":\"user\",\"content\":\"no metadata\"}]");

        var (_, stored, _) = await GetAsync($"{Completions}/{Id(created)}");

        Assert.Equal("{}", stored.GetProperty("metadata").GetRawText());
    }

    [Fact]
    public async Task Update_ReturnsTheWholeStoredObject_WithTheRecordedKeys_AndTheNewMetadata()
    {
        var run = Guid.NewGuid().ToString("N");
        var (created, _) = await CreateAsync($$"""  "store":true,"metadata":{"run":"{{run}}","k":"initial_value"},"messages":[{"role":"user","content":"update me"}]  """);
        var (_, before, _) = await GetAsync($"{Completions}/{Id(created)}");

        using var response = await server.PostJsonAsync($"{Completions}/{Id(created)}", $$$"""{"metadata":{"run":"{{{run}}}","k":"updated_value","updated_by":"unit_test"}}""");
        var updated = Parse(await response.Content.ReadAsStringAsync());
        var (_, after, _) = await GetAsync($"{Completions}/{Id(created)}");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Keys(ResponseBody(UpdateWorks, 1)), Keys(updated));
        Assert.Equal("updated_value", updated.GetProperty("metadata").GetProperty("k").GetString());
        Assert.Equal("unit_test", updated.GetProperty("metadata").GetProperty("updated_by").GetString());
        Assert.Equal(updated.GetRawText(), after.GetRawText());
        foreach (var property in before.EnumerateObject().Where(p => p.Name != "metadata"))
        {
            Assert.Equal(property.Value.GetRawText(), updated.GetProperty(property.Name).GetRawText());
        }
    }

    [Fact]
    public async Task Messages_HaveTheRecordedItemShape_ContentPartsAndJoinedText()
    {
        var recordedPage = ResponseBody("ChatStoreTests/GetChatCompletionMessagesWithPagination.json", 4);
        var recordedItem = recordedPage.GetProperty("data")[1];
        var recordedImage = recordedItem.GetProperty("content_parts")[1];
        var (created, _) = await CreateAsync("""
            "store":true,"messages":[
              {"role":"system","content":"Be brief."},
              {"role":"user","name":"ann","content":[{"type":"text","text":"Whose logo is this?: "},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
              {"role":"assistant","content":"Nobody's."},
              {"role":"user","content":[{"type":"text","text":"one"},{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}},{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,AAAA"}},{"type":"text","text":"two"}]}]
            """);
        var id = Id(created);

        var (status, page, _) = await GetAsync($"{Completions}/{id}/messages");

        Assert.Equal(200, status);
        Assert.Equal(Keys(recordedPage), Keys(page));
        var items = page.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([$"{id}-0", $"{id}-1", $"{id}-2", $"{id}-3"], items.Select(Id));
        Assert.All(items, item => Assert.Equal(Keys(recordedItem), Keys(item)));
        Assert.Equal(["system", "user", "assistant", "user"], items.Select(i => i.GetProperty("role").GetString()));
        Assert.Equal($"{id}-0", page.GetProperty("first_id").GetString());
        Assert.Equal($"{id}-3", page.GetProperty("last_id").GetString());
        Assert.False(page.GetProperty("has_more").GetBoolean());

        Assert.Equal("Be brief.", items[0].GetProperty("content").GetString());
        Assert.Equal(JsonValueKind.Null, items[0].GetProperty("content_parts").ValueKind);
        Assert.Equal(JsonValueKind.Null, items[0].GetProperty("name").ValueKind);
        Assert.Equal("Nobody's.", items[2].GetProperty("content").GetString());

        // A text part plus an image: the image counts as an empty string, joined by a single space (as recorded).
        Assert.Equal("Whose logo is this?:  ", items[1].GetProperty("content").GetString());
        Assert.Equal("ann", items[1].GetProperty("name").GetString());
        var imageParts = items[1].GetProperty("content_parts").EnumerateArray().ToList();
        Assert.Equal(Compact(recordedItem.GetProperty("content_parts")[0]), imageParts[0].GetRawText());
        Assert.Equal(Keys(recordedImage), Keys(imageParts[1]));
        Assert.Equal(Keys(recordedImage.GetProperty("image_url")), Keys(imageParts[1].GetProperty("image_url")));
        Assert.Equal("data:image/png;base64,iVBORw0KGgo=", imageParts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal(JsonValueKind.Null, imageParts[1].GetProperty("text").ValueKind);

        // Every part carries all five keys, the unused ones null.
        var parts = items[3].GetProperty("content_parts").EnumerateArray().ToList();
        Assert.Equal("one   two", items[3].GetProperty("content").GetString());
        Assert.All(parts, p => Assert.Equal(["type", "text", "image_url", "input_audio", "file"], Keys(p)));
        Assert.Equal(["text", "input_audio", "file", "text"], parts.Select(p => p.GetProperty("type").GetString()));
        Assert.Equal("""{"data":"AAAA","format":"wav"}""", parts[1].GetProperty("input_audio").GetRawText());
        Assert.Equal("a.pdf", parts[2].GetProperty("file").GetProperty("filename").GetString());
        foreach (var (part, used) in parts.Zip((string[])["text", "input_audio", "file", "text"]))
        {
            Assert.All(Keys(part).Where(k => k != "type" && k != used), k => Assert.Equal(JsonValueKind.Null, part.GetProperty(k).ValueKind));
        }
    }

    [Fact]
    public async Task Messages_PageByAfterAndLimit_AndAfterTheLastIdIsTheRecordedEmptyPage()
    {
        var (created, _) = await CreateAsync("""
            "store":true,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"},{"role":"user","content":"d"}]
            """);
        var id = Id(created);

        var (_, first, _) = await GetAsync($"{Completions}/{id}/messages?limit=2");
        var (_, second, _) = await GetAsync($"{Completions}/{id}/messages?after={id}-1&limit=2");
        var (_, descending, _) = await GetAsync($"{Completions}/{id}/messages?order=desc&limit=3");
        var (status, empty, raw) = await GetAsync($"{Completions}/{id}/messages?after={id}-3");

        Assert.Equal([$"{id}-0", $"{id}-1"], first.GetProperty("data").EnumerateArray().Select(Id));
        Assert.True(first.GetProperty("has_more").GetBoolean());
        Assert.Equal($"{id}-1", first.GetProperty("last_id").GetString());
        Assert.Equal([$"{id}-2", $"{id}-3"], second.GetProperty("data").EnumerateArray().Select(Id));
        Assert.False(second.GetProperty("has_more").GetBoolean());
        Assert.Equal([$"{id}-3", $"{id}-2", $"{id}-1"], descending.GetProperty("data").EnumerateArray().Select(Id));
        Assert.True(descending.GetProperty("has_more").GetBoolean());
        Assert.Equal(200, status);
        Assert.Equal(EmptyPage, raw);
        Assert.Equal(0, empty.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Deleted_GetsTheRecordedDeleteBody_ThenTheRecordedNotFoundBodyEverywhere()
    {
        var (created, _) = await CreateAsync("\"store\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Say this is a test.\"}]");
        var id = Id(created);
        const string recordedId = "chatcmpl-CGSbhP05yVK6UddcCirjjbqYBCuqe";
        var deletedBody = Compact(ResponseBody(StoredWork, 5)).Replace(recordedId, id, StringComparison.Ordinal);
        var notFoundBody = Compact(ResponseBody(StoredWork, 6)).Replace(recordedId, id, StringComparison.Ordinal);

        using var delete = await server.Http.DeleteAsync($"{Completions}/{id}");
        var deleteText = await delete.Content.ReadAsStringAsync();
        using var get = await server.Http.GetAsync($"{Completions}/{id}");
        using var messages = await server.Http.GetAsync($"{Completions}/{id}/messages");
        using var update = await server.PostJsonAsync($"{Completions}/{id}", """{"metadata":{"k":"v"}}""");
        using var deleteAgain = await server.Http.DeleteAsync($"{Completions}/{id}");

        Assert.Equal(200, (int)delete.StatusCode);
        Assert.Equal(deletedBody, deleteText);
        Assert.Equal($"Completion {id} not found", Parse(notFoundBody).GetProperty("error").GetProperty("message").GetString());
        foreach (var response in (HttpResponseMessage[])[get, messages, update, deleteAgain])
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(notFoundBody, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task MessagesOfACompletionNeverStored_GetTheRecordedNotFoundBody()
    {
        var recorded = Compact(ResponseBody("ChatTests/GetChatCompletionMessagesHandlesNonExistentCompletion.json", 0));

        using var response = await server.Http.GetAsync($"{Completions}/comp_nonexistent_12345/messages");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(recorded, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CompletionCreatedWithoutStore_IsNotFound()
    {
        var (created, _) = await CreateAsync("\"messages\":[{\"role\":\"user\",\"content\":\"ephemeral\"}]");

        var (status, body, _) = await GetAsync($"{Completions}/{Id(created)}");

        Assert.Equal(404, status);
        Assert.Equal("not_found", body.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task MetadataFilters_AcceptRawAndPercentEncodedBrackets_AndAndTheirKeys()
    {
        var run = Guid.NewGuid().ToString("N");
        var ids = new List<string>();
        foreach (var (color, size) in (ValueTuple<string, string>[])[("red", "big"), ("blue", "small"), ("red", "small")])
        {
            var (created, _) = await CreateAsync($$"""  "store":true,"metadata":{"run":"{{run}}","color":"{{color}}","size":"{{size}}"},"messages":[{"role":"user","content":"{{color}} {{size}}"}]  """);
            ids.Add(Id(created));
        }
        var rawUrl = $"{Completions}?metadata[run]={run}";
        Assert.Contains("?metadata[run]=", new Uri(server.BaseUrl, rawUrl).PathAndQuery, StringComparison.Ordinal);

        var raw = await ListIdsAsync(rawUrl);
        var encoded = await ListIdsAsync($"{Completions}?metadata%5Brun%5D={run}");
        var redRaw = await ListIdsAsync($"{Completions}?metadata[run]={run}&metadata[color]=red");
        var redEncoded = await ListIdsAsync($"{Completions}?metadata%5Brun%5D={run}&metadata%5Bcolor%5D=red&order=asc");
        var redSmall = await ListIdsAsync($"{Completions}?metadata%5Bcolor%5D=red&metadata[size]=small&metadata%5Brun%5D={run}");
        var (_, _, none) = await GetAsync($"{Completions}?metadata[run]={run}&metadata[color]=green");

        Assert.Equal([ids[2], ids[1], ids[0]], raw); // newest first when no order is given, as live
        Assert.Equal(raw, encoded);
        Assert.Equal([ids[2], ids[0]], redRaw);
        Assert.Equal([ids[0], ids[2]], redEncoded);
        Assert.Equal([ids[2]], redSmall);
        Assert.Equal(EmptyPage, none);
    }

    [Fact]
    public async Task List_PagesWithLimitAndAfter_LastIdIsTheLastItem_HasMoreIsExact()
    {
        var run = Guid.NewGuid().ToString("N");
        for (var i = 0; i < 3; i++)
        {
            await CreateAsync($$"""  "store":true,"metadata":{"run":"{{run}}"},"messages":[{"role":"user","content":"page {{i}}"}]  """);
        }

        var (_, first, _) = await GetAsync($"{Completions}?metadata[run]={run}&limit=2");
        var lastId = first.GetProperty("last_id").GetString();
        var (_, second, _) = await GetAsync($"{Completions}?metadata[run]={run}&limit=2&after={lastId}");

        Assert.Equal(["object", "data", "first_id", "last_id", "has_more"], Keys(first));
        Assert.Equal(2, first.GetProperty("data").GetArrayLength());
        Assert.True(first.GetProperty("has_more").GetBoolean());
        Assert.Equal(Id(first.GetProperty("data")[0]), first.GetProperty("first_id").GetString());
        Assert.Equal(Id(first.GetProperty("data")[1]), lastId);
        Assert.Equal(1, second.GetProperty("data").GetArrayLength());
        Assert.False(second.GetProperty("has_more").GetBoolean());
        Assert.Equal(second.GetProperty("first_id").GetString(), second.GetProperty("last_id").GetString());
    }

    // ---- Helpers ----

    /// <summary>The stored message keeps the recorded keys in order; <c>refusal: null</c> may be added (spec-valid, see spec §5).</summary>
    private static void AssertStoredMessageKeys(JsonElement recorded, JsonElement actual)
    {
        Assert.Equal(Keys(recorded), Keys(actual).Where(k => k != "refusal"));
        if (actual.TryGetProperty("refusal", out var refusal))
        {
            Assert.Equal(JsonValueKind.Null, refusal.ValueKind);
        }
    }

    private async Task<(JsonElement Body, string RequestId)> CreateAsync(string fields)
    {
        using var response = await server.PostJsonAsync(Completions, $$"""{"model":"echo",{{fields}}}""");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (Parse(text), Single(response, "x-request-id"));
    }

    private async Task<(int Status, JsonElement Body, string Raw)> GetAsync(string url)
    {
        using var response = await server.Http.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return ((int)response.StatusCode, Parse(text), text);
    }

    private async Task<List<string>> ListIdsAsync(string url)
    {
        var (status, page, raw) = await GetAsync(url);
        Assert.True(status == 200, raw);
        Assert.False(page.GetProperty("has_more").GetBoolean());
        return page.GetProperty("data").EnumerateArray().Select(Id).ToList();
    }

    /// <summary>POSTs a streaming request and reads the whole raw body as it arrives.</summary>
    private async Task<(int Status, string? MediaType, string Raw)> StreamAsync(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Completions)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var raw = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, raw);
    }

    /// <summary>Checks the SSE framing of <paramref name="raw"/> and returns its JSON chunks, [DONE] excluded.</summary>
    private static List<JsonElement> Chunks(string raw)
    {
        Assert.Matches(SseEvents(), raw);
        Assert.EndsWith("\n\ndata: [DONE]\n\n", raw, StringComparison.Ordinal);
        var events = raw.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Single(events, e => e == "[DONE]");
        return events[..^1].Select(e =>
        {
            var chunk = Parse(e);
            Assert.Equal(JsonValueKind.Object, chunk.ValueKind);
            return chunk;
        }).ToList();
    }

    /// <summary>The chunks of the recorded live stream (gpt-4o-mini, include_usage true), [DONE] excluded.</summary>
    private static List<JsonElement> RecordedStream() =>
        ResponseBody("ChatTests/StreamingWithIncludeUsage_TokenLogProbabilitiesStreamingFalse.json", 0).EnumerateArray()
            .Select(e => e.GetString()!.TrimEnd('\n')["data: ".Length..])
            .Where(e => e != "[DONE]")
            .Select(Parse)
            .ToList();

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : []);

    private static string Id(JsonElement element) => element.GetProperty("id").GetString()!;

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>A recorded body re-serialized compactly, key order kept: the bytes a faithful server sends.</summary>
    private static string Compact(JsonElement element) => JsonSerializer.Serialize(element);
}
