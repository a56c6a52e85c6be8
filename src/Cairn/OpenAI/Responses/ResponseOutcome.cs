namespace Cairn.OpenAI.Responses;

/// <summary>
/// A finished answer in the Responses API's terms: <c>completed</c> or <c>incomplete</c> (with its reason), the output
/// items in order (the message first, then one <c>function_call</c> per tool call), the model that answered and usage.
/// </summary>
internal sealed record ResponseOutcome(string Status, string? IncompleteReason, IReadOnlyList<ResponseItem> Output, string Model, ResponseUsage Usage)
{
    /// <summary>
    /// The outcome of a chat completion's first choice. The message item (when there is text or a refusal) takes
    /// <paramref name="messageId"/>, the id a stream already announced; function calls get <c>fc_</c> ids of
    /// <paramref name="responseId"/> and keep the model's call id (or a new <c>call_</c> one).
    /// </summary>
    public static ResponseOutcome FromCompletion(ChatCompletion completion, string responseId, string messageId) => throw new NotImplementedException();
}

/// <summary>Usage in the Responses API's shape.</summary>
internal sealed record ResponseUsage(int InputTokens, int CachedTokens, int OutputTokens, int ReasoningTokens)
{
    public int TotalTokens => InputTokens + OutputTokens;
}
