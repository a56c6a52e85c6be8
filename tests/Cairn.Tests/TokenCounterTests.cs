using System.Diagnostics;
using System.Text;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Tests;

/// <summary>
/// The o200k_base counter: cached counts are the tokenizer's own, whatever order texts are split and counted in;
/// counting is exact on ordinary text and linear in the text on long runs without spaces, and it stops when cancelled.
/// </summary>
public sealed class TokenCounterTests
{
    private static readonly TokenCounter Counter = new();

    private const int Mebibyte = 1024 * 1024;

    /// <summary>Ordinary text of every kind: prose in several scripts, code, JSON, numbers, URLs, rules and indentation.</summary>
    private static string OrdinaryText(int chars)
    {
        var text = new StringBuilder();
        for (var i = 0; text.Length < chars; i++)
        {
            text.Append("The quick brown fox jumps over the lazy dog, again and again (").Append(i).Append(").\n")
                .Append("Grüße aus Köln — déjà vu; naïve café. 東京で会いましょう。Привет, мир! 🎉🎉 مرحبا بالعالم\n")
                .Append("    public static int Add(int a, int b) => a + b; // don't, can't, we'll, I'm\n")
                .Append("{\"id\":\"chatcmpl-").Append(i * 7919).Append("\",\"values\":[1.5e3,-42,3.14159265358979]}\n")
                .Append("https://example.com/some/long/path/to/a/resource?query=value&other=").Append(i).Append("#fragment\n")
                .Append(new string('=', 80 + i % 100)).Append("\r\n\t\t  \n\n")
                .Append("SHOUTING WORDS and MixedCase identifiersLikeThisOne_with_underscores\n");
        }
        return text.ToString();
    }

    [Fact]
    public void Count_OfOrdinaryText_IsTheTokenizersExactCount_AcrossPieces()
    {
        var text = OrdinaryText(100_000);

        Assert.Equal(Counter.Tokenizer.CountTokens(text), Counter.Count(text));
        var pieces = Counter.Split(text);
        Assert.Equal(text, string.Concat(pieces));
        Assert.InRange(pieces.Count, Counter.Count(text) * 0.95, Counter.Count(text));
        var older = Counter.ForModel("gpt-4");
        Assert.Equal(older.Tokenizer.CountTokens(text), older.Count(text));
    }

    [Fact]
    public void Count_OfAMebibyteRunOfOneLetter_IsLinear_AndExact()
    {
        // Byte-pair merging of one pre-token grows with the square of its length: a mebibyte of 'a' took many
        // minutes, 256 KiB took 43 s. Each 8 'a' are one token, and pieces of 256 keep that exact.
        var text = new string('a', Mebibyte);
        var clock = Stopwatch.StartNew();

        var count = Counter.Count(text);
        var pieces = Counter.Split(text);

        Assert.Equal(Counter.Tokenizer.CountTokens(new string('a', 4096)) * (Mebibyte / 4096), count);
        Assert.Equal(count, pieces.Count);
        Assert.Equal(Mebibyte, pieces.Sum(p => p.Length));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"counting took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("abcdefghijklmnopqrstuvwxyz")]
    [InlineData("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüßñ")]
    [InlineData("東京会いま見話読書語学生先年日本中国人大小山川田")]
    [InlineData("!\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}~abcXYZ")]
    public void Count_OfAMebibyteOfRandomNonSpaceCharacters_IsLinear_AndWithinAPercentOfTheTokenizer(string alphabet)
    {
        var random = new Random(13);
        var chars = new char[Mebibyte];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }
        var text = new string(chars);
        var clock = Stopwatch.StartNew();

        var count = Counter.Count(text);
        var pieces = Counter.Split(text);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"counting took {clock.Elapsed}");
        Assert.Equal(count, pieces.Count);
        Assert.Equal(text, string.Concat(pieces));
        // The tokenizer's own count of 1 KiB slices (cheap enough whole) sums to within a percent of the count.
        var slices = 0;
        for (var at = 0; at < text.Length; at += 1024)
        {
            slices += Counter.Tokenizer.CountTokens(text.AsSpan(at, 1024));
        }
        Assert.InRange(count, slices * 0.99, slices * 1.01);
    }

    [Fact]
    public void Split_WithAMaximum_TokenizesOnlyWhatItReturns()
    {
        var text = new string('a', 32 * Mebibyte);
        var clock = Stopwatch.StartNew();

        var pieces = Counter.Split(text, 100);

        Assert.Equal(100, pieces.Count);
        Assert.All(pieces, p => Assert.Equal("aaaaaaaa", p));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"splitting took {clock.Elapsed}");
        Assert.Equal(100, Counter.Split(OrdinaryText(8 * Mebibyte), 100).Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"splitting took {clock.Elapsed}");
        Assert.Equal(Counter.Split("Hello, world!"), Counter.Split("Hello, world!", 1000));
        Assert.Equal(["Hello", ","], Counter.Split("Hello, world!", 2));
    }

    [Fact]
    public void Counting_StopsWhenCancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var text = OrdinaryText(100_000);

        Assert.Throws<OperationCanceledException>(() => Counter.Count(text, cancelled.Token));
        Assert.Throws<OperationCanceledException>(() => Counter.Split(new string('b', Mebibyte), int.MaxValue, cancelled.Token));
    }

    [Fact]
    public void EstimatePrompt_CountsFourAsciiCharactersOrOneOtherCharacterAToken_WithoutTheTokenizer()
    {
        using var document = System.Text.Json.JsonDocument.Parse("""
            [{"role":"user","content":"abcdefgh"},{"role":"user","content":"東京"}]
            """);
        var messages = document.RootElement.EnumerateArray().Select(m => new ChatMessage("user", m)).ToList();

        // 3 priming + per message (3 + "user" 1 + text): 3 + (3 + 1 + 2) + (3 + 1 + 2) = 15.
        Assert.Equal(15, TokenCounter.EstimatePrompt(messages, null));
        Assert.Equal(15 + 3, TokenCounter.EstimatePrompt(messages, "[{\"x\":1}]"));
        var huge = new string('a', 4 * Mebibyte);
        using var big = System.Text.Json.JsonDocument.Parse($$"""{"role":"user","content":"{{huge}}"}""");
        Assert.Equal(3 + 3 + 1 + Mebibyte, TokenCounter.EstimatePrompt([new ChatMessage("user", big.RootElement)], null));
    }

    [Theory]
    [InlineData("Hello, world!")]
    [InlineData("naïve café – 東京で会いましょう 🎉🎉")]
    [InlineData("   leading and trailing spaces   ")]
    public void Count_AfterSplit_IsTheTokenizersCount_AndThePiecesRebuildTheText(string text)
    {
        var pieces = Counter.Split(text);

        Assert.Equal(text, string.Concat(pieces));
        Assert.Equal(Counter.Tokenizer.CountTokens(text), Counter.Count(text));
        Assert.Equal(Counter.Tokenizer.CountTokens(text), Counter.Count(text));
    }

    [Fact]
    public void ManyDistinctTexts_StayCorrect_PastTheCacheBound()
    {
        for (var i = 0; i < 3000; i++)
        {
            var text = $"ticket {i} of {i * 7919}: déjà vu";
            Assert.Equal(Counter.Tokenizer.CountTokens(text), Counter.Count(text));
        }
        var longText = string.Concat(Enumerable.Repeat("a long text ", 1000));
        Assert.Equal(Counter.Tokenizer.CountTokens(longText), Counter.Count(longText));
    }

    [Theory]
    [InlineData("gpt-4", "cl100k_base")]
    [InlineData("gpt-4-turbo-2024-04-09", "cl100k_base")]
    [InlineData("gpt-3.5-turbo", "cl100k_base")]
    [InlineData("gpt-35-turbo", "cl100k_base")]
    [InlineData("gpt-4o-mini", "o200k_base")]
    [InlineData("gpt-4.1", "o200k_base")]
    [InlineData("llama3.2:3b", "o200k_base")]
    public void ForModel_PicksTheFamilysEncoding(string model, string encoding)
    {
        var counter = Counter.ForModel(model);

        Assert.Equal(encoding, counter.Encoding);
        Assert.Equal(counter.Tokenizer.CountTokens("Grüße aus Köln, 東京"), counter.Count("Grüße aus Köln, 東京"));
    }
}
