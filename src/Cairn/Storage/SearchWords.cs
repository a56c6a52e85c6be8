using System.Text;

namespace Cairn.Storage;

/// <summary>
/// The one rule that splits text into search words: runs of letters and digits, lowercased. SQLite's FTS5 index
/// splits stored text the same way (its unicode61 tokenizer, diacritics kept), PostgreSQL's search vectors are made
/// with it (<see cref="Postgres.PostgresSearch"/>), and a search box's words are split with it, so the same words
/// are looked for on both stores and nothing the user typed reaches either query language unescaped.
/// </summary>
internal static class SearchWords
{
    public const int MaxWords = 16;

    /// <summary>The words of a search box's text, at most <see cref="MaxWords"/>.</summary>
    public static IReadOnlyList<string> Split(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }
        var words = new List<string>();
        foreach (var run in new Runs(text))
        {
            if (words.Count == MaxWords)
            {
                break;
            }
            words.Add(text[run].ToLowerInvariant());
        }
        return words;
    }

    /// <summary>
    /// The runs of letters and digits in a text, as ranges of it, without allocating. An unpaired surrogate is not a
    /// letter, so it ends a run.
    /// </summary>
    internal ref struct Runs(ReadOnlySpan<char> text)
    {
        private readonly ReadOnlySpan<char> text = text;
        private int next;

        public Range Current { get; private set; }

        public readonly Runs GetEnumerator() => this;

        public bool MoveNext()
        {
            var start = -1;
            while (next < text.Length)
            {
                var at = next;
                var c = text[next];
                bool word;
                if (char.IsAscii(c))
                {
                    word = char.IsAsciiLetterOrDigit(c);
                    next++;
                }
                else
                {
                    Rune.DecodeFromUtf16(text[next..], out var rune, out var used);
                    word = Rune.IsLetterOrDigit(rune);
                    next += used;
                }
                if (word)
                {
                    if (start < 0)
                    {
                        start = at;
                    }
                }
                else if (start >= 0)
                {
                    Current = start..at;
                    return true;
                }
            }
            if (start >= 0)
            {
                Current = start..text.Length;
                return true;
            }
            return false;
        }
    }
}
