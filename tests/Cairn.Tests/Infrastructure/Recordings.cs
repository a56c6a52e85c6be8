using System.Text.Json;

namespace Cairn.Tests.Infrastructure;

/// <summary>Reads the real OpenAI traffic recorded by the official .NET SDK, carried by the test project (Recordings/, with its SOURCE.md).</summary>
public static class Recordings
{
    /// <summary>The recordings copied beside the test binaries from tests/Cairn.Tests/Recordings (see SOURCE.md there).</summary>
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Recordings", "openai-dotnet");

    /// <summary>The response body of entry <paramref name="index"/> of a recording, e.g. ("ChatStoreTests/StoredChatCompletionsWork.json", 4).</summary>
    public static JsonElement ResponseBody(string file, int index)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, file)));
        return document.RootElement.GetProperty("Entries")[index].GetProperty("ResponseBody").Clone();
    }

    public static IEnumerable<string> Keys(JsonElement element) => element.EnumerateObject().Select(p => p.Name);
}
