using System.Buffers;
using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Upstream;

/// <summary>
/// The body a response is relayed upstream with (<c>ResponsesApi: native</c>): the client's own, property by property
/// and byte for byte, with the model renamed, the chain Cairn keeps spelled out in <c>input</c> in place of
/// <c>previous_response_id</c> (the upstream never saw Cairn's response ids), and, unless the deployment forwards
/// them, <c>store:false</c> and no <c>metadata</c>: Cairn stores the response, the upstream keeps nothing.
/// </summary>
internal static class ResponsesBody
{
    public static byte[] Write(ResponseCall call, string upstreamModel, ModelOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            writer.WriteStartObject();
            var wroteInput = false;
            var wroteStore = options.ForwardStore;
            foreach (var property in call.Request.Root.EnumerateObject())
            {
                if (property.NameEquals("model"u8))
                {
                    writer.WriteString("model"u8, upstreamModel);
                }
                else if (property.NameEquals("input"u8))
                {
                    WriteInput(writer, call, property.Value);
                    wroteInput = true;
                }
                else if (property.NameEquals("previous_response_id"u8))
                {
                    continue;
                }
                else if (!options.ForwardStore && property.NameEquals("store"u8))
                {
                    writer.WriteBoolean("store"u8, false);
                    wroteStore = true;
                }
                else if (!options.ForwardStore && property.NameEquals("metadata"u8))
                {
                    continue;
                }
                else
                {
                    property.WriteTo(writer);
                }
            }
            if (!wroteInput)
            {
                // A turn that continues a chain may send no input of its own.
                WriteInput(writer, call, null);
            }
            if (!wroteStore)
            {
                // The Responses API stores unless told not to.
                writer.WriteBoolean("store"u8, false);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The chain's items, oldest first, then the client's input. Item ids go: they name items of Cairn's store, which an
    /// upstream that stores nothing refuses (<c>Item with id '…' not found</c>); the stored items' <c>status</c> goes
    /// with them, and their reasoning items without <c>encrypted_content</c> (which an upstream can only look up by id).
    /// A first turn's string input is sent as it came; after a chain, as one user message.
    /// </summary>
    private static void WriteInput(Utf8JsonWriter writer, ResponseCall call, JsonElement? sent)
    {
        if (call.Context.Count == 0 && sent is { ValueKind: JsonValueKind.String } text)
        {
            writer.WritePropertyName("input"u8);
            text.WriteTo(writer);
            return;
        }
        writer.WriteStartArray("input"u8);
        foreach (var stored in call.Context)
        {
            using var document = JsonDocument.Parse(stored, JsonBody.Stored);
            var item = document.RootElement;
            if (JsonCheck.Get(item, "type")?.ValueEquals("reasoning"u8) == true && JsonCheck.Get(item, "encrypted_content") is null)
            {
                continue;
            }
            WriteWithout(writer, item, "status"u8);
        }
        foreach (var item in call.Request.Input)
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "message"u8);
                writer.WriteString("role"u8, "user"u8);
                writer.WritePropertyName("content"u8);
                item.WriteTo(writer);
                writer.WriteEndObject();
            }
            else
            {
                WriteWithout(writer, item, []);
            }
        }
        writer.WriteEndArray();
    }

    /// <summary>An item as it is, less its <c>id</c> and, when named, <paramref name="also"/>.</summary>
    private static void WriteWithout(Utf8JsonWriter writer, JsonElement item, ReadOnlySpan<byte> also)
    {
        writer.WriteStartObject();
        foreach (var property in item.EnumerateObject())
        {
            if (!property.NameEquals("id"u8) && (also.IsEmpty || !property.NameEquals(also)))
            {
                property.WriteTo(writer);
            }
        }
        writer.WriteEndObject();
    }
}
