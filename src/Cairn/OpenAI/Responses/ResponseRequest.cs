using System.Text.Json;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// A validated <c>POST /v1/responses</c> body. Every field Cairn acts on or echoes is typed, with the live API's
/// defaults filled in; everything the client sent stays reachable through <see cref="Given"/>.
/// </summary>
internal sealed class ResponseRequest(JsonDocument document) : IDisposable
{
    public required string Model { get; init; }

    /// <summary>
    /// The input as items, each checked: a string input is one user message item (<c>{"type":"message","role":"user",
    /// "content":[{"type":"input_text","text":…}]}</c> semantics, kept as the client's element here).
    /// </summary>
    public required IReadOnlyList<JsonElement> Input { get; init; }

    /// <summary>The text when <c>input</c> was a plain string (stored as one user message with an <c>input_text</c> part).</summary>
    public string? InputText { get; init; }

    public string? Instructions { get; init; }
    public string? PreviousResponseId { get; init; }

    /// <summary><c>store</c>: true unless the client sent false (the Responses API stores by default).</summary>
    public bool Store { get; init; } = true;

    public bool Background { get; init; }
    public bool Stream { get; init; }

    /// <summary><c>stream_options.include_obfuscation</c> (true unless false was sent).</summary>
    public bool IncludeObfuscation { get; init; } = true;

    /// <summary><c>include</c>: every value is one the API knows; Cairn acts on <c>message.output_text.logprobs</c>.</summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary>The function tools as sent (flat Responses shape); null when absent.</summary>
    public JsonElement? Tools { get; init; }

    /// <summary>The tool choice as sent; null when absent, which means <c>"auto"</c>.</summary>
    public JsonElement? ToolChoice { get; init; }

    public bool ParallelToolCalls { get; init; } = true;

    /// <summary><c>text.format</c> as sent; null means <c>{"type":"text"}</c>.</summary>
    public JsonElement? TextFormat { get; init; }

    public string Verbosity { get; init; } = "medium";
    public int? MaxOutputTokens { get; init; }
    public int? MaxToolCalls { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? TopLogprobs { get; init; }
    public string Truncation { get; init; } = "disabled";
    public JsonElement? Reasoning { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = ChatCompletionRequest.EmptyMetadata;
    public string? User { get; init; }
    public string? SafetyIdentifier { get; init; }
    public string? PromptCacheKey { get; init; }
    public string? ServiceTier { get; init; }

    /// <summary>Every top-level property sent with a non-null value, known or not, by name.</summary>
    public required IReadOnlyDictionary<string, JsonElement> Given { get; init; }

    /// <summary>
    /// Top-level properties outside the Responses API, in the order sent. Like a chat request's vendor extensions
    /// (<c>top_k</c>, <c>seed</c>), they go to the model as they are: an upstream gets them, a local model refuses them
    /// by name. Chat Completions' own names for what the Responses API names otherwise (<c>messages</c>,
    /// <c>max_tokens</c>, <c>response_format</c>, …) are refused when parsing.
    /// </summary>
    public IReadOnlyList<string> Extensions { get; init; } = [];

    public JsonElement Root => document.RootElement;

    public void Dispose() => document.Dispose();
}
