using System.Text.Json;

namespace Cairn.OpenAI;

/// <summary>
/// A validated <c>POST /v1/chat/completions</c> body. What a backend acts on is typed; everything else the client
/// sent stays reachable through <see cref="Given"/> so a backend can pass it on or refuse it by name.
/// </summary>
internal sealed class ChatCompletionRequest(JsonDocument document) : IDisposable
{
    public required string Model { get; init; }
    public required IReadOnlyList<ChatMessage> Messages { get; init; }
    public bool Store { get; init; }
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public double? FrequencyPenalty { get; init; }
    public double? PresencePenalty { get; init; }
    public int N { get; init; } = 1;

    /// <summary><c>max_completion_tokens</c>, or the legacy <c>max_tokens</c> when only that was sent.</summary>
    public int? MaxCompletionTokens { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];
    public long? Seed { get; init; }
    public bool Logprobs { get; init; }
    public int? TopLogprobs { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = EmptyMetadata;
    public string? User { get; init; }
    public JsonElement? Tools { get; init; }
    public JsonElement? ToolChoice { get; init; }
    public JsonElement? ResponseFormat { get; init; }

    /// <summary>Every top-level property sent with a non-null value, known or not, by name.</summary>
    public required IReadOnlyDictionary<string, JsonElement> Given { get; init; }

    /// <summary>Top-level properties that are not part of the Chat Completions API (vendor extensions).</summary>
    public required IReadOnlyList<string> Extensions { get; init; }

    public JsonElement Root => document.RootElement;

    public static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();

    public void Dispose() => document.Dispose();
}
