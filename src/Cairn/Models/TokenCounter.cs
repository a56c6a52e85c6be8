using Cairn.OpenAI;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.ML.Tokenizers;

namespace Cairn.Models;

/// <summary>
/// Counts and cuts text in o200k_base tokens (the GPT-4o family's encoding), so usage figures are real counts.
/// </summary>
/// <remarks>
/// Byte-pair merging of one pre-token (a run of letters, digits or symbols without spaces) costs the square of its
/// length, so a prompt of 256 KiB of <c>a</c> took 43 s of CPU. Here text is encoded in pieces cut at the
/// pre-tokenizer's own boundaries, which changes nothing, and a pre-token longer than <see cref="MaxPreToken"/>
/// characters is encoded in pieces of that length, which bounds the work per character: counting is linear in the
/// text. Text without such runs is counted exactly; a run is counted within a fraction of a token per piece (0 for
/// a run of one letter, +0.13% on random lowercase letters). Work stops between pieces when the token is cancelled.
/// </remarks>
internal sealed class TokenCounter : IDisposable
{
    /// <summary>The longest pre-token encoded whole; longer ones are encoded in pieces of this many characters.</summary>
    public const int MaxPreToken = 256;

    // Ordinary text is encoded in pieces of about this many characters (a few ms each), the cancellation token
    // checked between them.
    private const int PieceChars = 16 * 1024;

    // OpenAI's chat format spends a few tokens per message on role markers and three priming the reply.
    private const int PerMessage = 3;
    private const int PerName = 1;
    private const int ReplyPriming = 3;

    // Counts of recent texts: system prompts, tool lists and roles repeat from request to request, and the echo
    // model's answer is the prompt's last user message, split (and so counted) before the prompt is. Bounded: at
    // most CacheEntries texts of at most CacheChars characters (a few MB); when full, the least recently used go.
    private const int CacheEntries = 1024;
    private const int CacheChars = 4096;

    private readonly Lazy<Tokenizer> tokenizer;
    private readonly Lazy<TokenCounter>? cl100k;
    private readonly MemoryCache counts = new(new MemoryCacheOptions { SizeLimit = CacheEntries });

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

    public Tokenizer Tokenizer => tokenizer.Value;

    public void Dispose()
    {
        counts.Dispose();
        if (cl100k is { IsValueCreated: true })
        {
            cl100k.Value.Dispose();
        }
    }

    /// <summary>Loads the vocabulary now rather than on the first request.</summary>
    public void Warm() => _ = Tokenizer.CountTokens("warm");

    /// <summary>The text's tokens, in time linear in its length (see the remarks on the class).</summary>
    public int Count(string text, CancellationToken cancellationToken = default)
    {
        if (text.Length == 0)
        {
            return 0;
        }
        if (text.Length > CacheChars)
        {
            return CountPieces(text, cancellationToken);
        }
        if (!counts.TryGetValue(text, out int count))
        {
            count = CountPieces(text, cancellationToken);
            Remember(text, count);
        }
        return count;
    }

    private int CountPieces(string text, CancellationToken cancellationToken)
    {
        var total = 0;
        foreach (var (start, length) in Pieces(text, cancellationToken))
        {
            total += Tokenizer.CountTokens(text.AsSpan(start, length));
        }
        return total;
    }

    private void Remember(string text, int count)
    {
        if (text.Length > CacheChars)
        {
            return;
        }
        counts.Set(text, count, new MemoryCacheEntryOptions { Size = 1 });
    }

    /// <summary>The prompt's tokens as OpenAI's chat format counts them: every message's role, name and text, and the tools.</summary>
    public int CountPrompt(IReadOnlyList<ChatMessage> messages, string? toolsJson, CancellationToken cancellationToken = default)
    {
        var total = ReplyPriming;
        foreach (var message in messages)
        {
            total += PerMessage + Count(message.Role, cancellationToken) + Count(message.Text() ?? "", cancellationToken);
            if (message.Name is { } name)
            {
                total += PerName + Count(name, cancellationToken);
            }
        }
        return toolsJson is null ? total : total + Count(toolsJson, cancellationToken);
    }

    /// <summary>
    /// A cheap estimate of the prompt's tokens that runs no tokenizer, for where only an estimate is needed (the
    /// rate limit's reservation): as OpenAI estimates from characters, one token per four ASCII characters and one
    /// per other character, plus the chat format's tokens per message. Close for English and code (which run 3 to
    /// 5 characters a token), above for accented Latin text, and near for CJK (1 to 1.7 tokens a character).
    /// </summary>
    public static int EstimatePrompt(IReadOnlyList<ChatMessage> messages, string? toolsJson)
    {
        long total = ReplyPriming;
        foreach (var message in messages)
        {
            total += PerMessage + Estimate(message.Role) + Estimate(message.Text());
            if (message.Name is { } name)
            {
                total += PerName + Estimate(name);
            }
        }
        total += Estimate(toolsJson);
        return (int)Math.Min(total, int.MaxValue);
    }

    /// <summary>
    /// The same estimate for UTF-8 text (a request's JSON, say): one token per four ASCII bytes and one per other
    /// character (counted by its first byte).
    /// </summary>
    public static int Estimate(ReadOnlySpan<byte> utf8)
    {
        if (System.Text.Ascii.IsValid(utf8))
        {
            return (int)Math.Min((utf8.Length + 3L) / 4, int.MaxValue);
        }
        long ascii = 0;
        long other = 0;
        foreach (var b in utf8)
        {
            if (b < 0x80)
            {
                ascii++;
            }
            else if (b >= 0xC0)
            {
                other++;
            }
        }
        return (int)Math.Min((ascii + 3) / 4 + other, int.MaxValue);
    }

    private static long Estimate(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }
        long other = 0;
        if (!System.Text.Ascii.IsValid(text))
        {
            foreach (var c in text)
            {
                other += c >> 7 == 0 ? 0 : 1;
            }
        }
        return (text.Length - other + 3) / 4 + other;
    }

    /// <summary>
    /// Splits text into its tokens' texts, at most <paramref name="maxTokens"/> of them (the rest of the text is
    /// not encoded); a character split across tokens goes with the token that ends it (so there may be fewer
    /// pieces than tokens).
    /// </summary>
    public List<string> Split(string text, int maxTokens = int.MaxValue, CancellationToken cancellationToken = default)
    {
        var pieces = new List<string>();
        if (text.Length == 0 || maxTokens <= 0)
        {
            return pieces;
        }
        var start = 0;
        var count = 0;
        foreach (var (from, length) in Pieces(text, cancellationToken))
        {
            foreach (var token in Tokenizer.EncodeToTokens(text.AsSpan(from, length), out _))
            {
                count++;
                var end = from + token.Offset.End.GetOffset(length);
                if (end > start)
                {
                    if (pieces.Count == maxTokens)
                    {
                        return pieces;
                    }
                    pieces.Add(text[start..end]);
                    start = end;
                }
            }
        }
        if (start < text.Length)
        {
            if (pieces.Count == maxTokens)
            {
                return pieces;
            }
            pieces.Add(text[start..]);
        }
        Remember(text, count);
        return pieces;
    }

    /// <summary>
    /// The text as pieces to encode one by one: runs of whole pre-tokens up to about <see cref="PieceChars"/>
    /// characters (cut where the pre-tokenizer cuts, so their tokens are the whole text's), and a pre-token longer
    /// than <see cref="MaxPreToken"/> in pieces of that length (never between the halves of a surrogate pair).
    /// </summary>
    private IEnumerable<(int Start, int Length)> Pieces(string text, CancellationToken cancellationToken)
    {
        if (text.Length <= MaxPreToken)
        {
            yield return (0, text.Length);
            yield break;
        }
        cancellationToken.ThrowIfCancellationRequested();
        var pending = 0;
        var cut = 0;
        var cuts = 0;
        foreach (var (offset, length) in Tokenizer.PreTokenizer!.PreTokenize(text))
        {
            if (length > MaxPreToken)
            {
                if (offset > pending)
                {
                    yield return (pending, offset - pending);
                }
                var end = offset + length;
                for (var at = offset; at < end; at += cut)
                {
                    cut = Math.Min(MaxPreToken, end - at);
                    if (at + cut < end && char.IsLowSurrogate(text[at + cut]))
                    {
                        cut--;
                    }
                    if (++cuts % 64 == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                    yield return (at, cut);
                }
                pending = end;
            }
            else if (offset + length - pending >= PieceChars)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return (pending, offset + length - pending);
                pending = offset + length;
            }
        }
        if (pending < text.Length)
        {
            yield return (pending, text.Length - pending);
        }
    }
}
