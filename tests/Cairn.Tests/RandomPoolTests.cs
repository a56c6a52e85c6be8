using Cairn.OpenAI;

namespace Cairn.Tests;

/// <summary>Ids' random source: every character of the alphabet about equally often, fresh bytes across refills, ids in OpenAI's shapes that never repeat.</summary>
public sealed class RandomPoolTests
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    [Fact]
    public void FillFrom_DrawsEveryCharacterOfTheAlphabet_AboutEquallyOften()
    {
        var drawn = new char[620_000];
        RandomPool.FillFrom(Base62, drawn);

        var counts = drawn.GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(62, counts.Count);
        Assert.All(counts.Keys, c => Assert.Contains(c, Base62));
        // 10,000 expected each; a standard deviation is ~100, so a 20% band is never left by chance.
        Assert.All(counts.Values, n => Assert.InRange(n, 8_000, 12_000));
    }

    [Fact]
    public void Fill_AcrossRefills_GivesFreshBytes_NotRepeatedBuffers()
    {
        var a = new byte[10_000];
        var b = new byte[10_000];
        RandomPool.Fill(a);
        RandomPool.Fill(b);

        Assert.NotEqual(a, b);
        Assert.NotEqual(a.AsSpan(0, 4096).ToArray(), a.AsSpan(4096, 4096).ToArray());
        Assert.InRange(a.Count(x => x == 0), 0, 200); // ~39 expected: no zeroed (wiped) stretches handed out
    }

    [Fact]
    public void Ids_HaveOpenAIsShapes_AndDoNotRepeat()
    {
        var requests = Enumerable.Range(0, 10_000).Select(_ => Ids.Request()).ToList();
        var completions = Enumerable.Range(0, 10_000).Select(_ => Ids.Completion()).ToList();

        Assert.All(requests, id => Assert.Matches("^req_[0-9a-f]{32}$", id));
        Assert.All(completions, id => Assert.Matches("^chatcmpl-[0-9A-Za-z]{29}$", id));
        Assert.Equal(requests.Count, requests.Distinct().Count());
        Assert.Equal(completions.Count, completions.Distinct().Count());
    }
}
