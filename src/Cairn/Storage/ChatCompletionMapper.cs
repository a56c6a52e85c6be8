using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Cairn.OpenAI;

namespace Cairn.Storage;

/// <summary>
/// Makes the stored completion (<see cref="ChatCompletion"/>) from what answered: a local backend's
/// <see cref="ChatOutcome"/>, or an upstream's completion (its non-streaming response, or one assembled from its
/// stream). The request gives both the same parameters, metadata and defaults.
/// </summary>
internal static class ChatCompletionMapper
{
    public static ChatCompletion FromOutcome(string id, string requestId, long created, ChatCompletionRequest request, ChatOutcome outcome) =>
        FromRequest(id, requestId, created, request) with
        {
            Model = outcome.Model,
            Usage = Totals(outcome.Usage),
            Seed = request.Seed ?? outcome.Seed ?? Ids.Seed(),
            SystemFingerprint = outcome.SystemFingerprint,
            ServiceTier = "default",
            Choices = [.. outcome.Choices.Select(LocalChoice)],
        };

    /// <summary>
    /// The upstream's choices, usage (or <paramref name="countedUsage"/> when it gave none), fingerprint and tier,
    /// and a <c>cairn</c> origin. Fields of the upstream's answer that carry a value Cairn does not model (say a
    /// message's <c>reasoning_content</c>) are kept; empty lists and nulls are left out, so a streamed and a whole
    /// answer store alike.
    /// </summary>
    public static ChatCompletion FromUpstream(
        string id, string requestId, long created, ChatCompletionRequest request, JsonElement completion, ProxyRecord origin, ChatUsage? countedUsage) =>
        FromRequest(id, requestId, created, request) with
        {
            Model = String(completion, "model") ?? origin.UpstreamModel,
            Usage = countedUsage is { } counted ? Totals(counted) : UpstreamUsage(JsonCheck.Get(completion, "usage")),
            Seed = request.Seed ?? Ids.Seed(),
            SystemFingerprint = String(completion, "system_fingerprint"),
            ServiceTier = String(completion, "service_tier") ?? "default",
            Choices = JsonCheck.Get(completion, "choices") is { ValueKind: JsonValueKind.Array } choices
                ? [.. choices.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.Object).Select(UpstreamChoice)]
                : [],
            Origin = new CairnOrigin
            {
                Provider = origin.Provider,
                Deployment = origin.Deployment,
                UpstreamModel = origin.UpstreamModel,
                UpstreamId = String(completion, "id"),
                UsageSource = countedUsage is null ? UsageSources.Upstream : UsageSources.Counted,
                UsageTokenizer = countedUsage is null ? null : origin.Tokenizer,
            },
        };

    private static ChatCompletion FromRequest(string id, string requestId, long created, ChatCompletionRequest request) => new()
    {
        Id = id,
        Created = created,
        RequestId = requestId,
        ToolChoice = request.ToolChoice,
        TopP = request.TopP ?? 1.0,
        Temperature = request.Temperature ?? 1.0,
        PresencePenalty = request.PresencePenalty ?? 0.0,
        FrequencyPenalty = request.FrequencyPenalty ?? 0.0,
        InputUser = request.User,
        Tools = request.Tools,
        Metadata = request.Metadata,
        ResponseFormat = request.ResponseFormat,
    };

    private static CompletionUsage Totals(ChatUsage usage) =>
        new() { TotalTokens = usage.TotalTokens, CompletionTokens = usage.CompletionTokens, PromptTokens = usage.PromptTokens };

    private static ChatCompletionChoice LocalChoice(ChatChoice choice) => new()
    {
        Index = choice.Index,
        Message = new ChatCompletionMessage
        {
            Content = choice.Content,
            ToolCalls = choice.ToolCalls is { Count: > 0 } calls
                ? [.. calls.Select(c => new ChatCompletionMessageToolCall { Id = c.Id, Function = new() { Name = c.Name, Arguments = c.Arguments } })]
                : null,
        },
        FinishReason = choice.FinishReason,
        Logprobs = choice.Logprobs is { } logprobs ? new ChatCompletionLogprobs { Content = [.. logprobs.Select(LocalLogprob)] } : null,
    };

    private static ChatCompletionTokenLogprob LocalLogprob(ChatLogprob entry) => new()
    {
        Token = entry.Token,
        Logprob = Widen(entry.Logprob),
        Bytes = [.. entry.Bytes.Select(b => (int)b)],
        TopLogprobs = [.. entry.TopLogprobs.Select(top => new TopLogprob { Token = top.Token, Logprob = Widen(top.Logprob), Bytes = [.. top.Bytes.Select(b => (int)b)] })],
    };

    /// <summary>The double that prints as the float does (<c>-0.1f</c> as <c>-0.1</c>, not <c>-0.10000000149011612</c>).</summary>
    private static double Widen(float value) => double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>The upstream's usage: its three counts when they are whole numbers, then whatever details it added.</summary>
    private static CompletionUsage UpstreamUsage(JsonElement? given)
    {
        if (given is not { ValueKind: JsonValueKind.Object } usage)
        {
            return Totals(default);
        }
        Dictionary<string, JsonElement>? details = null;
        foreach (var property in usage.EnumerateObject())
        {
            if (property.Name is not ("total_tokens" or "completion_tokens" or "prompt_tokens"))
            {
                (details ??= new(StringComparer.Ordinal))[property.Name] = property.Value;
            }
        }
        return new CompletionUsage
        {
            TotalTokens = Count(usage, "total_tokens"),
            CompletionTokens = Count(usage, "completion_tokens"),
            PromptTokens = Count(usage, "prompt_tokens"),
            AdditionalProperties = details,
        };
    }

    private static readonly string[] KnownMessageKeys = ["content", "refusal", "role", "tool_calls", "function_call"];

    private static ChatCompletionChoice UpstreamChoice(JsonElement choice)
    {
        var message = JsonCheck.Get(choice, "message") is { ValueKind: JsonValueKind.Object } m ? m : default;
        Dictionary<string, JsonElement>? others = null;
        if (message.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in message.EnumerateObject())
            {
                if (Array.IndexOf(KnownMessageKeys, property.Name) < 0 && !IsEmpty(property.Value))
                {
                    (others ??= new(StringComparer.Ordinal))[property.Name] = property.Value;
                }
            }
        }
        var hasMessage = message.ValueKind == JsonValueKind.Object;
        return new ChatCompletionChoice
        {
            Index = JsonCheck.Get(choice, "index") is { ValueKind: JsonValueKind.Number } index && index.TryGetInt32(out var n) ? n : 0,
            Message = new ChatCompletionMessage
            {
                Content = hasMessage ? String(message, "content") : null,
                Refusal = hasMessage ? String(message, "refusal") : null,
                Role = (hasMessage ? String(message, "role") : null) ?? "assistant",
                ToolCalls = hasMessage && JsonCheck.Get(message, "tool_calls") is { ValueKind: JsonValueKind.Array } calls && calls.GetArrayLength() > 0
                    ? Read(calls, CairnJson.Default.IReadOnlyListChatCompletionMessageToolCall)
                    : null,
                FunctionCall = hasMessage && JsonCheck.Get(message, "function_call") is { ValueKind: JsonValueKind.Object } call
                    ? Read(call, CairnJson.Default.ChatCompletionFunction)
                    : null,
                AdditionalProperties = others,
            },
            FinishReason = String(choice, "finish_reason"),
            Logprobs = JsonCheck.Get(choice, "logprobs") is { ValueKind: JsonValueKind.Object } logprobs ? Read(logprobs, CairnJson.Default.ChatCompletionLogprobs) : null,
        };
    }

    /// <summary>A part of the upstream's answer as its record; null when it does not fit OpenAI's types (then it is not stored).</summary>
    private static T? Read<T>(JsonElement element, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return element.Deserialize(type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? String(JsonElement parent, string name) =>
        JsonCheck.Get(parent, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static long? Count(JsonElement usage, string name) =>
        JsonCheck.Get(usage, name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt64(out var count) ? count : null;

    private static bool IsEmpty(JsonElement value) =>
        value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined || (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0);
}
