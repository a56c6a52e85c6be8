using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Dashboard.Pages;

/// <summary>
/// The metadata form of a stored object's page (a completion, a response): the rows it shows and why a post was
/// refused. A post is read under the API's rules (<see cref="MetadataParser.Check"/>), so the dashboard stores
/// nothing the API would refuse, and saving replaces the whole map, as the API's update does.
/// </summary>
internal sealed record MetadataForm(IReadOnlyList<KeyValuePair<string, string>> Rows, string? Error = null)
{
    /// <summary>The form of what is stored: the stored object's <c>metadata</c>.</summary>
    public static MetadataForm Of(JsonElement body) => new(JsonView.Get(body, "metadata") is { ValueKind: JsonValueKind.Object } stored
        ? [.. stored.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetString() ?? ""))]
        : []);

    /// <summary>
    /// The posted rows (empty ones left out) as metadata; or null, and the form to show again saying why, with the
    /// rows as posted (or those of <paramref name="stored"/> when the posted ones could not be decoded).
    /// </summary>
    public static (IReadOnlyDictionary<string, string>? Metadata, MetadataForm Form) Read(string[] keys, string[] values, MetadataForm stored)
    {
        var posted = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < Math.Max(keys.Length, values.Length); i++)
        {
            var key = i < keys.Length ? keys[i]?.Trim() ?? "" : "";
            var value = i < values.Length ? values[i] ?? "" : "";
            if (key.Length == 0 && value.Length == 0)
            {
                continue;
            }
            posted.Add(KeyValuePair.Create(key, value));
        }
        if (posted.Any(p => !IsCleanText(p.Key) || !IsCleanText(p.Value)))
        {
            // Undecodable bytes arrive as U+FFFD (or, in a form posted in UTF-16, as lone surrogates): storing them would
            // store something other than what was typed. The stored rows are shown again, not the mangled ones.
            return (null, stored with { Error = "A key or value holds characters that could not be decoded (invalid UTF-8). Nothing was saved." });
        }
        if (posted.Any(p => p.Key.Length == 0))
        {
            return (null, new(posted, "Every metadata value needs a key."));
        }
        if (posted.GroupBy(p => p.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            return (null, new(posted, $"The key '{twice.Key}' is given twice."));
        }
        try
        {
            // The API's own checks (16 pairs, key and value lengths).
            return (MetadataParser.Check(posted, "metadata"), new(posted));
        }
        catch (OpenAIException e)
        {
            return (null, new(posted, e.Error.Message));
        }
    }

    private static bool IsCleanText(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\uFFFD' || char.IsLowSurrogate(c) || (char.IsHighSurrogate(c) && (i + 1 == text.Length || !char.IsLowSurrogate(text[++i]))))
            {
                return false;
            }
        }
        return true;
    }
}
