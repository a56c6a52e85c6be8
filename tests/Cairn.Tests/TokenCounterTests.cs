using Cairn.Backends;

namespace Cairn.Tests;

/// <summary>The o200k_base counter: cached counts are the tokenizer's own, whatever order texts are split and counted in.</summary>
public sealed class TokenCounterTests
{
    private static readonly TokenCounter Counter = new();

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
