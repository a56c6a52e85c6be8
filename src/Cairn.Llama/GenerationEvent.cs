namespace Cairn.Llama;

/// <summary>
/// What a sequence reports: answer text (with the logprobs of the tokens it came from), then once its end: the
/// finish reason (<c>stop</c>, <c>length</c>, <c>tool_calls</c>) and the tokens it generated.
/// </summary>
internal readonly record struct GenerationEvent(string? Text, IReadOnlyList<TokenLogprob>? Logprobs, string? FinishReason, int CompletionTokens, string? ToolText)
{
    public static GenerationEvent Piece(string text, IReadOnlyList<TokenLogprob>? logprobs) => new(text, logprobs, null, 0, null);

    public static GenerationEvent End(string reason, int tokens, string? toolText) => new(null, null, reason, tokens, toolText);
}
