namespace Cairn.Models;

/// <summary>
/// What telemetry reports of an answer, read without re-serializing it: the model that answered, why each choice
/// ended, and its token usage (null where the source gave none and none was counted).
/// </summary>
internal sealed record AnswerSummary(string Model, IReadOnlyList<string> FinishReasons, int? InputTokens, int? OutputTokens);
