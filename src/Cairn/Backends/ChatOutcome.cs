namespace Cairn.Backends;

/// <summary>A whole answer from a backend: the model that answered, one choice per <c>n</c>, and token usage.</summary>
internal sealed record ChatOutcome(string Model, IReadOnlyList<ChatChoice> Choices, ChatUsage Usage, string? SystemFingerprint);

/// <summary>One choice of an answer.</summary>
internal sealed record ChatChoice(int Index, string? Content, string FinishReason);

/// <summary>Tokens read and written for one request (all choices together).</summary>
internal readonly record struct ChatUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>A streamed answer: who answers, then its pieces as they come.</summary>
internal sealed record ChatStream(string Model, string? SystemFingerprint, IAsyncEnumerable<ChatDelta> Deltas);

/// <summary>
/// One piece of a streamed answer: text for a choice, or a choice's finish reason, or (once, last) the usage.
/// </summary>
internal readonly record struct ChatDelta(int Index, string? Content, string? FinishReason, ChatUsage? Usage)
{
    public static ChatDelta Text(int index, string content) => new(index, content, null, null);

    public static ChatDelta Finish(int index, string reason) => new(index, null, reason, null);

    public static ChatDelta Totals(ChatUsage usage) => new(0, null, null, usage);
}
