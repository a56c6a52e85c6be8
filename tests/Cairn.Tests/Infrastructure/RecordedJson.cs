using System.Buffers;
using System.Text;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Tests.Infrastructure;

/// <summary>Request bodies of the recorded OpenAI traffic, and JSON written compactly the way OpenAI writes it.</summary>
public static class RecordedJson
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Recordings", "openai-dotnet");

    /// <summary>Every recorded entry of a file, e.g. "ResponsesTests/FunctionCallWorks.json".</summary>
    public static JsonElement Entries(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, file)));
        return document.RootElement.GetProperty("Entries").Clone();
    }

    /// <summary>Every recording file under <paramref name="folder"/>, relative to the recordings' root.</summary>
    public static IEnumerable<string> Files(string folder) =>
        Directory.EnumerateFiles(Path.Combine(Root, folder), "*.json").Order(StringComparer.Ordinal).Select(f => Path.GetRelativePath(Root, f));

    /// <summary>The request body of entry <paramref name="index"/>, as compact UTF-8 JSON.</summary>
    public static byte[] RequestBody(string file, int index) => Encoding.UTF8.GetBytes(Compact(Entries(file)[index].GetProperty("RequestBody")));

    /// <summary>An element written without whitespace, text escaped as OpenAI escapes it.</summary>
    public static string Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            element.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
