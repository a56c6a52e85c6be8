namespace Cairn.Backends;

/// <summary>
/// Limits of the built-in <c>echo</c> model (section <c>Echo</c>), like a real model's output limit: they bound
/// what one request can make it write, and so what one stored completion of it weighs.
/// </summary>
internal sealed record EchoOptions
{
    public const string Section = "Echo";

    /// <summary>The most tokens one choice's answer has (gpt-4o's output limit); a longer echo ends with finish_reason "length".</summary>
    public int MaxAnswerTokens { get; init; } = 16_384;

    /// <summary>The most answer tokens of one request, all <c>n</c> choices together: each choice gets at most this divided by n.</summary>
    public int MaxAnswerTokensPerRequest { get; init; } = 65_536;

    /// <summary>The most tokens each of <paramref name="n"/> choices may have.</summary>
    public int PerChoice(int n) => Math.Max(1, Math.Min(MaxAnswerTokens, MaxAnswerTokensPerRequest / Math.Max(1, n)));

    public IEnumerable<string> Validate()
    {
        if (MaxAnswerTokens is < 1 or > 1_000_000)
        {
            yield return $"Echo:MaxAnswerTokens must be between 1 and 1000000, not {MaxAnswerTokens}.";
        }
        if (MaxAnswerTokensPerRequest is < 1 or > 10_000_000)
        {
            yield return $"Echo:MaxAnswerTokensPerRequest must be between 1 and 10000000, not {MaxAnswerTokensPerRequest}.";
        }
    }
}
