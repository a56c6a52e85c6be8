using System.Text;
using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// Writes Responses items (as sent or as stored) as chat <c>messages</c>. An assistant message is held until the next
/// item that is not a function call, so that the calls after it join it as its <c>tool_calls</c>; reasoning items are
/// left out without ending it.
/// </summary>
internal sealed class ChatMessages(Utf8JsonWriter writer)
{
    private readonly List<JsonElement> calls = [];
    private bool assistant;
    private string? text;
    private string? refusal;

    public void Add(JsonElement item)
    {
        if (item.ValueKind == JsonValueKind.String)
        {
            Flush();
            writer.WriteStartObject();
            writer.WriteString("role"u8, "user");
            writer.WriteString("content"u8, item.GetString());
            writer.WriteEndObject();
            return;
        }
        switch (ResponseInputParser.TypeOf(item))
        {
            case "message" when item.GetProperty("role").ValueEquals("assistant"):
                Flush();
                assistant = true;
                (text, refusal) = AssistantContent(item.GetProperty("content"));
                break;
            case "message":
                Flush();
                Message(item);
                break;
            case "function_call":
                assistant = true;
                calls.Add(item);
                break;
            case "function_call_output":
                Flush();
                writer.WriteStartObject();
                writer.WriteString("role"u8, "tool");
                writer.WriteString("tool_call_id"u8, item.GetProperty("call_id").GetString());
                var output = item.GetProperty("output");
                writer.WriteString("content"u8, output.ValueKind == JsonValueKind.String ? output.GetString() : JoinText(output, "input_text", "text") ?? "");
                writer.WriteEndObject();
                break;
        }
    }

    /// <summary>Writes the assistant message being held, if it has anything to say.</summary>
    public void Flush()
    {
        if (!assistant)
        {
            return;
        }
        assistant = false;
        if (text is not null || refusal is not null || calls.Count > 0)
        {
            writer.WriteStartObject();
            writer.WriteString("role"u8, "assistant");
            // Chat wants content unless there are tool calls; a refusal alone comes with empty text.
            writer.StringOrNull("content"u8, text ?? (calls.Count > 0 ? null : ""));
            if (refusal is not null)
            {
                writer.WriteString("refusal"u8, refusal);
            }
            if (calls.Count > 0)
            {
                writer.WriteStartArray("tool_calls"u8);
                foreach (var call in calls)
                {
                    writer.WriteStartObject();
                    writer.WriteString("id"u8, call.GetProperty("call_id").GetString());
                    writer.WriteString("type"u8, "function");
                    writer.WriteStartObject("function"u8);
                    writer.WriteString("name"u8, call.GetProperty("name").GetString());
                    writer.WriteString("arguments"u8, call.GetProperty("arguments").GetString());
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        calls.Clear();
        text = null;
        refusal = null;
    }

    private static (string? Text, string? Refusal) AssistantContent(JsonElement content) =>
        content.ValueKind == JsonValueKind.String
            ? (content.GetString(), null)
            : (JoinText(content, "output_text", "text"), JoinText(content, "refusal", "refusal"));

    /// <summary>The <paramref name="field"/> of every part of <paramref name="type"/>, joined; null when there is none.</summary>
    private static string? JoinText(JsonElement parts, string type, string field)
    {
        StringBuilder? joined = null;
        foreach (var part in parts.EnumerateArray())
        {
            if (part.GetProperty("type").ValueEquals(type))
            {
                (joined ??= new StringBuilder()).Append(part.GetProperty(field).GetString());
            }
        }
        return joined?.ToString();
    }

    /// <summary>A user, system or developer message; one whose parts were all trimmed away in storage is left out.</summary>
    private void Message(JsonElement item)
    {
        var role = item.GetProperty("role").GetString();
        var content = item.GetProperty("content");
        if (content.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartObject();
            writer.WriteString("role"u8, role);
            writer.WriteString("content"u8, content.GetString());
            writer.WriteEndObject();
            return;
        }
        if (!content.EnumerateArray().Any(Carried))
        {
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("role"u8, role);
        writer.WriteStartArray("content"u8);
        foreach (var part in content.EnumerateArray().Where(Carried))
        {
            Part(part);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Whether a part still holds what the model needs (stored images and files have lost their payload).</summary>
    private static bool Carried(JsonElement part) => part.GetProperty("type").GetString() switch
    {
        "input_text" => true,
        "input_image" => Get(part, "image_url") is not null,
        "input_file" => Get(part, "file_data") is not null || Get(part, "file_id") is not null,
        _ => false,
    };

    private void Part(JsonElement part)
    {
        writer.WriteStartObject();
        switch (part.GetProperty("type").GetString())
        {
            case "input_text":
                writer.WriteString("type"u8, "text");
                writer.WriteString("text"u8, part.GetProperty("text").GetString());
                break;
            case "input_image":
                writer.WriteString("type"u8, "image_url");
                writer.WriteStartObject("image_url"u8);
                writer.WriteString("url"u8, part.GetProperty("image_url").GetString());
                if (OptionalString(part, "detail", "") is { } detail)
                {
                    writer.WriteString("detail"u8, detail);
                }
                writer.WriteEndObject();
                break;
            case "input_file":
                writer.WriteString("type"u8, "file");
                writer.WriteStartObject("file"u8);
                foreach (var name in (string[])["file_data", "file_id", "filename"])
                {
                    if (OptionalString(part, name, "") is { } value)
                    {
                        writer.WriteString(name, value);
                    }
                }
                writer.WriteEndObject();
                break;
        }
        writer.WriteEndObject();
    }
}
