using System.Text;

namespace Cairn.Storage;

/// <summary>
/// Splits a search box's text into words the way both stores' indexes do (runs of letters and digits), so the
/// same words are looked for on SQLite FTS5 and PostgreSQL tsvector, and nothing the user typed reaches either
/// query language unescaped.
/// </summary>
internal static class SearchWords
{
    public const int MaxWords = 16;

    public static IReadOnlyList<string> Split(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune))
            {
                word.Append(rune.ToString());
                continue;
            }
            Flush();
        }
        Flush();
        return words;

        void Flush()
        {
            if (word.Length > 0 && words.Count < MaxWords)
            {
                words.Add(word.ToString().ToLowerInvariant());
            }
            word.Clear();
        }
    }
}
