namespace Cairn.OpenAI;

/// <summary>
/// A whole answer from a backend: the model that answered, one choice per <c>n</c>, and token usage; with the seed
/// it drew when the request gave none (recorded, so the stored seed reproduces the answer).
/// </summary>
internal sealed record ChatOutcome(string Model, IReadOnlyList<ChatChoice> Choices, ChatUsage Usage, string? SystemFingerprint, long? Seed = null);

/// <summary>One choice of an answer: its text or tool calls, and the logprobs of its tokens when they were asked for.</summary>
internal sealed record ChatChoice(
    int Index, string? Content, string FinishReason, IReadOnlyList<ChatToolCall>? ToolCalls = null, IReadOnlyList<ChatLogprob>? Logprobs = null);

/// <summary>A function call the model made: <paramref name="Arguments"/> is a JSON text.</summary>
internal sealed record ChatToolCall(string Id, string Name, string Arguments);

/// <summary>A token of an answer with its log probability, raw bytes and most likely alternatives (OpenAI's TokenLogprob).</summary>
internal sealed record ChatLogprob(string Token, float Logprob, byte[] Bytes, IReadOnlyList<ChatLogprob> TopLogprobs);

/// <summary>Tokens read and written for one request (all choices together).</summary>
internal readonly record struct ChatUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>A streamed answer: who answers, then its pieces as they come.</summary>
internal sealed record ChatStream(string Model, string? SystemFingerprint, IAsyncEnumerable<ChatDelta> Deltas, bool Logprobs = false, long? Seed = null);

/// <summary>
/// One piece of a streamed answer: text for a choice (with its tokens' logprobs when asked for), a choice's tool
/// calls, or a choice's finish reason, or (once, last) the usage.
/// </summary>
internal readonly record struct ChatDelta(
    int Index, string? Content, string? FinishReason, ChatUsage? Usage,
    IReadOnlyList<ChatLogprob>? Logprobs = null, IReadOnlyList<ChatToolCall>? ToolCalls = null)
{
    public static ChatDelta Text(int index, string content) => new(index, content, null, null);

    public static ChatDelta Finish(int index, string reason) => new(index, null, reason, null);

    public static ChatDelta Totals(ChatUsage usage) => new(0, null, null, usage);

    public static ChatDelta Calls(int index, IReadOnlyList<ChatToolCall> calls) => new(index, null, null, null, null, calls);
}
