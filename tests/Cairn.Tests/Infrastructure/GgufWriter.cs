using System.Text;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// Writes tiny GGUF v3 models (architecture <c>llama</c>, f32 tensors, a byte-level GPT-2 tokenizer with ChatML
/// control tokens) so that tests load real models through llama.cpp without downloading weights.
/// </summary>
public static class GgufWriter
{
    public const int Embedding = 64;
    private const int Blocks = 2;
    private const int FeedForward = 128;
    private const int Heads = 4;
    private const int KvHeads = 2;
    private const int Alignment = 32;

    /// <summary>The answer of a <see cref="WriteScripted"/> model, token by token, after any ChatML prompt.</summary>
    public static readonly string[] ScriptedPieces = ["Hel", "lo", ",", " wor", "ld", "!"];

    public static string ScriptedAnswer => string.Concat(ScriptedPieces);

    /// <summary>
    /// The logit the scripted model gives its next token (every other token gets 0), so the chosen token's logprob
    /// is about <c>-(vocab-1)·e^-Logit</c> and every other token's about <c>-Logit</c>.
    /// </summary>
    public const float ScriptedLogit = 22f;

    private static readonly string[] Merges =
        ["H e", "He l", "l o", "w o", "wo r", "Ġ wor", "l d"];

    private static readonly string[] Controls = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    // Text tokens of their own (llama.cpp's "user defined" type), as Qwen2.5 has for its tool-call tags.
    private static readonly string[] Tags = ["<tool_call>", "</tool_call>"];

    /// <summary>A script that says "OK" and then starts a tool call, for <c>tool_choice: auto</c>.</summary>
    public static readonly string[] ToolCallingPieces = ["O", "K", "<tool_call>"];

    private const string ChatMlTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    /// <summary>
    /// A model whose every next token depends only on the token before it: after the assistant prompt's newline it
    /// says <see cref="ScriptedAnswer"/> and then <c>&lt;|im_end|&gt;</c>, whatever the seed or temperature.
    /// </summary>
    public static void WriteScripted(string path, int contextLength = 512) => WriteScripted(path, ScriptedPieces, contextLength);

    /// <summary>A scripted model that says <paramref name="pieces"/> (each a distinct token) and then ends.</summary>
    public static void WriteScripted(string path, string[] pieces, int contextLength = 512)
    {
        var vocab = Vocabulary();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < vocab.Count; i++)
        {
            index.TryAdd(vocab[i], i);
        }
        // The chain: '\n' (the prompt's last token) -> pieces... -> <|im_end|>.
        var chain = new List<int> { index["Ċ"] };
        chain.AddRange(pieces.Select(p => index[p.Replace(' ', 'Ġ')]));
        chain.Add(index["<|im_end|>"]);

        var embed = new float[vocab.Count * Embedding];
        var output = new float[vocab.Count * Embedding];
        // After RMS norm a one-hot embedding is sqrt(Embedding) on its dimension.
        var weight = ScriptedLogit / MathF.Sqrt(Embedding);
        for (var slot = 0; slot < chain.Count - 1; slot++)
        {
            embed[chain[slot] * Embedding + slot] = 1f;
            output[chain[slot + 1] * Embedding + slot] = weight;
        }
        Write(path, vocab, contextLength, embed, output, zeroLayers: true, new Random(1));
    }

    /// <summary>A model with random weights: random text, the same for the same seed.</summary>
    public static void WriteRandom(string path, int seed = 7, int contextLength = 512)
    {
        var vocab = Vocabulary();
        var random = new Random(seed);
        var embed = Gaussian(random, vocab.Count * Embedding, 1f);
        var output = Gaussian(random, vocab.Count * Embedding, 0.6f);
        Write(path, vocab, contextLength, embed, output, zeroLayers: false, random);
    }

    private static float[] Gaussian(Random random, int count, float scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            var u = 1 - random.NextDouble();
            var v = random.NextDouble();
            values[i] = (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v)) * scale;
        }
        return values;
    }

    /// <summary>256 byte tokens (GPT-2's byte-to-character map), the merges' results, then the control tokens.</summary>
    private static List<string> Vocabulary()
    {
        var tokens = new List<string>(ByteCharacters().Select(c => c.ToString()));
        foreach (var merge in Merges)
        {
            tokens.Add(merge.Replace(" ", "", StringComparison.Ordinal));
        }
        tokens.AddRange(Controls);
        tokens.AddRange(Tags);
        return tokens;
    }

    /// <summary>GPT-2's reversible map of bytes to printable characters, in byte order.</summary>
    private static char[] ByteCharacters()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    private static void Write(string path, List<string> vocab, int contextLength, float[] embed, float[] output, bool zeroLayers, Random random)
    {
        var headDim = Embedding / Heads;
        var tensors = new List<(string Name, long[] Dims, float[] Data)> { ("token_embd.weight", [Embedding, vocab.Count], embed) };
        float[] Layer(int count, float scale) => zeroLayers ? new float[count] : Gaussian(random, count, scale);
        float[] Ones(int count) => Enumerable.Repeat(1f, count).ToArray();
        for (var b = 0; b < Blocks; b++)
        {
            var p = $"blk.{b}.";
            tensors.Add((p + "attn_norm.weight", [Embedding], Ones(Embedding)));
            tensors.Add((p + "attn_q.weight", [Embedding, Embedding], Layer(Embedding * Embedding, 0.2f)));
            tensors.Add((p + "attn_k.weight", [Embedding, KvHeads * headDim], Layer(Embedding * KvHeads * headDim, 0.2f)));
            tensors.Add((p + "attn_v.weight", [Embedding, KvHeads * headDim], Layer(Embedding * KvHeads * headDim, 0.2f)));
            tensors.Add((p + "attn_output.weight", [Embedding, Embedding], Layer(Embedding * Embedding, 0.2f)));
            tensors.Add((p + "ffn_norm.weight", [Embedding], Ones(Embedding)));
            tensors.Add((p + "ffn_gate.weight", [Embedding, FeedForward], Layer(Embedding * FeedForward, 0.2f)));
            tensors.Add((p + "ffn_up.weight", [Embedding, FeedForward], Layer(Embedding * FeedForward, 0.2f)));
            tensors.Add((p + "ffn_down.weight", [FeedForward, Embedding], Layer(FeedForward * Embedding, 0.2f)));
        }
        tensors.Add(("output_norm.weight", [Embedding], Ones(Embedding)));
        tensors.Add(("output.weight", [Embedding, vocab.Count], output));

        using var file = File.Create(path);
        using var w = new BinaryWriter(file, Encoding.UTF8);
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write((ulong)tensors.Count);
        var kv = new List<Action>();
        void Str(string key, string value) => kv.Add(() => { Key(w, key); w.Write(8u); Text(w, value); });
        void U32(string key, uint value) => kv.Add(() => { Key(w, key); w.Write(4u); w.Write(value); });
        void F32(string key, float value) => kv.Add(() => { Key(w, key); w.Write(6u); w.Write(value); });
        void Bool(string key, bool value) => kv.Add(() => { Key(w, key); w.Write(7u); w.Write(value); });
        Str("general.architecture", "llama");
        Str("general.name", zeroLayers ? "cairn-scripted" : "cairn-random");
        U32("general.alignment", Alignment);
        U32("llama.context_length", (uint)contextLength);
        U32("llama.embedding_length", Embedding);
        U32("llama.block_count", Blocks);
        U32("llama.feed_forward_length", FeedForward);
        U32("llama.attention.head_count", Heads);
        U32("llama.attention.head_count_kv", KvHeads);
        U32("llama.rope.dimension_count", (uint)headDim);
        F32("llama.rope.freq_base", 10000f);
        F32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        Str("tokenizer.ggml.model", "gpt2");
        Str("tokenizer.ggml.pre", "gpt-2");
        kv.Add(() =>
        {
            Key(w, "tokenizer.ggml.tokens");
            w.Write(9u);
            w.Write(8u);
            w.Write((ulong)vocab.Count);
            vocab.ForEach(t => Text(w, t));
        });
        kv.Add(() =>
        {
            Key(w, "tokenizer.ggml.token_type");
            w.Write(9u);
            w.Write(5u);
            w.Write((ulong)vocab.Count);
            for (var i = 0; i < vocab.Count; i++)
            {
                w.Write(Controls.Contains(vocab[i]) ? 3 : Tags.Contains(vocab[i]) ? 4 : 1);
            }
        });
        kv.Add(() =>
        {
            Key(w, "tokenizer.ggml.merges");
            w.Write(9u);
            w.Write(8u);
            w.Write((ulong)Merges.Length);
            foreach (var merge in Merges)
            {
                Text(w, merge);
            }
        });
        U32("tokenizer.ggml.bos_token_id", (uint)vocab.IndexOf("<|endoftext|>"));
        U32("tokenizer.ggml.eos_token_id", (uint)vocab.IndexOf("<|im_end|>"));
        U32("tokenizer.ggml.padding_token_id", (uint)vocab.IndexOf("<|endoftext|>"));
        Bool("tokenizer.ggml.add_bos_token", false);
        Str("tokenizer.chat_template", ChatMlTemplate);
        w.Write((ulong)kv.Count);
        kv.ForEach(write => write());

        long offset = 0;
        var offsets = new List<long>();
        foreach (var (name, dims, data) in tensors)
        {
            Text(w, name);
            w.Write((uint)dims.Length);
            foreach (var d in dims)
            {
                w.Write((ulong)d);
            }
            w.Write(0u); // GGML_TYPE_F32
            w.Write((ulong)offset);
            offsets.Add(offset);
            offset = Align(offset + data.Length * 4L);
        }
        Pad(w);
        var start = file.Position;
        for (var i = 0; i < tensors.Count; i++)
        {
            while (file.Position - start < offsets[i])
            {
                w.Write((byte)0);
            }
            foreach (var value in tensors[i].Data)
            {
                w.Write(value);
            }
        }
        Pad(w);
    }

    private static long Align(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w)
    {
        while (w.BaseStream.Position % Alignment != 0)
        {
            w.Write((byte)0);
        }
    }

    private static void Key(BinaryWriter w, string key) => Text(w, key);

    private static void Text(BinaryWriter w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
