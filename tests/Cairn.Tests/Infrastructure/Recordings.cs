using System.Text.Json;

namespace Cairn.Tests.Infrastructure;

/// <summary>Reads the real OpenAI traffic recorded by the official .NET SDK, in ../shared/spec/recordings.</summary>
public static class Recordings
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cairn.slnx")))
            {
                return Path.Combine(dir.FullName, "..", "shared", "spec", "recordings", "openai-dotnet");
            }
        }
        throw new DirectoryNotFoundException("Cairn.slnx not found above the test binaries; shared/ sits beside the repository.");
    });

    /// <summary>The response body of entry <paramref name="index"/> of a recording, e.g. ("ChatStoreTests/StoredChatCompletionsWork.json", 4).</summary>
    public static JsonElement ResponseBody(string file, int index)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root.Value, file)));
        return document.RootElement.GetProperty("Entries")[index].GetProperty("ResponseBody").Clone();
    }

    public static IEnumerable<string> Keys(JsonElement element) => element.EnumerateObject().Select(p => p.Name);
}
