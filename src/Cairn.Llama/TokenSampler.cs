
namespace Cairn.Llama;

/// <summary>
/// Picks one sequence's tokens from the model's logits: logit bias, presence and frequency penalties, an optional
/// grammar (llama.cpp's own grammar sampler masks what it forbids), temperature and nucleus (top_p) sampling with
/// a seeded generator, and the logprobs of what was picked. Runs on the scheduling thread only.
/// </summary>
internal sealed unsafe class TokenSampler : IDisposable
{
    // The logprob OpenAI reports for a token that cannot be picked.
    private const float Unlikely = -9999f;

    private readonly SamplingSettings settings;
    private readonly LlamaVocab vocab;
    private readonly float[] working;
    private readonly Dictionary<int, int> counts = [];
    private SplitMix64 random;
    private float[]? unmasked;
    private LlamaNative.TokenData[]? candidates;
    private IntPtr grammar;

    public TokenSampler(SamplingSettings settings, LlamaVocab vocab)
    {
        this.settings = settings;
        this.vocab = vocab;
        working = new float[vocab.Count];
        random = new SplitMix64(settings.Seed);
        if (settings.Grammar is { } gbnf)
        {
            Constrain(gbnf);
        }
    }

    public bool Constrained => grammar != IntPtr.Zero;

    /// <summary>Constrains every later token by <paramref name="gbnf"/> (validated beforehand).</summary>
    public void Constrain(string gbnf)
    {
        FreeGrammar();
        grammar = vocab.CreateGrammar(gbnf);
        if (grammar == IntPtr.Zero)
        {
            throw new InvalidOperationException("A grammar that passed validation was refused by llama.cpp.");
        }
    }

    /// <summary>The next token, or -1 when the grammar allows none; with its logprob entry when asked for.</summary>
    public (int Token, TokenLogprob? Logprob) Sample(ReadOnlySpan<float> logits)
    {
        logits[..working.Length].CopyTo(working);
        foreach (var (token, bias) in settings.LogitBias)
        {
            working[token] += bias;
        }
        if (settings.PresencePenalty != 0 || settings.FrequencyPenalty != 0)
        {
            foreach (var (token, count) in counts)
            {
                working[token] -= settings.PresencePenalty + settings.FrequencyPenalty * count;
            }
        }
        // Logprobs are the model's (biased, penalized) distribution, before the grammar and temperature reshape it.
        var logZ = settings.TopLogprobs is null ? 0f : LogSumExp(working);
        IReadOnlyList<TokenLogprob> top = settings.TopLogprobs is { } k && k > 0 ? Top(working, k, logZ) : [];
        float[] source = working;
        if (settings.TopLogprobs is not null)
        {
            // Masking and drawing overwrite the working logits; the chosen token's logprob is read from a copy.
            unmasked ??= new float[working.Length];
            working.CopyTo(unmasked, 0);
            source = unmasked;
        }
        if (grammar != IntPtr.Zero)
        {
            Mask();
        }
        var chosen = settings.Temperature <= 0 ? ArgMax(working) : Draw();
        if (chosen < 0)
        {
            return (-1, null);
        }
        TokenLogprob? entry = null;
        if (settings.TopLogprobs is not null)
        {
            var bytes = vocab.Bytes(chosen);
            entry = new TokenLogprob(LlamaVocab.Text(bytes), Clamp(source[chosen] - logZ), bytes, top);
        }
        return (chosen, entry);
    }

    /// <summary>Records a picked token (penalties, grammar state). End-of-generation tokens are not accepted.</summary>
    public void Accept(int token)
    {
        counts[token] = counts.GetValueOrDefault(token) + 1;
        if (grammar != IntPtr.Zero)
        {
            LlamaNative.Accept(grammar, token);
        }
    }

    private void Mask()
    {
        candidates ??= new LlamaNative.TokenData[working.Length];
        for (var i = 0; i < working.Length; i++)
        {
            candidates[i] = new LlamaNative.TokenData { Id = i, Logit = working[i] };
        }
        fixed (LlamaNative.TokenData* data = candidates)
        {
            var array = new LlamaNative.TokenDataArray { Data = data, Size = (nuint)candidates.Length, Selected = -1 };
            LlamaNative.Apply(grammar, &array);
        }
        // The grammar sampler keeps the order and sets forbidden tokens to -inf.
        for (var i = 0; i < working.Length; i++)
        {
            working[i] = candidates[i].Logit;
        }
    }

    private int Draw()
    {
        var max = float.NegativeInfinity;
        foreach (var value in working)
        {
            max = Math.Max(max, value);
        }
        if (float.IsNegativeInfinity(max))
        {
            return -1;
        }
        var inverse = 1f / settings.Temperature;
        double sum = 0;
        for (var i = 0; i < working.Length; i++)
        {
            var p = MathF.Exp((working[i] - max) * inverse);
            working[i] = p;
            sum += p;
        }
        if (settings.TopP < 1f)
        {
            return Nucleus(sum);
        }
        var target = random.NextDouble() * sum;
        var last = -1;
        for (var i = 0; i < working.Length; i++)
        {
            if (working[i] <= 0)
            {
                continue;
            }
            last = i;
            target -= working[i];
            if (target < 0)
            {
                return i;
            }
        }
        return last;
    }

    /// <summary>Samples among the most likely tokens whose probabilities add up to top_p.</summary>
    private int Nucleus(double sum)
    {
        // Tokens below a billionth of the mass cannot change which tokens make up the nucleus; leaving them out
        // keeps the sort short on large vocabularies.
        var floor = sum * 1e-9;
        var ranked = new List<int>();
        for (var i = 0; i < working.Length; i++)
        {
            if (working[i] > floor)
            {
                ranked.Add(i);
            }
        }
        ranked.Sort((a, b) => working[b].CompareTo(working[a]) is var c && c != 0 ? c : a.CompareTo(b));
        var budget = settings.TopP * sum;
        double kept = 0;
        var count = 0;
        while (count < ranked.Count && (count == 0 || kept < budget))
        {
            kept += working[ranked[count++]];
        }
        var target = random.NextDouble() * kept;
        for (var i = 0; i < count; i++)
        {
            target -= working[ranked[i]];
            if (target < 0)
            {
                return ranked[i];
            }
        }
        return ranked[count - 1];
    }

    private static int ArgMax(float[] values)
    {
        var best = -1;
        var bestValue = float.NegativeInfinity;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] > bestValue)
            {
                bestValue = values[i];
                best = i;
            }
        }
        return best;
    }

    private static float LogSumExp(float[] values)
    {
        var max = float.NegativeInfinity;
        foreach (var value in values)
        {
            max = Math.Max(max, value);
        }
        double sum = 0;
        foreach (var value in values)
        {
            sum += Math.Exp(value - max);
        }
        return max + (float)Math.Log(sum);
    }

    private List<TokenLogprob> Top(float[] values, int k, float logZ)
    {
        var best = new List<int>(k + 1);
        for (var i = 0; i < values.Length; i++)
        {
            if (best.Count == k && values[i] <= values[best[^1]])
            {
                continue;
            }
            var at = best.Count;
            while (at > 0 && values[best[at - 1]] < values[i])
            {
                at--;
            }
            best.Insert(at, i);
            if (best.Count > k)
            {
                best.RemoveAt(k);
            }
        }
        return best.ConvertAll(token =>
        {
            var bytes = vocab.Bytes(token);
            return new TokenLogprob(LlamaVocab.Text(bytes), Clamp(values[token] - logZ), bytes, []);
        });
    }

    private static float Clamp(float logprob) => float.IsNaN(logprob) || logprob < Unlikely ? Unlikely : Math.Min(0f, logprob);

    private void FreeGrammar()
    {
        if (grammar != IntPtr.Zero)
        {
            LlamaNative.Free(grammar);
            grammar = IntPtr.Zero;
        }
    }

    public void Dispose() => FreeGrammar();
}
