using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.OpenAI;

/// <summary>One choice of a stored completion: <c>index, message, finish_reason, logprobs</c>.</summary>
internal sealed record ChatCompletionChoice
{
    public int Index { get; init; }

    public ChatCompletionMessage Message { get; set; } = new();

    /// <summary>One of <see cref="FinishReasons"/> (an upstream may add its own).</summary>
    public string? FinishReason { get; init; }

    public ChatCompletionLogprobs? Logprobs { get; init; }
}

/// <summary>
/// The answer of a stored choice: <c>content, refusal, role, tool_calls, function_call</c> (nulls written, as OpenAI
/// stores them), then what an upstream added that carries a value (say <c>reasoning_content</c>).
/// </summary>
internal sealed record ChatCompletionMessage
{
    public string? Content { get; init; }

    public string? Refusal { get; init; }

    public string Role { get; set; } = "assistant";

    public IReadOnlyList<ChatCompletionMessageToolCall>? ToolCalls { get; init; }

    /// <summary>The legacy single function call some upstreams still send.</summary>
    public ChatCompletionFunction? FunctionCall { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
