using System.Text.Json;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// Writes a response's output items and their parts in the live API's key order (<c>id, type</c>, then alphabetical,
/// <c>role</c> last), for the stored items and the stream's events alike.
/// </summary>
internal static class OutputItemWriter
{
    /// <summary>An assistant message: <c>{id, type:"message", status, content:[parts], role:"assistant"}</c>; no part gives <c>content:[]</c>.</summary>
    public static void WriteMessage(Utf8JsonWriter writer, string id, string status, string? text, string? refusal)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("type"u8, "message"u8);
        writer.WriteString("status"u8, status);
        writer.WriteStartArray("content"u8);
        if (text is not null)
        {
            WriteOutputText(writer, text);
        }
        if (refusal is not null)
        {
            WriteRefusal(writer, refusal);
        }
        writer.WriteEndArray();
        writer.WriteString("role"u8, "assistant"u8);
        writer.WriteEndObject();
    }

    /// <summary><c>{type:"output_text", annotations:[], logprobs:[], text}</c>.</summary>
    public static void WriteOutputText(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "output_text"u8);
        writer.WriteStartArray("annotations"u8);
        writer.WriteEndArray();
        writer.WriteStartArray("logprobs"u8);
        writer.WriteEndArray();
        writer.WriteString("text"u8, text);
        writer.WriteEndObject();
    }

    /// <summary><c>{type:"refusal", refusal}</c>.</summary>
    public static void WriteRefusal(Utf8JsonWriter writer, string refusal)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "refusal"u8);
        writer.WriteString("refusal"u8, refusal);
        writer.WriteEndObject();
    }

    /// <summary><c>{id, type:"function_call", status, arguments, call_id, name}</c>.</summary>
    public static void WriteFunctionCall(Utf8JsonWriter writer, string id, string status, string arguments, string callId, string name)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("type"u8, "function_call"u8);
        writer.WriteString("status"u8, status);
        writer.WriteString("arguments"u8, arguments);
        writer.WriteString("call_id"u8, callId);
        writer.WriteString("name"u8, name);
        writer.WriteEndObject();
    }
}
