using System.Buffers;
using System.Text.Json;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Export;

/// <summary>
/// A line of OpenAI's chat fine-tuning format: <c>{"messages":[…the input messages…, the answer],"tools":[…]}</c>.
/// Input messages are written back in the request's shape (content parts as parts, so images stay images as in
/// vision fine-tuning; tool calls and tool call ids kept). The answer is the first choice (<c>index</c> 0, the one
/// an SDK's <c>Content</c> reads), with its text and tool calls; <c>tools</c> comes from the request when it had any.
/// </summary>
internal static class FineTuneLine
{
    /// <summary>Writes the line; false when the first choice has neither text nor tool calls (nothing to learn from).</summary>
    public static bool TryWrite(ArrayBufferWriter<byte> line, ArchivedCompletion completion)
    {
        if (ChatCompletion.TryRead(completion.Body) is not { } stored || Answer(stored) is not { } answer)
        {
            return false;
        }
        using (var json = new Utf8JsonWriter(line, JsonWriting.Options))
        {
            json.WriteStartObject();
            json.WriteStartArray("messages"u8);
            foreach (var item in completion.Messages)
            {
                using var message = JsonDocument.Parse(item, Cairn.OpenAI.JsonBody.Stored);
                WriteInput(json, message.RootElement);
            }
            WriteAnswer(json, answer);
            json.WriteEndArray();
            if (stored.Tools is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0)
            {
                json.WritePropertyName("tools"u8);
                tools.WriteTo(json);
            }
            json.WriteEndObject();
        }
        line.Write("\n"u8);
        return true;
    }

    /// <summary>The first choice's message, when it has text or tool calls.</summary>
    private static ChatCompletionMessage? Answer(ChatCompletion stored) =>
        stored.Choices.FirstOrDefault(c => c?.Index == 0)?.Message is { } message && (message.Content is not null || message.ToolCalls is { Count: > 0 })
            ? message
            : null;

    private static void WriteAnswer(Utf8JsonWriter json, ChatCompletionMessage message)
    {
        json.WriteStartObject();
        json.WriteString("role"u8, "assistant"u8);
        if (message.Content is { } content)
        {
            json.WriteString("content"u8, content);
        }
        if (message.ToolCalls is { Count: > 0 } calls)
        {
            json.WritePropertyName("tool_calls"u8);
            JsonSerializer.Serialize(json, calls, CairnJson.Default.IReadOnlyListChatCompletionMessageToolCall);
        }
        json.WriteEndObject();
    }

    /// <summary>A stored message item (<c>id, role, content, content_parts, name, …</c>) as the request had it.</summary>
    private static void WriteInput(Utf8JsonWriter json, JsonElement item)
    {
        json.WriteStartObject();
        json.WritePropertyName("role"u8);
        item.GetProperty("role").WriteTo(json);
        if (JsonCheck.Get(item, "content_parts") is { ValueKind: JsonValueKind.Array } parts)
        {
            json.WriteStartArray("content"u8);
            foreach (var part in parts.EnumerateArray())
            {
                WritePart(json, part);
            }
            json.WriteEndArray();
        }
        else if (JsonCheck.Get(item, "content") is { } content)
        {
            json.WritePropertyName("content"u8);
            content.WriteTo(json);
        }
        foreach (var name in (string[])["name", "tool_calls", "tool_call_id"])
        {
            if (JsonCheck.Get(item, name) is { } value)
            {
                json.WritePropertyName(name);
                value.WriteTo(json);
            }
        }
        json.WriteEndObject();
    }

    /// <summary>A stored content part has every part type's key, null but its own; the request form has only its own.</summary>
    private static void WritePart(Utf8JsonWriter json, JsonElement part)
    {
        json.WriteStartObject();
        foreach (var property in part.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Null)
            {
                WriteWithoutNulls(json, property);
            }
        }
        json.WriteEndObject();
    }

    private static void WriteWithoutNulls(Utf8JsonWriter json, JsonProperty property)
    {
        if (property.Value.ValueKind != JsonValueKind.Object)
        {
            property.WriteTo(json);
            return;
        }
        json.WriteStartObject(property.Name);
        foreach (var inner in property.Value.EnumerateObject())
        {
            if (inner.Value.ValueKind != JsonValueKind.Null)
            {
                inner.WriteTo(json);
            }
        }
        json.WriteEndObject();
    }
}
