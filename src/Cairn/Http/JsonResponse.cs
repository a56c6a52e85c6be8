using System.Buffers;
using System.Text.Json;

namespace Cairn.Http;

/// <summary>Writes JSON responses: bytes already serialized, or built with a <see cref="Utf8JsonWriter"/>.</summary>
internal static class JsonResponse
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? buffer;

    public static Task WriteAsync(HttpResponse response, ReadOnlyMemory<byte> json)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = json.Length;
        return response.BodyWriter.WriteAsync(json).AsTask();
    }

    /// <summary>OpenAI's answer to a delete: <c>{"object": "<paramref name="objectName"/>", "id", "deleted": true}</c>.</summary>
    public static Task WriteDeletedAsync(HttpResponse response, string objectName, string id) =>
        WriteAsync(response, (objectName, id), static (writer, s) =>
        {
            writer.WriteStartObject();
            writer.WriteString("object"u8, s.objectName);
            writer.WriteString("id"u8, s.id);
            writer.WriteBoolean("deleted"u8, true);
            writer.WriteEndObject();
        });

    /// <summary>Builds the body with <paramref name="write"/> into a reused buffer, then sends it with its length.</summary>
    public static Task WriteAsync<TState>(HttpResponse response, TState state, Action<Utf8JsonWriter, TState> write, int status = StatusCodes.Status200OK) =>
        WriteBytesAsync(response, (state, write), static (bytes, s) =>
        {
            using var writer = new Utf8JsonWriter(bytes, Cairn.OpenAI.JsonWriting.Options);
            s.write(writer, s.state);
        }, status);

    /// <summary>Builds the body's bytes with <paramref name="write"/> into a reused buffer, then sends them with their length.</summary>
    public static Task WriteBytesAsync<TState>(HttpResponse response, TState state, Action<IBufferWriter<byte>, TState> write, int status = StatusCodes.Status200OK)
    {
        var bytes = buffer ??= new ArrayBufferWriter<byte>(4096);
        bytes.ResetWrittenCount();
        write(bytes, state);
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = bytes.WrittenCount;
        // Copied into the pipe before returning, so the thread-static buffer is free for the next request.
        var destination = response.BodyWriter.GetSpan(bytes.WrittenCount);
        bytes.WrittenSpan.CopyTo(destination);
        response.BodyWriter.Advance(bytes.WrittenCount);
        if (bytes.Capacity > 1 << 20)
        {
            buffer = null;
        }
        return response.BodyWriter.FlushAsync().AsTask();
    }
}
