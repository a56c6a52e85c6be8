using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI.Responses;

/// <summary>A request's input items as OpenAI stores them.</summary>
internal static class ResponseItems
{
    /// <summary>
    /// The request's input as stored items, in order: each given an id of <paramref name="responseId"/> (<c>msg_</c>
    /// for messages, <c>fc_</c> for function calls and their outputs, <c>rs_</c> for reasoning) unless it carried one,
    /// <c>status:"completed"</c> (not on reasoning), keys ordered as OpenAI's (<c>id, type</c>, then alphabetical,
    /// <c>role</c> last). Payloads are kept, so a later turn of the chain still shows the model its images and files:
    /// an <c>input_image</c> keeps its <c>image_url</c>, an <c>input_file</c> its <c>file_data</c>; <see cref="Listed"/>
    /// trims them as OpenAI's <c>input_items</c> shows them. A string input is one user message with one
    /// <c>input_text</c> part; an assistant message's string content one <c>output_text</c> part.
    /// </summary>
    public static IReadOnlyList<ResponseItem> Store(ResponseRequest request, string responseId)
    {
        var items = new List<ResponseItem>(request.Input.Count);
        foreach (var item in request.Input)
        {
            items.Add(Store(item, responseId));
        }
        return items;
    }

    private static ResponseItem Store(JsonElement item, string responseId)
    {
        var type = item.ValueKind == JsonValueKind.String ? "message" : ResponseInputParser.TypeOf(item);
        var id = (item.ValueKind == JsonValueKind.Object ? OptionalString(item, "id", "") : null)
            ?? Ids.Item(type switch { "message" => "msg", "reasoning" => "rs", _ => "fc" }, responseId);
        var bytes = JsonWriting.ToUtf8(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, id);
            writer.WriteString("type"u8, type);
            if (type != "reasoning")
            {
                writer.WriteString("status"u8, "completed");
            }
            switch (type)
            {
                case "message" when item.ValueKind == JsonValueKind.String:
                    writer.WriteStartArray("content"u8);
                    InputText(writer, item.GetString()!);
                    writer.WriteEndArray();
                    writer.WriteString("role"u8, "user");
                    break;
                case "message":
                    Message(writer, item);
                    break;
                case "function_call":
                    writer.WriteString("arguments"u8, item.GetProperty("arguments").GetString());
                    writer.WriteString("call_id"u8, item.GetProperty("call_id").GetString());
                    writer.WriteString("name"u8, item.GetProperty("name").GetString());
                    break;
                case "function_call_output":
                    writer.WriteString("call_id"u8, item.GetProperty("call_id").GetString());
                    var output = item.GetProperty("output");
                    if (output.ValueKind == JsonValueKind.String)
                    {
                        writer.WriteString("output"u8, output.GetString());
                    }
                    else
                    {
                        writer.WriteStartArray("output"u8);
                        foreach (var part in output.EnumerateArray())
                        {
                            Part(writer, part);
                        }
                        writer.WriteEndArray();
                    }
                    break;
                case "reasoning":
                    if (Get(item, "content") is { } content)
                    {
                        Texts(writer, "content"u8, content);
                    }
                    if (OptionalString(item, "encrypted_content", "") is { } encrypted)
                    {
                        writer.WriteString("encrypted_content"u8, encrypted);
                    }
                    Texts(writer, "summary"u8, item.GetProperty("summary"));
                    break;
            }
            writer.WriteEndObject();
        });
        return new ResponseItem(id, bytes) { Sent = item };
    }

    /// <summary>A message's <c>content</c>, <c>phase</c> when sent, and <c>role</c>.</summary>
    private static void Message(Utf8JsonWriter writer, JsonElement item)
    {
        var role = item.GetProperty("role").GetString()!;
        var content = item.GetProperty("content");
        writer.WriteStartArray("content"u8);
        if (content.ValueKind != JsonValueKind.String)
        {
            foreach (var part in content.EnumerateArray())
            {
                Part(writer, part);
            }
        }
        else if (role == "assistant")
        {
            OutputText(writer, content.GetString()!, null, null);
        }
        else
        {
            InputText(writer, content.GetString()!);
        }
        writer.WriteEndArray();
        if (OptionalString(item, "phase", "") is { } phase)
        {
            writer.WriteString("phase"u8, phase);
        }
        writer.WriteString("role"u8, role);
    }

    private static void Part(Utf8JsonWriter writer, JsonElement part)
    {
        switch (part.GetProperty("type").GetString())
        {
            case "input_text":
                InputText(writer, part.GetProperty("text").GetString()!);
                break;
            case "input_image":
                writer.WriteStartObject();
                writer.WriteString("type"u8, "input_image");
                writer.WriteString("detail"u8, OptionalString(part, "detail", "") ?? "auto");
                writer.StringOrNull("file_id"u8, OptionalString(part, "file_id", ""));
                writer.StringOrNull("image_url"u8, OptionalString(part, "image_url", ""));
                writer.WriteEndObject();
                break;
            case "input_file":
                writer.WriteStartObject();
                writer.WriteString("type"u8, "input_file");
                if (OptionalString(part, "detail", "") is { } detail)
                {
                    writer.WriteString("detail"u8, detail);
                }
                if (OptionalString(part, "file_data", "") is { } data)
                {
                    writer.WriteString("file_data"u8, data);
                }
                writer.StringOrNull("file_id"u8, OptionalString(part, "file_id", ""));
                if (OptionalString(part, "filename", "") is { } filename)
                {
                    writer.WriteString("filename"u8, filename);
                }
                writer.WriteEndObject();
                break;
            case "output_text":
                OutputText(writer, part.GetProperty("text").GetString()!, Get(part, "annotations"), Get(part, "logprobs"));
                break;
            case "refusal":
                writer.WriteStartObject();
                writer.WriteString("type"u8, "refusal");
                writer.WriteString("refusal"u8, part.GetProperty("refusal").GetString());
                writer.WriteEndObject();
                break;
        }
    }

    /// <summary>
    /// A stored input item as <c>GET /v1/responses/{id}/input_items</c> shows it: an image's <c>image_url</c> is null
    /// unless <paramref name="imageUrls"/> (<c>include=message.input_image.image_url</c>), a file's <c>file_data</c> is
    /// never shown. Items without images or files are returned as they are, unread.
    /// </summary>
    public static byte[] Listed(byte[] stored, bool imageUrls)
    {
        var span = stored.AsSpan();
        var hasImage = !imageUrls && span.IndexOf("\"input_image\""u8) >= 0;
        if (!hasImage && span.IndexOf("\"input_file\""u8) < 0)
        {
            return stored;
        }
        using var document = JsonDocument.Parse(stored, JsonBody.Stored);
        var bytes = JsonWriting.ToUtf8(writer =>
        {
            WriteListed(writer, document.RootElement, imageUrls);
        });
        return bytes;
    }

    private static void WriteListed(Utf8JsonWriter writer, JsonElement element, bool imageUrls)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var type = Get(element, "type") is { ValueKind: JsonValueKind.String } t ? t.GetString() : null;
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    if (type == "input_file" && property.NameEquals("file_data"u8))
                    {
                        continue;
                    }
                    writer.WritePropertyName(property.Name);
                    if (type == "input_image" && !imageUrls && property.NameEquals("image_url"u8))
                    {
                        writer.WriteNullValue();
                    }
                    else
                    {
                        WriteListed(writer, property.Value, imageUrls);
                    }
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var value in element.EnumerateArray())
                {
                    WriteListed(writer, value, imageUrls);
                }
                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    private static void InputText(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "input_text");
        writer.WriteString("text"u8, text);
        writer.WriteEndObject();
    }

    private static void OutputText(Utf8JsonWriter writer, string text, JsonElement? annotations, JsonElement? logprobs)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "output_text");
        ArrayOrEmpty(writer, "annotations"u8, annotations);
        ArrayOrEmpty(writer, "logprobs"u8, logprobs);
        writer.WriteString("text"u8, text);
        writer.WriteEndObject();
    }

    private static void ArrayOrEmpty(Utf8JsonWriter writer, ReadOnlySpan<byte> name, JsonElement? array)
    {
        writer.WritePropertyName(name);
        if (array is { } value)
        {
            value.WriteTo(writer);
        }
        else
        {
            writer.WriteStartArray();
            writer.WriteEndArray();
        }
    }

    /// <summary>A reasoning item's <c>{type, text}</c> parts.</summary>
    private static void Texts(Utf8JsonWriter writer, ReadOnlySpan<byte> name, JsonElement parts)
    {
        writer.WriteStartArray(name);
        foreach (var part in parts.EnumerateArray())
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, part.GetProperty("type").GetString());
            writer.WriteString("text"u8, part.GetProperty("text").GetString());
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
