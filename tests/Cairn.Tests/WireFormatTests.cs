using System.Net.Http.Headers;
using System.Text.Json;
using Cairn.Tests.Infrastructure;
using static Cairn.Tests.Infrastructure.Recordings;

namespace Cairn.Tests;

/// <summary>Bytes on the wire, checked against real OpenAI traffic: shapes, key order, SSE framing, headers.</summary>
public sealed class WireFormatTests(CairnServer server) : IClassFixture<CairnServer>
{
    private async Task<JsonElement> CreateAsync(string fields)
    {
        using var response = await server.PostJsonAsync("/v1/chat/completions", $$"""{"model":"echo",{{fields}}}""");
        Assert.Equal(200, (int)response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task<JsonElement> GetJsonAsync(string url)
    {
        using var response = await server.Http.GetAsync(url);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task CreateResponse_HasTheRecordedKeysInOrder()
    {
        var recorded = ResponseBody("ChatStoreTests/StoredChatCompletionsWork.json", 0);

        var created = await CreateAsync("""  "messages":[{"role":"user","content":"shape"}]  """);

        Assert.Equal(Keys(recorded), Keys(created));
        Assert.Equal(Keys(recorded.GetProperty("choices")[0]), Keys(created.GetProperty("choices")[0]));
        Assert.Equal(Keys(recorded.GetProperty("choices")[0].GetProperty("message")), Keys(created.GetProperty("choices")[0].GetProperty("message")));
        Assert.Equal(Keys(recorded.GetProperty("usage")), Keys(created.GetProperty("usage")));
        Assert.Matches("^chatcmpl-[0-9A-Za-z]{29}$", created.GetProperty("id").GetString());
    }

    [Fact]
    public async Task StoredObject_HasTheRecordedShape_NotTheCreateShape()
    {
        var recorded = ResponseBody("ChatStoreTests/StoredChatCompletionsWork.json", 4);
        var created = await CreateAsync("""  "store":true,"messages":[{"role":"user","content":"stored shape"}]  """);

        var stored = await GetJsonAsync($"/v1/chat/completions/{created.GetProperty("id").GetString()}");

        Assert.Equal(Keys(recorded), Keys(stored));
        Assert.Equal(Keys(recorded.GetProperty("usage")), Keys(stored.GetProperty("usage")));
        Assert.Equal(Keys(recorded.GetProperty("choices")[0]), Keys(stored.GetProperty("choices")[0]));
        var message = stored.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("stored shape", message.GetProperty("content").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("tool_calls").ValueKind);
        Assert.Equal(JsonValueKind.Null, message.GetProperty("function_call").ValueKind);
        Assert.Equal(JsonValueKind.Object, stored.GetProperty("metadata").ValueKind);
        Assert.Empty(stored.GetProperty("metadata").EnumerateObject());
        Assert.Matches("^req_[0-9a-f]{32}$", stored.GetProperty("request_id").GetString());
        Assert.Equal(1.0, stored.GetProperty("temperature").GetDouble());
    }

    [Fact]
    public async Task DeletedCompletion_GetsTheRecordedNotFoundBody()
    {
        var created = await CreateAsync("""  "store":true,"messages":[{"role":"user","content":"bye"}]  """);
        var id = created.GetProperty("id").GetString();
        var recorded = ResponseBody("ChatStoreTests/StoredChatCompletionsWork.json", 6).GetRawText()
            .Replace("chatcmpl-CGSbhP05yVK6UddcCirjjbqYBCuqe", id, StringComparison.Ordinal);

        var deleted = await server.Http.DeleteAsync($"/v1/chat/completions/{id}");
        using var gone = await server.Http.GetAsync($"/v1/chat/completions/{id}");

        Assert.Equal("""{"object":"chat.completion.deleted","id":"ID","deleted":true}""".Replace("ID", id, StringComparison.Ordinal), await deleted.Content.ReadAsStringAsync());
        Assert.Equal(404, (int)gone.StatusCode);
        // Compact re-serialization of the recorded body: the same bytes, key order included.
        Assert.Equal(JsonSerializer.Serialize(JsonDocument.Parse(recorded).RootElement), await gone.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Messages_ListTheInput_WithContentPartsLikeOpenAI()
    {
        var created = await CreateAsync("""
            "store":true,"messages":[
              {"role":"system","content":"sys"},
              {"role":"user","name":"ann","content":[{"type":"text","text":"Whose logo is this?:"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]
            """);
        var id = created.GetProperty("id").GetString();

        var page = await GetJsonAsync($"/v1/chat/completions/{id}/messages");
        var after = await GetJsonAsync($"/v1/chat/completions/{id}/messages?after={id}-1");

        Assert.Equal(["object", "data", "first_id", "last_id", "has_more"], Keys(page));
        var items = page.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(["id", "role", "content", "content_parts", "name"], Keys(items[0]));
        Assert.Equal($"{id}-0", items[0].GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, items[0].GetProperty("content_parts").ValueKind);
        Assert.Equal("Whose logo is this?: ", items[1].GetProperty("content").GetString());
        Assert.Equal("ann", items[1].GetProperty("name").GetString());
        var parts = items[1].GetProperty("content_parts").EnumerateArray().ToList();
        Assert.All(parts, p => Assert.Equal(["type", "text", "image_url", "input_audio", "file"], Keys(p)));
        Assert.Equal("data:image/png;base64,AAAA", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal($"{id}-1", page.GetProperty("last_id").GetString());
        Assert.False(page.GetProperty("has_more").GetBoolean());
        Assert.Equal("""{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}""", after.GetRawText());
    }

    [Fact]
    public async Task MetadataFilter_AcceptsRawAndPercentEncodedBrackets_AndAndsKeys()
    {
        var run = Guid.NewGuid().ToString("N");
        var both = await CreateAsync($$"""  "store":true,"metadata":{"run":"{{run}}","kind":"a b"},"messages":[{"role":"user","content":"1"}]  """);
        await CreateAsync($$"""  "store":true,"metadata":{"run":"{{run}}","kind":"other"},"messages":[{"role":"user","content":"2"}]  """);

        var raw = await GetJsonAsync($"/v1/chat/completions?metadata[run]={run}");
        var encoded = await GetJsonAsync($"/v1/chat/completions?metadata%5Brun%5D={run}&metadata%5Bkind%5D=a%20b");

        Assert.Equal(2, raw.GetProperty("data").GetArrayLength());
        Assert.Equal(both.GetProperty("id").GetString(), encoded.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(1, encoded.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Streaming_IsDataLinesOnly_EndingWithDone_UsageChunkLast()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"echo","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Stream me, please."}]}"""),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.Matches("^data: [^\n]+$", e));
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.Single(chunks.Select(c => (c.GetProperty("id").GetString(), c.GetProperty("created").GetInt64(), c.GetProperty("model").GetString())).Distinct());
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("""{"role":"assistant","content":"","refusal":null}""", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetRawText());
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        var finish = chunks[^2].GetProperty("choices")[0];
        Assert.Equal("{}", finish.GetProperty("delta").GetRawText());
        Assert.Equal("stop", finish.GetProperty("finish_reason").GetString());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        var usage = chunks[^1].GetProperty("usage");
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
        var text = string.Concat(chunks[1..^2].Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()));
        Assert.Equal("Stream me, please.", text);
    }

    [Fact]
    public async Task Streaming_WithoutIncludeUsage_HasNoUsageKey_AndNChoicesEachFinish()
    {
        using var response = await server.PostJsonAsync("/v1/chat/completions", """{"model":"echo","stream":true,"n":2,"messages":[{"role":"user","content":"twice"}]}""");
        var body = await response.Content.ReadAsStringAsync();

        var chunks = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[..^1]
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
        var finishes = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Where(c => c.GetProperty("finish_reason").ValueKind == JsonValueKind.String)
            .Select(c => c.GetProperty("index").GetInt32()).Order().ToList();
        Assert.Equal([0, 1], finishes);
    }

    [Fact]
    public async Task EveryResponse_HasARequestId_AndSuccessesHaveProcessingMs()
    {
        using var ok = await server.Http.GetAsync("/v1/models");
        using var missing = await server.Http.GetAsync("/v1/chat/completions/chatcmpl-nope");
        using var health = await server.Http.GetAsync("/health");

        foreach (var response in new[] { ok, missing, health })
        {
            Assert.Matches("^req_[0-9a-f]{32}$", response.Headers.GetValues("x-request-id").Single());
        }
        Assert.True(long.TryParse(ok.Headers.GetValues("openai-processing-ms").Single(), out _));
        Assert.Equal("application/json", health.Content.Headers.ContentType?.MediaType);
    }
}
