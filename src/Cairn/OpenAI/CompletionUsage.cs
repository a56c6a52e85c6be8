using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.OpenAI;

/// <summary>
/// A stored completion's usage, in the stored key order (total, completion, prompt), then the details an upstream
/// added (<c>prompt_tokens_details</c>, …). A count the upstream left out stays out.
/// </summary>
internal sealed record CompletionUsage
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? TotalTokens { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? CompletionTokens { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? PromptTokens { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
