using System.Text.Json;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// Requests, chat answers and comparisons for the Responses API's writers, built from recorded OpenAI traffic: a
/// request is filled from its body field by field, as the parser would give it, so the writers are tested on their own.
/// </summary>
internal static class ResponseFixtures
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Recordings", "openai-dotnet");

    /// <summary>Entry <paramref name="index"/> of a recording, e.g. ("ResponsesTests/MaxTokens.json", 0).</summary>
    public static JsonElement Entry(string file, int index)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, file)));
        return document.RootElement.GetProperty("Entries")[index].Clone();
    }

    /// <summary>The request a body stands for, the fields the response echoes read from it (defaults where absent).</summary>
    public static ResponseRequest Request(string body)
    {
        var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        JsonElement? Get(JsonElement obj, string name) => obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
        var input = Get(root, "input");
        return new ResponseRequest(document)
        {
            Model = Get(root, "model")!.Value.GetString()!,
            Input = input is { ValueKind: JsonValueKind.Array } items ? [.. items.EnumerateArray()] : [],
            InputText = input is { ValueKind: JsonValueKind.String } text ? text.GetString() : null,
            Instructions = Get(root, "instructions")?.GetString(),
            PreviousResponseId = Get(root, "previous_response_id")?.GetString(),
            Store = Get(root, "store")?.GetBoolean() ?? true,
            Background = Get(root, "background")?.GetBoolean() ?? false,
            Stream = Get(root, "stream")?.GetBoolean() ?? false,
            IncludeObfuscation = Get(root, "stream_options") is { } options && Get(options, "include_obfuscation") is { } obfuscation ? obfuscation.GetBoolean() : true,
            Tools = Get(root, "tools"),
            ToolChoice = Get(root, "tool_choice"),
            ParallelToolCalls = Get(root, "parallel_tool_calls")?.GetBoolean() ?? true,
            TextFormat = Get(root, "text") is { } textOptions ? Get(textOptions, "format") : null,
            MaxOutputTokens = Get(root, "max_output_tokens")?.GetInt32(),
            Temperature = Get(root, "temperature")?.GetDouble(),
            TopP = Get(root, "top_p")?.GetDouble(),
            Reasoning = Get(root, "reasoning"),
            Metadata = Get(root, "metadata") is { } metadata
                ? metadata.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)
                : ChatCompletionRequest.EmptyMetadata,
            User = Get(root, "user")?.GetString(),
            ServiceTier = Get(root, "service_tier")?.GetString(),
            Given = root.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null).ToDictionary(p => p.Name, p => p.Value),
        };
    }

    /// <summary>A chat answer with one choice.</summary>
    public static ChatCompletion Completion(string model, string? content, string finishReason, CompletionUsage? usage = null,
        string? refusal = null, IReadOnlyList<ChatCompletionMessageToolCall>? calls = null) => new()
        {
            Model = model,
            Usage = usage,
            Choices = [new() { FinishReason = finishReason, Message = new() { Content = content, Refusal = refusal, ToolCalls = calls } }],
        };

    public static ChatCompletionMessageToolCall Call(string? id, string name, string arguments) => new() { Id = id, Function = new() { Name = name, Arguments = arguments } };

    /// <summary>Chat usage with the details OpenAI adds: <c>prompt_tokens_details.cached_tokens</c>, <c>completion_tokens_details.reasoning_tokens</c>.</summary>
    public static CompletionUsage Usage(long prompt, long completion, long cached = 0, long reasoning = 0) => new()
    {
        PromptTokens = prompt,
        CompletionTokens = completion,
        TotalTokens = prompt + completion,
        AdditionalProperties = new()
        {
            ["prompt_tokens_details"] = JsonElement.Parse($$"""{"cached_tokens":{{cached}},"audio_tokens":0}"""),
            ["completion_tokens_details"] = JsonElement.Parse($$"""{"reasoning_tokens":{{reasoning}},"audio_tokens":0}"""),
        },
    };

    /// <summary>The chat answer a recorded response stands for: its message text, its function calls, its status and usage.</summary>
    public static ChatCompletion CompletionFor(JsonElement recorded)
    {
        string? text = null;
        var calls = new List<ChatCompletionMessageToolCall>();
        foreach (var item in recorded.GetProperty("output").EnumerateArray())
        {
            if (item.GetProperty("type").GetString() == "message")
            {
                text = item.GetProperty("content")[0].GetProperty("text").GetString();
            }
            else
            {
                calls.Add(Call(item.GetProperty("call_id").GetString(), item.GetProperty("name").GetString()!, item.GetProperty("arguments").GetString()!));
            }
        }
        var usage = recorded.GetProperty("usage");
        var finish = recorded.GetProperty("status").GetString() == "incomplete" ? FinishReasons.Length : calls.Count > 0 ? FinishReasons.ToolCalls : FinishReasons.Stop;
        return Completion(recorded.GetProperty("model").GetString()!, text, finish,
            Usage(usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("output_tokens").GetInt64(),
                usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt64(),
                usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt64()),
            calls: calls.Count > 0 ? calls : null);
    }

    /// <summary>The id of the recorded response's message item, or a fresh one when it has none.</summary>
    public static string MessageId(JsonElement recorded, string responseId) =>
        recorded.GetProperty("output").EnumerateArray().FirstOrDefault(i => i.GetProperty("type").GetString() == "message") is { ValueKind: JsonValueKind.Object } message
            ? message.GetProperty("id").GetString()!
            : Ids.Item("msg", responseId);

    /// <summary>
    /// Asserts <paramref name="actual"/> is <paramref name="expected"/> key for key, in order, value for value (numbers
    /// as written: <c>1.0</c> is not <c>1</c>; strings by value, whatever their escaping), except that <paramref name="added"/> paths may be in
    /// <paramref name="actual"/> too, and values at <paramref name="ignored"/> paths may differ.
    /// </summary>
    public static void AssertLike(JsonElement expected, JsonElement actual, IReadOnlySet<string> added, Func<string, bool> ignored, string path = "")
    {
        if (ignored(path))
        {
            return;
        }
        Assert.True(expected.ValueKind == actual.ValueKind, $"{path}: expected {expected.ValueKind}, got {actual.ValueKind}");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var keys = string.Join(",", actual.EnumerateObject().Select(p => p.Name).Where(k => expected.TryGetProperty(k, out _) || !added.Contains(Join(path, k))));
                var expectedKeys = string.Join(",", expected.EnumerateObject().Select(p => p.Name));
                Assert.True(expectedKeys == keys, $"{path}: expected keys {expectedKeys}, got {keys}");
                foreach (var property in expected.EnumerateObject())
                {
                    AssertLike(property.Value, actual.GetProperty(property.Name), added, ignored, Join(path, property.Name));
                }
                break;
            case JsonValueKind.Array:
                Assert.True(expected.GetArrayLength() == actual.GetArrayLength(), $"{path}: expected {expected.GetArrayLength()} elements, got {actual.GetArrayLength()}");
                for (var i = 0; i < expected.GetArrayLength(); i++)
                {
                    AssertLike(expected[i], actual[i], added, ignored, $"{path}[{i}]");
                }
                break;
            case JsonValueKind.String:
                Assert.True(expected.GetString() == actual.GetString(), $"{path}: expected {expected.GetString()}, got {actual.GetString()}");
                break;
            default:
                Assert.True(expected.GetRawText() == actual.GetRawText(), $"{path}: expected {expected.GetRawText()}, got {actual.GetRawText()}");
                break;
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
