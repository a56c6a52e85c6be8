using System.Text;

/// <summary>A prompt or reply and its approximate token count (about 4 characters a token).</summary>
internal sealed record Text(string Value, int Tokens);

/// <summary>Varied English-like texts: short system prompts and ~1 KB user prompts (which echo also answers with).</summary>
internal sealed record Texts(Text[] System, Text[] User)
{
    private static readonly string[] Words =
    [
        "the", "order", "shipment", "customer", "invoice", "please", "summarize", "following", "report", "quarter",
        "revenue", "growth", "support", "ticket", "delayed", "because", "warehouse", "inventory", "account", "refund",
        "policy", "explain", "clearly", "steps", "needed", "resolve", "issue", "within", "two", "days", "and", "with",
        "a", "of", "to", "in", "for", "on", "is", "that", "model", "response", "stored", "request", "metadata", "list",
    ];

    public static Texts Make()
    {
        var random = new Random(7);
        var system = Enumerable.Range(0, 16).Select(i => Make(random, 60 + (i * 5))).ToArray();
        var user = Enumerable.Range(0, 256).Select(_ => Make(random, 950 + random.Next(150))).ToArray();
        return new Texts(system, user);
    }

    private static Text Make(Random random, int length)
    {
        var text = new StringBuilder(length + 16);
        var words = 0;
        while (text.Length < length)
        {
            var word = Words[random.Next(Words.Length)];
            text.Append(text.Length == 0 || text[^1] == '.' ? char.ToUpperInvariant(word[0]) + word[1..] : word);
            text.Append(++words % 12 == 0 ? ". " : " ");
        }
        var value = text.ToString().TrimEnd() + ".";
        return new Text(value, (value.Length + 3) / 4);
    }
}
