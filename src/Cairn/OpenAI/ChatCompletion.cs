using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.OpenAI;

/// <summary>
/// A stored chat completion as OpenAI's stored-completions API returns it (<c>GET /v1/chat/completions/{id}</c>),
/// its properties in OpenAI's recorded key order. The one definition of what Cairn stores: every stored body is
/// this record serialized through <see cref="CairnJson"/>, and every reader of a stored body reads it back as this.
/// </summary>
/// <remarks>
/// The few properties with a default have a setter, not <c>init</c>: the source generator gives an absent init-only
/// property <c>default(T)</c>, and a body without them (an imported one, say) should read as the default. Properties
/// are read and written in declaration order, the extension data last.
/// </remarks>
internal sealed record ChatCompletion
{
    public string Object { get; set; } = "chat.completion";

    public string Id { get; set; } = "";

    public string? Model { get; init; }

    public long Created { get; init; }

    public string? RequestId { get; init; }

    public JsonElement? ToolChoice { get; init; }

    public CompletionUsage? Usage { get; init; }

    public long? Seed { get; init; }

    [JsonConverter(typeof(OpenAINumberConverter))]
    public double? TopP { get; init; }

    [JsonConverter(typeof(OpenAINumberConverter))]
    public double? Temperature { get; init; }

    [JsonConverter(typeof(OpenAINumberConverter))]
    public double? PresencePenalty { get; init; }

    [JsonConverter(typeof(OpenAINumberConverter))]
    public double? FrequencyPenalty { get; init; }

    public string? SystemFingerprint { get; init; }

    public string? InputUser { get; init; }

    public string? ServiceTier { get; init; }

    public JsonElement? Tools { get; init; }

    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    public IReadOnlyList<ChatCompletionChoice> Choices { get; set; } = [];

    public JsonElement? ResponseFormat { get; init; }

    /// <summary>Where a proxied completion came from; absent for a local answer.</summary>
    [JsonPropertyName("cairn")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CairnOrigin? Origin { get; init; }

    /// <summary>Top-level fields Cairn does not model (in an imported body, say), kept as they were.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }

    /// <summary>Reads a stored body; null when it does not fit the shape (a body stored by an older Cairn from an off-spec upstream).</summary>
    public static ChatCompletion? TryRead(ReadOnlySpan<byte> body)
    {
        try
        {
            return JsonSerializer.Deserialize(body, CairnJson.Default.ChatCompletion);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The stored body: this record through the source-generated context, text escaped as OpenAI escapes it.</summary>
    public byte[] ToUtf8() => JsonWriting.ToUtf8(writer => JsonSerializer.Serialize(writer, this, CairnJson.Default.ChatCompletion));
}
