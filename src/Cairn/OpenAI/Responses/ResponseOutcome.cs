using System.Text.Json;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// A finished answer in the Responses API's terms: <c>completed</c> or <c>incomplete</c> (with its reason), the output
/// items in order (the message first, then one <c>function_call</c> per tool call), the model that answered and usage.
/// </summary>
internal sealed record ResponseOutcome(string Status, string? IncompleteReason, IReadOnlyList<ResponseItem> Output, string Model, ResponseUsage Usage)
{
    public const string Completed = "completed";

    public const string Incomplete = "incomplete";

    /// <summary>
    /// The outcome of a chat completion's first choice. The message item (when there is text or a refusal) takes
    /// <paramref name="messageId"/>, the id a stream already announced; function calls get <c>fc_</c> ids of
    /// <paramref name="responseId"/> and keep the model's call id (or a new <c>call_</c> one).
    /// </summary>
    public static ResponseOutcome FromCompletion(ChatCompletion completion, string responseId, string messageId)
    {
        var choice = completion.Choices.Count > 0 ? completion.Choices[0] : null;
        var (status, reason) = choice?.FinishReason switch
        {
            FinishReasons.Length => (Incomplete, "max_output_tokens"),
            FinishReasons.ContentFilter => (Incomplete, "content_filter"),
            _ => (Completed, (string?)null),
        };
        var output = new List<ResponseItem>();
        var message = choice?.Message;
        var calls = message?.ToolCalls ?? [];
        // An empty text beside tool calls is no message; an empty answer on its own still is one (OpenAI's always has output).
        var text = string.IsNullOrEmpty(message?.Content) && calls.Count > 0 ? null : message?.Content;
        var refusal = message?.Refusal;
        if (text is not null || refusal is not null)
        {
            output.Add(new(messageId, JsonWriting.ToUtf8(writer => OutputItemWriter.WriteMessage(writer, messageId, status, text, refusal))));
        }
        foreach (var call in calls)
        {
            var id = Ids.Item("fc", responseId);
            var callId = string.IsNullOrEmpty(call.Id) ? Ids.Call() : call.Id;
            output.Add(new(id, JsonWriting.ToUtf8(writer => OutputItemWriter.WriteFunctionCall(
                writer, id, Completed, call.Function?.Arguments ?? "", callId, call.Function?.Name ?? ""))));
        }
        return new(status, reason, output, completion.Model ?? "", UsageOf(completion.Usage));
    }

    private static ResponseUsage UsageOf(CompletionUsage? usage) => new(
        Count(usage?.PromptTokens),
        Count(Detail(usage, "prompt_tokens_details", "cached_tokens")),
        Count(usage?.CompletionTokens),
        Count(Detail(usage, "completion_tokens_details", "reasoning_tokens")));

    private static long? Detail(CompletionUsage? usage, string details, string name) =>
        usage?.AdditionalProperties?.GetValueOrDefault(details) is { ValueKind: JsonValueKind.Object } detail
            && detail.TryGetProperty(name, out var count) && count.ValueKind == JsonValueKind.Number && count.TryGetInt64(out var value)
            ? value
            : null;

    private static int Count(long? tokens) => (int)Math.Clamp(tokens ?? 0, 0, int.MaxValue);
}

/// <summary>Usage in the Responses API's shape.</summary>
internal sealed record ResponseUsage(int InputTokens, int CachedTokens, int OutputTokens, int ReasoningTokens)
{
    public int TotalTokens => InputTokens + OutputTokens;
}
