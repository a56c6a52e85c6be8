using System.Buffers;
using System.Text.Json;
using Cairn.Backends;
using Cairn.Storage;

namespace Cairn.OpenAI;

/// <summary>
/// Turns a finished completion into what is stored: the stored object's JSON (the shape GET and list return,
/// which differs from the create response) and one JSON item per input message, each serialized once.
/// </summary>
internal static class StoredCompletionWriter
{
    public static StoredCompletion Build(long projectId, string id, string requestId, long created, ChatCompletionRequest request, ChatOutcome outcome)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, Cairn.OpenAI.JsonWriting.Options))
        {
            WriteObject(writer, id, requestId, created, request, outcome, request.Metadata);
        }
        var messages = new byte[request.Messages.Count][];
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i] = MessageItem(id, i, request.Messages[i]);
        }
        return new StoredCompletion(projectId, id, outcome.Model, created, buffer.WrittenSpan.ToArray(), request.Metadata, messages);
    }

    private static void WriteObject(
        Utf8JsonWriter writer, string id, string requestId, long created, ChatCompletionRequest request, ChatOutcome outcome,
        IReadOnlyDictionary<string, string> metadata)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "chat.completion"u8);
        writer.WriteString("id"u8, id);
        writer.WriteString("model"u8, outcome.Model);
        writer.WriteNumber("created"u8, created);
        writer.WriteString("request_id"u8, requestId);
        writer.RawOrNull("tool_choice"u8, request.ToolChoice);
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("total_tokens"u8, outcome.Usage.TotalTokens);
        writer.WriteNumber("completion_tokens"u8, outcome.Usage.CompletionTokens);
        writer.WriteNumber("prompt_tokens"u8, outcome.Usage.PromptTokens);
        writer.WriteEndObject();
        writer.WriteNumber("seed"u8, request.Seed ?? Ids.Seed());
        writer.Decimal("top_p"u8, request.TopP ?? 1.0);
        writer.Decimal("temperature"u8, request.Temperature ?? 1.0);
        writer.Decimal("presence_penalty"u8, request.PresencePenalty ?? 0.0);
        writer.Decimal("frequency_penalty"u8, request.FrequencyPenalty ?? 0.0);
        writer.StringOrNull("system_fingerprint"u8, outcome.SystemFingerprint);
        writer.StringOrNull("input_user"u8, request.User);
        writer.WriteString("service_tier"u8, "default"u8);
        writer.RawOrNull("tools"u8, request.Tools);
        writer.Metadata(metadata);
        writer.WriteStartArray("choices"u8);
        foreach (var choice in outcome.Choices)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, choice.Index);
            writer.WriteStartObject("message"u8);
            writer.StringOrNull("content"u8, choice.Content);
            writer.WriteNull("refusal"u8);
            writer.WriteString("role"u8, "assistant"u8);
            writer.WriteNull("tool_calls"u8);
            writer.WriteNull("function_call"u8);
            writer.WriteEndObject();
            writer.WriteString("finish_reason"u8, choice.FinishReason);
            writer.WriteNull("logprobs"u8);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.RawOrNull("response_format"u8, request.ResponseFormat);
        writer.WriteEndObject();
    }

    /// <summary>Rewrites a stored object with new metadata, keeping every other byte's meaning and the key order.</summary>
    public static byte[] WithMetadata(byte[] stored, IReadOnlyDictionary<string, string> metadata)
    {
        using var document = JsonDocument.Parse(stored);
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
    private static byte[] MessageItem(string completionId, int index, ChatMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Cairn.OpenAI.JsonWriting.Options))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, $"{completionId}-{index}");
            writer.WriteString("role"u8, message.Role);
            writer.StringOrNull("content"u8, message.Text());
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
        }
        return buffer.WrittenSpan.ToArray();
    }

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
