using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.OpenAI;

/// <summary>A function call in an answer: <c>{id, type, function: {name, arguments}}</c>.</summary>
internal sealed record ChatCompletionMessageToolCall
{
    public string? Id { get; init; }

    public string Type { get; set; } = "function";

    public ChatCompletionFunction? Function { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}

/// <summary>The function a tool call (or a legacy <c>function_call</c>) names; <see cref="Arguments"/> is a JSON text.</summary>
internal sealed record ChatCompletionFunction
{
    public string? Name { get; init; }

    public string? Arguments { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
