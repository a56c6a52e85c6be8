using System.Buffers;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Storage;

/// <summary>
/// Turns a finished completion into what is stored: the stored object's JSON (the shape GET and list return,
/// which differs from the create response) and one JSON item per input message, each serialized once.
/// </summary>
internal static class StoredCompletionWriter
{
    /// <summary>A local backend's answer, stored.</summary>
    public static StoredCompletion Build(long projectId, string id, string requestId, long created, ChatCompletionRequest request, ChatOutcome outcome) =>
        Store(projectId, outcome.Model, request, ChatCompletionMapper.FromOutcome(id, requestId, created, request, outcome));

    /// <summary>
    /// The stored form of a completion an upstream produced (<paramref name="completion"/>: its non-streaming
    /// response, or one assembled from its stream), listed under the model name the client asked for.
    /// </summary>
    public static StoredCompletion BuildProxied(
        long projectId, string id, string requestId, long created, ChatCompletionRequest request, JsonElement completion,
        ProxyRecord origin, ChatUsage? countedUsage) =>
        Store(projectId, request.Model, request, ChatCompletionMapper.FromUpstream(id, requestId, created, request, completion, origin, countedUsage));

    /// <summary>Serializes the completion and the input messages once each, and summarizes it for the dashboard from the typed values.</summary>
    private static StoredCompletion Store(long projectId, string model, ChatCompletionRequest request, ChatCompletion completion)
    {
        var messages = new byte[request.Messages.Count][];
        var input = new (string Role, string? Text)[messages.Length];
        for (var i = 0; i < messages.Length; i++)
        {
            var message = request.Messages[i];
            var text = message.Text();
            messages[i] = MessageItem(completion.Id, i, message, text);
            input[i] = (message.Role, text);
        }
        return new StoredCompletion(projectId, completion.Id, model, completion.Created, completion.ToUtf8(), request.Metadata, messages)
        {
            Summary = CompletionSummary.Of(completion, input),
        };
    }

    /// <summary>Rewrites a stored object with new metadata, keeping every other byte's meaning and the key order.</summary>
    public static byte[] WithMetadata(byte[] stored, IReadOnlyDictionary<string, string> metadata)
    {
        using var document = JsonDocument.Parse(stored, JsonBody.Stored);
        var buffer = new ArrayBufferWriter<byte>(stored.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer, Cairn.OpenAI.JsonWriting.Options))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.NameEquals("metadata"u8))
                {
                    writer.Metadata(metadata);
                }
                else
                {
                    property.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One item of <c>GET /chat/completions/{id}/messages</c>: <c>id, role, content, content_parts, name</c>.</summary>
    private static byte[] MessageItem(string completionId, int index, ChatMessage message, string? text) => Cairn.OpenAI.JsonWriting.ToUtf8(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, $"{completionId}-{index}");
        writer.WriteString("role"u8, message.Role);
        writer.StringOrNull("content"u8, text);
        writer.WritePropertyName("content_parts"u8);
        if (message.Content is { ValueKind: JsonValueKind.Array } parts)
        {
            writer.WriteStartArray();
            foreach (var part in parts.EnumerateArray())
            {
                WritePart(writer, part);
            }
            writer.WriteEndArray();
        }
        else
        {
            writer.WriteNullValue();
        }
        writer.StringOrNull("name"u8, message.Name);
        // Kept beyond OpenAI's five keys so that tool-use conversations survive a round trip (Azure returns them too).
        if (JsonCheck.Get(message.Element, "tool_calls") is { } toolCalls)
        {
            writer.WritePropertyName("tool_calls"u8);
            toolCalls.WriteTo(writer);
        }
        if (JsonCheck.Get(message.Element, "tool_call_id") is { } toolCallId)
        {
            writer.WritePropertyName("tool_call_id"u8);
            toolCallId.WriteTo(writer);
        }
        writer.WriteEndObject();
    });

    private static void WritePart(Utf8JsonWriter writer, JsonElement part)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, part.GetProperty("type").GetString());
        writer.RawOrNull("text"u8, JsonCheck.Get(part, "text"));
        writer.WritePropertyName("image_url"u8);
        if (JsonCheck.Get(part, "image_url") is { } image)
        {
            writer.WriteStartObject();
            writer.WriteString("url"u8, image.GetProperty("url").GetString());
            writer.RawOrNull("detail"u8, JsonCheck.Get(image, "detail"));
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNullValue();
        }
        writer.RawOrNull("input_audio"u8, JsonCheck.Get(part, "input_audio"));
        writer.RawOrNull("file"u8, JsonCheck.Get(part, "file"));
        if (JsonCheck.Get(part, "refusal") is { } refusal)
        {
            writer.WritePropertyName("refusal"u8);
            refusal.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
