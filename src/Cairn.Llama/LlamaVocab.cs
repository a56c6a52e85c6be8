using System.Text;
using LLama;
using LLama.Native;

namespace Cairn.Llama;

/// <summary>The model's tokenizer: text to tokens and back (each token's bytes cached), end tokens, grammars.</summary>
internal sealed class LlamaVocab
{
    private static readonly UTF8Encoding Utf8 = new(false, false);
    private readonly LLamaWeights weights;
    private readonly byte[]?[] pieces;
    private readonly bool[] endOfGeneration;
    private readonly IntPtr native;

    public LlamaVocab(LLamaWeights weights)
    {
        this.weights = weights;
        Count = weights.Vocab.Count;
        pieces = new byte[]?[Count];
        endOfGeneration = new bool[Count];
        for (var i = 0; i < Count; i++)
        {
            endOfGeneration[i] = ((LLamaToken)i).IsEndOfGeneration(weights.Vocab);
        }
        native = LlamaNative.ModelVocab(weights.NativeHandle.DangerousGetHandle());
    }

    public int Count { get; }

    public bool IsEndOfGeneration(int token) => endOfGeneration[token];

    /// <summary>A prompt's tokens; control tokens written in it (<c>&lt;|im_start|&gt;</c>) are parsed as such.</summary>
    public int[] Tokenize(string text, bool special)
    {
        var tokens = weights.NativeHandle.Tokenize(text, weights.Vocab.ShouldAddBOS, special, Encoding.UTF8);
        return Array.ConvertAll(tokens, t => (int)t);
    }

    /// <summary>The bytes a token stands for (control tokens: none). Safe to call from any thread.</summary>
    public byte[] Bytes(int token)
    {
        var cached = Volatile.Read(ref pieces[token]);
        if (cached is not null)
        {
            return cached;
        }
        Span<byte> buffer = stackalloc byte[128];
        var length = (int)weights.NativeHandle.TokenToSpan(token, buffer, 0, false);
        var bytes = length <= buffer.Length ? buffer[..length].ToArray() : Long(token, length);
        Volatile.Write(ref pieces[token], bytes);
        return bytes;
    }

    private byte[] Long(int token, int length)
    {
        var bytes = new byte[length];
        weights.NativeHandle.TokenToSpan(token, bytes, 0, false);
        return bytes;
    }

    /// <summary>A token's bytes as text on their own (an incomplete UTF-8 sequence becomes U+FFFD, as OpenAI shows it).</summary>
    public static string Text(byte[] bytes) => Utf8.GetString(bytes);

    /// <summary>Whether llama.cpp accepts <paramref name="gbnf"/> (its parser, run without sampling anything).</summary>
    public bool Accepts(string gbnf)
    {
        var sampler = CreateGrammar(gbnf);
        if (sampler == IntPtr.Zero)
        {
            return false;
        }
        LlamaNative.Free(sampler);
        return true;
    }

    /// <summary>A native grammar sampler for <paramref name="gbnf"/>, or zero when it does not parse.</summary>
    public IntPtr CreateGrammar(string gbnf) => LlamaNative.InitGrammar(native, gbnf, "root");
}
