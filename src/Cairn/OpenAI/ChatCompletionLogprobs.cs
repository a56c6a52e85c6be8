using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.OpenAI;

/// <summary>A choice's <c>logprobs</c>: one entry per token of the content (or of the refusal).</summary>
internal sealed record ChatCompletionLogprobs
{
    public IReadOnlyList<ChatCompletionTokenLogprob>? Content { get; init; }

    public IReadOnlyList<ChatCompletionTokenLogprob>? Refusal { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}

/// <summary>A token with its log probability and UTF-8 bytes: one of a token's most likely alternatives.</summary>
internal record TopLogprob
{
    public string Token { get; set; } = "";

    public double Logprob { get; init; }

    public IReadOnlyList<int>? Bytes { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}

/// <summary>A token of the answer: a <see cref="TopLogprob"/> with the most likely alternatives.</summary>
internal sealed record ChatCompletionTokenLogprob : TopLogprob
{
    /// <summary>Ordered after the base's keys, as OpenAI writes them (the generator would put a derived type's first).</summary>
    [JsonPropertyOrder(1)]
    public IReadOnlyList<TopLogprob>? TopLogprobs { get; init; }
}
