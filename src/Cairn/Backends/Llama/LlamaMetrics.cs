using System.Diagnostics.Metrics;
using Cairn.Observability;

namespace Cairn.Backends.Llama;

/// <summary>
/// The local models' engines as metrics, read from them at each collection, each by model (<c>gen_ai.request.model</c>,
/// the model list's id): <c>cairn.llama.sequences</c>, generating and queued for a slot (<c>cairn.llama.state</c>:
/// <c>active</c>, <c>waiting</c>); <c>cairn.llama.tokens</c>, decoded from prompts and generated
/// (<c>gen_ai.token.type</c>: <c>input</c>, <c>output</c>), whose rate is the engine's tokens per second.
/// </summary>
internal static class LlamaMetrics
{
    public const string StateAttribute = "cairn.llama.state";

    public static void Observe(Meter meter, IReadOnlyList<LlamaBackend> backends)
    {
        meter.CreateObservableUpDownCounter("cairn.llama.sequences", () => Sequences(backends), "{sequence}",
            "Sequences of a local model generating (active) or queued for a slot (waiting).");
        meter.CreateObservableCounter("cairn.llama.tokens", () => Tokens(backends), "{token}",
            "Tokens a local model decoded from prompts (input) and generated (output).");
    }

    private static IEnumerable<Measurement<int>> Sequences(IReadOnlyList<LlamaBackend> backends)
    {
        foreach (var backend in backends)
        {
            if (backend.Counts is { } counts)
            {
                yield return new(counts.Active, Model(backend), new(StateAttribute, "active"));
                yield return new(counts.Waiting, Model(backend), new(StateAttribute, "waiting"));
            }
        }
    }

    private static IEnumerable<Measurement<long>> Tokens(IReadOnlyList<LlamaBackend> backends)
    {
        foreach (var backend in backends)
        {
            if (backend.Counts is { } counts)
            {
                yield return new(counts.PromptTokens, Model(backend), new(GenAi.TokenType, "input"));
                yield return new(counts.GeneratedTokens, Model(backend), new(GenAi.TokenType, "output"));
            }
        }
    }

    private static KeyValuePair<string, object?> Model(LlamaBackend backend) => new(GenAi.RequestModel, backend.Model);
}
