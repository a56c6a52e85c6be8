using System.Net;
using System.Text.Json;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>Malformed requests get OpenAI's error envelope with the right status, param and code; never a 500.</summary>
public sealed class RequestValidationTests(CairnServer server) : IClassFixture<CairnServer>
{
    private const string User = """[{"role":"user","content":"hi"}]""";

    private static string With(string fields) => $$"""{"model":"echo","messages":{{User}},{{fields}}}""";

    public static TheoryData<string, int, string?, string> BadBodies => new()
    {
        { "{not json", 400, null, "invalid_json" },
        { "[1,2]", 400, null, "invalid_type" },
        { """{"messages":[{"role":"user","content":"x"}]}""", 400, "model", "missing_required_parameter" },
        { """{"model":"echo"}""", 400, "messages", "missing_required_parameter" },
        { """{"model":"echo","messages":[]}""", 400, "messages", "empty_array" },
        { """{"model":"echo","messages":"hi"}""", 400, "messages", "invalid_type" },
        { """{"model":7,"messages":[{"role":"user","content":"x"}]}""", 400, "model", "invalid_type" },
        { """{"model":"echo","messages":[{"role":"user","content":"x"},{"role":"robot","content":"y"}]}""", 400, "messages[1].role", "invalid_value" },
        { """{"model":"echo","messages":[{"content":"x"}]}""", 400, "messages[0].role", "missing_required_parameter" },
        { """{"model":"echo","messages":[{"role":"user"}]}""", 400, "messages[0].content", "missing_required_parameter" },
        { """{"model":"echo","messages":[{"role":"user","content":5}]}""", 400, "messages[0].content", "invalid_type" },
        { """{"model":"echo","messages":[{"role":"user","content":[]}]}""", 400, "messages[0].content", "empty_array" },
        { """{"model":"echo","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}""", 400, "messages[0].content[0].type", "invalid_value" },
        { """{"model":"echo","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"max"}}]}]}""", 400, "messages[0].content[0].image_url.detail", "invalid_value" },
        { """{"model":"echo","messages":[{"role":"user","content":[{"type":"image_url"}]}]}""", 400, "messages[0].content[0].image_url", "missing_required_parameter" },
        { """{"model":"echo","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"ogg"}}]}]}""", 400, "messages[0].content[0].input_audio.format", "invalid_value" },
        { """{"model":"echo","messages":[{"role":"user","content":[{"type":"text","text":"a","color":"red"}]}]}""", 400, "messages[0].content[0].color", "unknown_parameter" },
        { """{"model":"echo","messages":[{"role":"tool","content":"42"}]}""", 400, "messages[0].tool_call_id", "missing_required_parameter" },
        { """{"model":"echo","messages":[{"role":"assistant"}]}""", 400, "messages[0].content", "missing_required_parameter" },
        { """{"model":"echo","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f"}}]}]}""", 400, "messages[0].tool_calls[0].function.arguments", "missing_required_parameter" },
        { """{"model":"echo","messages":[{"role":"user","content":"x","mood":"happy"}]}""", 400, "messages[0].mood", "unknown_parameter" },
        { With("\"temperature\":\"hot\""), 400, "temperature", "invalid_type" },
        { With("\"temperature\":2.5"), 400, "temperature", "decimal_above_max_value" },
        { With("\"top_p\":-0.1"), 400, "top_p", "decimal_below_min_value" },
        { With("\"frequency_penalty\":3"), 400, "frequency_penalty", "decimal_above_max_value" },
        { With("\"presence_penalty\":-2.01"), 400, "presence_penalty", "decimal_below_min_value" },
        { With("\"n\":0"), 400, "n", "integer_below_min_value" },
        { With("\"n\":129"), 400, "n", "integer_above_max_value" },
        { With("\"n\":1.5"), 400, "n", "invalid_type" },
        { With("\"max_tokens\":0"), 400, "max_tokens", "integer_below_min_value" },
        { With("\"max_completion_tokens\":\"10\""), 400, "max_completion_tokens", "invalid_type" },
        { With("\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), 400, "stop", "array_above_max_length" },
        { With("\"stop\":[\"a\",1]"), 400, "stop[1]", "invalid_type" },
        { With("\"stop\":7"), 400, "stop", "invalid_type" },
        { With("\"stream_options\":{\"include_usage\":true}"), 400, "stream_options", "invalid_value" },
        { With("\"stream\":true,\"stream_options\":{\"include_usage\":\"yes\"}"), 400, "stream_options.include_usage", "invalid_type" },
        { With("\"stream\":\"true\""), 400, "stream", "invalid_type" },
        { With("\"store\":1"), 400, "store", "invalid_type" },
        { With("\"top_logprobs\":3"), 400, "top_logprobs", "invalid_value" },
        { With("\"logprobs\":true,\"top_logprobs\":21"), 400, "top_logprobs", "integer_above_max_value" },
        { With("\"seed\":1.5"), 400, "seed", "invalid_type" },
        { With("\"metadata\":" + Metadata(17)), 400, "metadata", "object_above_max_properties" },
        { With("\"metadata\":{\"" + new string('k', 65) + "\":\"v\"}"), 400, "metadata." + new string('k', 65), "string_above_max_length" },
        { With("\"metadata\":{\"k\":\"" + new string('v', 513) + "\"}"), 400, "metadata.k", "string_above_max_length" },
        { With("\"metadata\":{\"k\":1}"), 400, "metadata.k", "invalid_type" },
        { With("\"metadata\":[\"k\"]"), 400, "metadata", "invalid_type" },
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"bad name!\"}}]"), 400, "tools[0].function.name", "invalid_value" },
        { With("\"tools\":[{\"type\":\"plugin\",\"plugin\":{}}]"), 400, "tools[0].type", "invalid_value" },
        { With("\"tools\":[{\"type\":\"function\"}]"), 400, "tools[0].function", "missing_required_parameter" },
        { With("\"tool_choice\":\"auto\""), 400, "tool_choice", "invalid_value" },
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}"), 400, "tool_choice.function.name", "invalid_value" },
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"sometimes\""), 400, "tool_choice", "invalid_value" },
        { With("\"response_format\":{\"type\":\"yaml\"}"), 400, "response_format.type", "invalid_value" },
        { With("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{}}}"), 400, "response_format.json_schema.name", "missing_required_parameter" },
        { With("\"logit_bias\":{\"50256\":101}"), 400, "logit_bias.50256", "integer_above_max_value" },
        { With("\"service_tier\":\"gold\""), 400, "service_tier", "invalid_value" },
        { With("\"reasoning_effort\":\"extreme\""), 400, "reasoning_effort", "invalid_value" },
        { With("\"verbosity\":\"loud\""), 400, "verbosity", "invalid_value" },
        { With("\"modalities\":[\"text\",\"audio\"]"), 400, "audio", "missing_required_parameter" },
        { With("\"safety_identifier\":\"" + new string('s', 65) + "\""), 400, "safety_identifier", "string_above_max_length" },
        { With("\"prediction\":{\"type\":\"content\"}"), 400, "prediction.content", "missing_required_parameter" },
        { With("\"top_k\":40"), 400, "top_k", "unknown_parameter" },
        { With("\"logprobs\":true"), 400, "logprobs", "unsupported_parameter" },
        { With("\"response_format\":{\"type\":\"json_object\"}"), 400, "response_format", "unsupported_parameter" },
        { With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"required\""), 400, "tool_choice", "unsupported_parameter" },
        { """{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}""", 404, "model", "model_not_found" },
    };

    private static string Metadata(int pairs) =>
        "{" + string.Join(",", Enumerable.Range(0, pairs).Select(i => $"\"k{i}\":\"v\"")) + "}";

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task MalformedCreate_GetsTheErrorEnvelope_NamingTheParameter(string body, int status, string? param, string code)
    {
        using var response = await server.PostJsonAsync("/v1/chat/completions", body);

        await AssertErrorAsync(response, status, param, code);
    }

    [Fact]
    public async Task WrongContentType_Is415()
    {
        using var response = await server.Http.PostAsync("/v1/chat/completions", new StringContent("model=echo"));

        await AssertErrorAsync(response, 415, null, "unsupported_media_type");
    }

    [Fact]
    public async Task EmptyBody_Is400()
    {
        using var response = await server.PostJsonAsync("/v1/chat/completions", "");

        await AssertErrorAsync(response, 400, null, "invalid_json");
    }

    [Fact]
    public async Task BodyOverTheLimit_Is413()
    {
        var big = With($"\"user\":\"{new string('x', 33 * 1024 * 1024)}\"");

        using var response = await server.PostJsonAsync("/v1/chat/completions", big);

        await AssertErrorAsync(response, 413, null, "request_too_large");
    }

    [Theory]
    [InlineData("/v1/chat/completions?limit=0", "limit", "integer_below_min_value")]
    [InlineData("/v1/chat/completions?limit=101", "limit", "integer_above_max_value")]
    [InlineData("/v1/chat/completions?limit=abc", "limit", "invalid_type")]
    [InlineData("/v1/chat/completions?order=up", "order", "invalid_value")]
    [InlineData("/v1/chat/completions?after=chatcmpl-unknown", "after", "invalid_value")]
    public async Task BadListQuery_Is400_NamingTheParameter(string url, string param, string code)
    {
        using var response = await server.Http.GetAsync(url);

        await AssertErrorAsync(response, 400, param, code);
    }

    [Fact]
    public async Task BadMessagesCursor_Is400()
    {
        using var created = await server.PostJsonAsync("/v1/chat/completions", With("\"store\":true"));
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        using var response = await server.Http.GetAsync($"/v1/chat/completions/{id}/messages?after=garbage");

        await AssertErrorAsync(response, 400, "after", "invalid_value");
    }

    [Theory]
    [InlineData("{}", "metadata", "missing_required_parameter")]
    [InlineData("""{"metadata":{"k":2}}""", "metadata.k", "invalid_type")]
    [InlineData("""{"metadata":{},"model":"x"}""", "model", "unknown_parameter")]
    public async Task BadUpdate_Is400_NamingTheParameter(string body, string param, string code)
    {
        using var created = await server.PostJsonAsync("/v1/chat/completions", With("\"store\":true"));
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        using var response = await server.PostJsonAsync($"/v1/chat/completions/{id}", body);

        await AssertErrorAsync(response, 400, param, code);
    }

    [Fact]
    public async Task UnknownRoute_And_WrongMethod_GetEnvelopes()
    {
        using var unknown = await server.Http.GetAsync("/v1/no/such/thing");
        using var wrongMethod = await server.Http.PutAsync("/v1/chat/completions", new StringContent("{}"));

        await AssertErrorAsync(unknown, 404, null, "unknown_url");
        await AssertErrorAsync(wrongMethod, 405, null, "method_not_allowed");
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, int status, string? param, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Matches("^req_[0-9a-f]{32}$", response.Headers.GetValues("x-request-id").Single());
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal(["error"], root.EnumerateObject().Select(p => p.Name));
        var error = root.GetProperty("error");
        Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").ValueKind == JsonValueKind.Null ? null : error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }
}
