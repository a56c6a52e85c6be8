using System.Text;
using System.Text.Json;
using Cairn.Observability;
using Cairn.OpenAI;

namespace Cairn.Completions;

/// <summary>
/// Answers written as the GenAI conventions' <c>gen_ai.output.messages</c> (a JSON array of messages, each a role,
/// parts and a finish reason), for spans when content capture is on; never called otherwise.
/// </summary>
internal static class GenAiContent
{
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
                writer.WriteStartObject();
                writer.WriteString("type", "tool_call");
                writer.WriteString("id", call.Id);
                writer.WriteString("name", call.Function?.Name);
                writer.WriteString("arguments", call.Function?.Arguments);
                writer.WriteEndObject();
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
