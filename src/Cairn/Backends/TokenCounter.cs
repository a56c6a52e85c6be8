using System.Collections.Concurrent;
using Cairn.OpenAI;
using Microsoft.ML.Tokenizers;

namespace Cairn.Backends;

/// <summary>
/// Counts and cuts text in o200k_base tokens (the GPT-4o family's encoding), so usage figures are real counts.
/// </summary>
internal sealed class TokenCounter
{
    // OpenAI's chat format spends a few tokens per message on role markers and three priming the reply.
    private const int PerMessage = 3;
    private const int PerName = 1;
    private const int ReplyPriming = 3;

    // Counts of recent texts: system prompts, tool lists and roles repeat from request to request, and the echo
    // model's answer is the prompt's last user message, split (and so counted) before the prompt is. Bounded: at
    // most CacheEntries texts of at most CacheChars characters (a few MB), emptied when full.
    private const int CacheEntries = 1024;
    private const int CacheChars = 4096;

    private readonly Lazy<Tokenizer> tokenizer;
    private readonly Lazy<TokenCounter>? cl100k;

    /// <summary>The o200k_base counter, which also hands out <see cref="ForModel"/>'s cl100k_base one.</summary>
    public TokenCounter()
        : this("o200k_base")
    {
        cl100k = new(() => new TokenCounter("cl100k_base"));
    }

    private TokenCounter(string encoding)
    {
        Encoding = encoding;
        tokenizer = new(() => TiktokenTokenizer.CreateForEncoding(encoding));
    }

    /// <summary>The tiktoken encoding this counter uses.</summary>
    public string Encoding { get; }

    /// <summary>
    /// The counter for a model's family: cl100k_base for GPT-4 (not 4o or 4.1) and GPT-3.5, o200k_base for the
    /// rest (OpenAI's current models, and an estimate for other vendors' models, whose tokenizers are not here).
    /// </summary>
    public TokenCounter ForModel(string model)
    {
        var older = model == "gpt-4" || model.StartsWith("gpt-4-", StringComparison.Ordinal)
            || model.StartsWith("gpt-3.5", StringComparison.Ordinal) || model.StartsWith("gpt-35", StringComparison.Ordinal);
        return older && cl100k is not null ? cl100k.Value : this;
    }
    private readonly ConcurrentDictionary<string, int> counts = new(StringComparer.Ordinal);

    public Tokenizer Tokenizer => tokenizer.Value;

    /// <summary>Loads the vocabulary now rather than on the first request.</summary>
    public void Warm() => _ = Tokenizer.CountTokens("warm");

    public int Count(string text)
    {
        if (text.Length == 0)
        {
            return 0;
        }
        if (text.Length > CacheChars)
        {
            return Tokenizer.CountTokens(text);
        }
        if (!counts.TryGetValue(text, out var count))
        {
            count = Tokenizer.CountTokens(text);
            Remember(text, count);
        }
        return count;
    }

    private void Remember(string text, int count)
    {
        if (text.Length > CacheChars)
        {
            return;
        }
        if (counts.Count >= CacheEntries)
        {
            counts.Clear();
        }
        counts[text] = count;
    }

    public int CountPrompt(IReadOnlyList<ChatMessage> messages, string? toolsJson)
    {
        var total = ReplyPriming;
        foreach (var message in messages)
        {
            total += PerMessage + Count(message.Role) + Count(message.Text() ?? "");
            if (message.Name is { } name)
            {
                total += PerName + Count(name);
            }
        }
        return toolsJson is null ? total : total + Count(toolsJson);
    }

    /// <summary>Splits text into its tokens' texts; a character split across tokens goes with the token that ends it.</summary>
    public List<string> Split(string text)
    {
        var pieces = new List<string>();
        if (text.Length == 0)
        {
            return pieces;
        }
        var tokens = Tokenizer.EncodeToTokens(text, out _);
        Remember(text, tokens.Count);
        var start = 0;
        foreach (var token in tokens)
        {
            var end = token.Offset.End.GetOffset(text.Length);
            if (end > start)
            {
                pieces.Add(text[start..end]);
                start = end;
            }
        }
        if (start < text.Length)
        {
            pieces.Add(text[start..]);
        }
        return pieces;
    }
}
