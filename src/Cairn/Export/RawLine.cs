using System.Buffers;
using System.Text.Json;
using Cairn.Storage;

namespace Cairn.Export;

/// <summary>
/// A raw export line: the stored object byte for byte as GET returns it, with one key added at its end,
/// <c>cairn_export</c>, holding what the stored object alone does not: the project, the model name lists filter on
/// (a proxied completion's client-side name, which can differ from the object's <c>model</c>), and each input
/// message item byte for byte as <c>/messages</c> returns it. <see cref="ImportLine"/> reads it back.
/// </summary>
internal static class RawLine
{
    public const string Key = "cairn_export";
    public const int Version = 1;

    public static bool Write(ArrayBufferWriter<byte> line, ArchivedCompletion completion, string projectName)
    {
        Open(line, completion.Body, completion.Id);
        using (var json = new Utf8JsonWriter(line, Cairn.OpenAI.JsonWriting.Options))
        {
            json.WriteStartObject();
            json.WriteNumber("version"u8, Version);
            json.WriteString("project"u8, projectName);
            json.WriteString("model"u8, completion.Model);
            json.WriteStartArray("messages"u8);
            foreach (var message in completion.Messages)
            {
                json.WriteRawValue(message, skipInputValidation: true);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        line.Write("}\n"u8);
        return true;
    }

    /// <summary>
    /// Writes the stored object <paramref name="body"/> without its closing brace, then <c>"cairn_export":</c>: the
    /// caller writes the export object and <c>}\n</c>.
    /// </summary>
    public static void Open(ArrayBufferWriter<byte> line, ReadOnlySpan<byte> body, string id)
    {
        var close = body.LastIndexOf((byte)'}');
        if (close < 0)
        {
            throw new InvalidDataException($"The stored object of {id} is not a JSON object.");
        }
        line.Write(body[..close]);
        // Only an object without properties has its opening brace right before the closing one.
        if (body[..close].TrimEnd(" \t\r\n"u8) is not [.., (byte)'{'])
        {
            line.Write(","u8);
        }
        line.Write("\"cairn_export\":"u8);
    }
}
