using System.Text;
using System.Text.Json;
using Cairn.Observability;
using Cairn.OpenAI;

namespace Cairn.Completions;

/// <summary>
/// Prompts and answers written in the GenAI conventions' shape (<c>gen_ai.input.messages</c>,
/// <c>gen_ai.output.messages</c>: JSON arrays of messages, each a role and its parts, answers with a finish reason),
/// for spans when content capture is on; never called otherwise. Text is <c>text</c>, function calls
/// <c>tool_call</c>, their results <c>tool_call_response</c>, image URLs <c>uri</c>; other parts keep only their type.
/// </summary>
internal static class GenAiContent
{
    /// <summary>The chat messages a model was sent (for a response, its whole chain as translated).</summary>
    public static string Input(IReadOnlyList<ChatMessage> messages) => Written(writer =>
    {
        writer.WriteStartArray();
        foreach (var message in messages)
        {
            var element = message.Element;
            writer.WriteStartObject();
            writer.WriteString("role", message.Role);
            writer.WriteStartArray("parts");
            if (message.Role == "tool")
            {
                writer.WriteStartObject();
                writer.WriteString("type", "tool_call_response");
                writer.WriteString("id", StringOf(element, "tool_call_id"));
                writer.WriteString("response", message.Text());
                writer.WriteEndObject();
            }
            else
            {
                Parts(writer, message.Content);
            }
            if (JsonCheck.Get(element, "tool_calls") is { ValueKind: JsonValueKind.Array } calls)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    var function = JsonCheck.Get(call, "function");
                    ToolCall(writer, StringOf(call, "id"), function is { } f ? StringOf(f, "name") : null, function is { } g ? StringOf(g, "arguments") : null);
                }
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    });

    /// <summary>The Responses API input items a model was sent (a native upstream's chain and turn): messages, function calls and their outputs.</summary>
    public static string Input(IEnumerable<JsonElement> items) => Written(writer =>
    {
        writer.WriteStartArray();
        foreach (var item in items)
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                Message(writer, "user", item);
                continue;
            }
            if (item.ValueKind != JsonValueKind.Object)
            {
                continue;
            }
            var type = StringOf(item, "type");
            if (StringOf(item, "role") is { } role)
            {
                Message(writer, role, JsonCheck.Get(item, "content"));
            }
            else if (type == "function_call")
            {
                writer.WriteStartObject();
                writer.WriteString("role", "assistant");
                writer.WriteStartArray("parts");
                ToolCall(writer, StringOf(item, "call_id"), StringOf(item, "name"), StringOf(item, "arguments"));
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            else if (type == "function_call_output")
            {
                writer.WriteStartObject();
                writer.WriteString("role", "tool");
                writer.WriteStartArray("parts");
                writer.WriteStartObject();
                writer.WriteString("type", "tool_call_response");
                writer.WriteString("id", StringOf(item, "call_id"));
                if (JsonCheck.Get(item, "output") is { } output)
                {
                    writer.WritePropertyName("response");
                    output.WriteTo(writer);
                }
                writer.WriteEndObject();
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteString("role", "assistant");
                writer.WriteStartArray("parts");
                writer.WriteStartObject();
                writer.WriteString("type", type ?? "unknown");
                writer.WriteEndObject();
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
        }
        writer.WriteEndArray();
    });

    private static void Message(Utf8JsonWriter writer, string role, JsonElement? content)
    {
        writer.WriteStartObject();
        writer.WriteString("role", role);
        writer.WriteStartArray("parts");
        Parts(writer, content);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>A message's content as parts: a string is one text part; chat's and the Responses API's part types are mapped.</summary>
    private static void Parts(Utf8JsonWriter writer, JsonElement? content)
    {
        if (content is not { } given)
        {
            return;
        }
        if (given.ValueKind == JsonValueKind.String)
        {
            Text(writer, given.GetString()!);
            return;
        }
        if (given.ValueKind != JsonValueKind.Array)
        {
            return;
        }
        foreach (var part in given.EnumerateArray())
        {
            var type = StringOf(part, "type");
            if (type is "text" or "input_text" or "output_text" or "refusal" && (StringOf(part, "text") ?? StringOf(part, "refusal")) is { } text)
            {
                Text(writer, text);
            }
            else if (type is "image_url" or "input_image"
                && (StringOf(part, "image_url") ?? (JsonCheck.Get(part, "image_url") is { ValueKind: JsonValueKind.Object } image ? StringOf(image, "url") : null)) is { } url)
            {
                writer.WriteStartObject();
                writer.WriteString("type", "uri");
                writer.WriteString("modality", "image");
                writer.WriteString("uri", url);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteString("type", type ?? "unknown");
                writer.WriteEndObject();
            }
        }
    }

    private static void ToolCall(Utf8JsonWriter writer, string? id, string? name, string? arguments)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "tool_call");
        writer.WriteString("id", id);
        writer.WriteString("name", name);
        writer.WriteString("arguments", arguments);
        writer.WriteEndObject();
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && JsonCheck.Get(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    public static string Output(ChatCompletion completion) => Written(writer =>
    {
        writer.WriteStartArray();
        foreach (var choice in completion.Choices)
        {
            var message = choice.Message;
            writer.WriteStartObject();
            writer.WriteString("role", message.Role);
            writer.WriteStartArray("parts");
            if (message.Content is { } text)
            {
                Text(writer, text);
            }
            if (message.Refusal is { } refusal)
            {
                Text(writer, refusal);
            }
            foreach (var call in message.ToolCalls ?? [])
            {
                ToolCall(writer, call.Id, call.Function?.Name, call.Function?.Arguments);
            }
            writer.WriteEndArray();
            writer.WriteString("finish_reason", choice.FinishReason);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    });

    private static string Written(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary><c>gen_ai.system_instructions</c>: one text part.</summary>
    public static string Instructions(string instructions) => Written(writer =>
    {
        writer.WriteStartArray();
        Text(writer, instructions);
        writer.WriteEndArray();
    });

    /// <summary>A native upstream's output items, as it wrote them (OpenAI's own shapes, not re-parted).</summary>
    public static string Output(IReadOnlyList<OpenAI.Responses.ResponseItem> items)
    {
        var text = new StringBuilder("[");
        foreach (var item in items)
        {
            text.Append(text.Length > 1 ? "," : "").Append(Encoding.UTF8.GetString(item.Json));
        }
        return text.Append(']').ToString();
    }

    private static void Text(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "text");
        writer.WriteString("content", text);
        writer.WriteEndObject();
    }
}
