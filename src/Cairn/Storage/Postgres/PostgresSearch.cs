using System.Text;

namespace Cairn.Storage.Postgres;

/// <summary>
/// A completion's search words as a PostgreSQL <c>tsvector</c>, and a search box's words as a <c>tsquery</c>, both in
/// their text forms and both made by Cairn with <see cref="SearchWords"/>. PostgreSQL only reads the finished values;
/// <c>to_tsvector</c>'s parser was most of the database's work per stored completion and per migrated one, and it
/// split text by other rules than the search box (an e-mail address or a decimal number was one word to it).
/// The prompt's words carry weight A and the answer's weight B, numbered on from the prompt's, as
/// <c>setweight(to_tsvector(prompt), 'A') || setweight(to_tsvector(answer), 'B')</c> numbers them.
/// </summary>
internal static class PostgresSearch
{
    // PostgreSQL's limits (tsearch/ts_type.h): a lexeme of at most 2046 bytes as tsvector's input reads it (longer
    // words are left out without a position, as to_tsvector leaves them out), positions up to 16383, 255 positions
    // of a lexeme kept by to_tsvector and 256 once two vectors are joined.
    private const int MaxLexemeBytes = 2046;
    private const int MaxPosition = 16383;
    private const int MaxPositionsEach = 255;
    private const int MaxPositions = 256;

    /// <summary>The <c>tsvector</c> of a completion's prompt and answer text, in PostgreSQL's text form.</summary>
    public static string Vector(string promptText, string answerText)
    {
        var lexemes = new Dictionary<string, Positions>(StringComparer.Ordinal);
        var lookup = lexemes.GetAlternateLookup<ReadOnlySpan<char>>();
        // As || joins two vectors: the answer's positions follow the highest position the prompt's vector kept.
        var last = Add(promptText, weightB: false, shift: 0);
        Add(answerText, weightB: true, shift: last);
        if (lexemes.Count == 0)
        {
            return "";
        }
        var text = new StringBuilder();
        foreach (var (lexeme, positions) in lexemes)
        {
            text.Append(text.Length == 0 ? "'" : " '").Append(lexeme).Append("':");
            for (var i = 0; i < positions.List.Count; i++)
            {
                var entry = positions.List[i];
                text.Append(i == 0 ? "" : ",").Append(entry & 0x3fff).Append((entry & 0x4000) == 0 ? 'A' : 'B');
            }
        }
        return text.ToString();

        // The words of one text, numbered from shift + 1; returns the highest position kept.
        int Add(string source, bool weightB, int shift)
        {
            Span<char> buffer = stackalloc char[128];
            int position = 0, highest = 0;
            foreach (var run in new SearchWords.Runs(source))
            {
                var word = source.AsSpan(run);
                var lower = word.Length <= buffer.Length ? buffer[..word.Length] : new char[word.Length];
                word.ToLowerInvariant(lower);
                // Measured lowercased: a few letters take more bytes in lower case (U+023A is 2, U+2C65 3).
                if (Encoding.UTF8.GetByteCount(lower) > MaxLexemeBytes)
                {
                    continue;
                }
                position++;
                if (!lookup.TryGetValue(lower, out var positions))
                {
                    positions = new Positions();
                    lookup[lower] = positions;
                }
                var at = Math.Min(position + shift, MaxPosition);
                // Past the last position every word shares it, and a position is kept once.
                var fromThisText = weightB ? positions.FromAnswer : positions.List.Count;
                if (fromThisText < MaxPositionsEach && positions.List.Count < MaxPositions
                    && (positions.List.Count == 0 || (positions.List[^1] & 0x3fff) != at))
                {
                    positions.List.Add((ushort)(at | (weightB ? 0x4000 : 0)));
                    positions.FromAnswer += weightB ? 1 : 0;
                    highest = Math.Max(highest, Math.Min(position, MaxPosition));
                }
            }
            return highest;
        }
    }

    /// <summary>
    /// A lexeme's positions, each with its weight bit (0x4000: B), the prompt's first; and how many are the answer's.
    /// </summary>
    private sealed class Positions
    {
        public List<ushort> List { get; } = [];

        public int FromAnswer { get; set; }
    }

    /// <summary>The <c>tsquery</c> that finds every word of <paramref name="words"/> as the start of a stored word.</summary>
    public static string Query(IReadOnlyList<string> words) => string.Join(" & ", words.Select(w => $"'{w}':*"));
}
