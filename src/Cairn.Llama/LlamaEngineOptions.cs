namespace Cairn.Llama;

/// <summary>How to load and run one GGUF model (already validated by the caller).</summary>
internal sealed record LlamaEngineOptions
{
    public required string ModelPath { get; init; }

    /// <summary>Tokens each sequence may hold: prompt and answer together.</summary>
    public int ContextSize { get; init; } = 4096;

    public int Threads { get; init; } = 1;

    /// <summary>Sequences decoded together in one batch (requests, or choices of <c>n</c>, served at once).</summary>
    public int ParallelSequences { get; init; } = 4;

    /// <summary>Sequences that may wait for a free slot; beyond that a request is refused as overloaded.</summary>
    public int MaxQueue { get; init; } = 64;

    /// <summary>A llama.cpp built-in template name (<c>chatml</c>, <c>llama3</c>, …), or null for the model's own.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Most tokens decoded in one step (prompt chunks and one token per generating sequence).</summary>
    public int BatchSize { get; init; } = 512;
}
