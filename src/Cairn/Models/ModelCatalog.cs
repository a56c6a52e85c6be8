namespace Cairn.Models;

/// <summary>
/// Routes a request's <c>model</c> to what serves it: an exact id first, then the configured patterns in their
/// configuration order (<c>*</c> matches any run of characters).
/// </summary>
internal sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelCard> byId;
    private readonly IReadOnlyList<ModelCard> patterns;

    public ModelCatalog(IEnumerable<ModelCard> cards)
    {
        byId = new Dictionary<string, ModelCard>(StringComparer.Ordinal);
        var patternCards = new List<ModelCard>();
        foreach (var card in cards)
        {
            if (card.Id.Contains('*', StringComparison.Ordinal))
            {
                patternCards.Add(card);
            }
            else
            {
                byId.TryAdd(card.Id, card);
            }
        }
        patterns = patternCards;
    }

    /// <summary>The models with exact ids; patterns are not listed (they name no one model).</summary>
    public IReadOnlyCollection<ModelCard> All => byId.Values;

    public ModelCard? Find(string id)
    {
        if (byId.TryGetValue(id, out var card))
        {
            return card;
        }
        foreach (var pattern in patterns)
        {
            if (Matches(pattern.Id, id))
            {
                return pattern with { Id = id };
            }
        }
        return null;
    }

    /// <summary>Glob match where <c>*</c> is any run of characters (none included) and everything else is literal.</summary>
    internal static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }
}
