using System.Buffers;
using System.Text.Json;
using Cairn.OpenAI;
using Cairn.Models;

namespace Cairn.Upstream;

/// <summary>
/// The body sent upstream: the client's own, property by property and byte for byte, with the model renamed and
/// only what the deployment's settings ask changed (<c>store</c>/<c>metadata</c> kept back, usage asked for).
/// </summary>
internal static class UpstreamBody
{
    /// <summary>Whether Cairn asks a stream for usage the client did not ask for (and then hides that chunk).</summary>
    public static bool AddsUsage(ChatCompletionRequest request, ModelOptions options) =>
        request.Stream && !request.IncludeUsage && options.StreamUsage;

    public static byte[] Write(ChatCompletionRequest request, string upstreamModel, ModelOptions options)
    {
        var addUsage = AddsUsage(request, options);
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            writer.WriteStartObject();
            var wroteStreamOptions = false;
            foreach (var property in request.Root.EnumerateObject())
            {
                if (property.NameEquals("model"u8))
                {
                    writer.WriteString("model"u8, upstreamModel);
                }
                else if (!options.ForwardStore && (property.NameEquals("store"u8) || property.NameEquals("metadata"u8)))
                {
                    continue;
                }
                else if (addUsage && property.NameEquals("stream_options"u8))
                {
                    WriteStreamOptions(writer, property.Value);
                    wroteStreamOptions = true;
                }
                else
                {
                    property.WriteTo(writer);
                }
            }
            if (addUsage && !wroteStreamOptions)
            {
                WriteStreamOptions(writer, null);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The client's <c>stream_options</c> (other keys kept) with <c>include_usage: true</c>.</summary>
    private static void WriteStreamOptions(Utf8JsonWriter writer, JsonElement? given)
    {
        writer.WriteStartObject("stream_options"u8);
        if (given is { ValueKind: JsonValueKind.Object } options)
        {
            foreach (var property in options.EnumerateObject())
            {
                if (!property.NameEquals("include_usage"u8))
                {
                    property.WriteTo(writer);
                }
            }
        }
        writer.WriteBoolean("include_usage"u8, true);
        writer.WriteEndObject();
    }
}
