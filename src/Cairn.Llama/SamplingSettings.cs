namespace Cairn.Llama;

/// <summary>How one sequence picks its tokens and when it stops.</summary>
internal sealed record SamplingSettings
{
    /// <summary>0 picks the most likely token every time.</summary>
    public float Temperature { get; init; } = 1f;

    public float TopP { get; init; } = 1f;

    public ulong Seed { get; init; }

    /// <summary>Subtracted from a token's logit once it has appeared (OpenAI's <c>presence_penalty</c>).</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Subtracted from a token's logit per appearance (OpenAI's <c>frequency_penalty</c>).</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Added to tokens' logits before sampling (OpenAI's <c>logit_bias</c>, -100 to 100).</summary>
    public IReadOnlyDictionary<int, float> LogitBias { get; init; } = new Dictionary<int, float>();

    /// <summary>Null: no logprobs. Otherwise the chosen token's logprob and this many alternatives.</summary>
    public int? TopLogprobs { get; init; }

    public int MaxTokens { get; init; } = int.MaxValue;

    /// <summary>Texts that end the answer; none of their text is returned.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>A validated GBNF grammar that constrains the whole answer, or null.</summary>
    public string? Grammar { get; init; }

    /// <summary>
    /// Tool calling: text after which the answer becomes a tool call constrained by <see cref="TriggerGrammar"/>
    /// (e.g. <c>&lt;tool_call&gt;</c>); the trigger and what follows go to <see cref="GenerationEvent.ToolText"/>.
    /// </summary>
    public string? Trigger { get; init; }

    public string? TriggerGrammar { get; init; }

    /// <summary>The whole answer is a tool call (constrained by <see cref="Grammar"/>) and goes to <see cref="GenerationEvent.ToolText"/>.</summary>
    public bool ToolCallsOnly { get; init; }
}
