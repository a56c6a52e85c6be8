using System.Text;
using Cairn.OpenAI;

namespace Cairn.Backends;

/// <summary>
/// Gathers a local stream's deltas into the whole answer a non-streaming request would have received (the typed
/// counterpart of the upstream relay's <c>StreamAssembler</c>).
/// </summary>
internal sealed class DeltaAssembler(ChatStream stream, int choiceCount, bool logprobs)
{
    private readonly Choice?[] choices = new Choice?[choiceCount];

    public ChatUsage Usage { get; private set; }

    /// <summary>Adds a delta; true when it is the first of its choice (whose role chunk is then due).</summary>
    public bool Add(ChatDelta delta)
    {
        if (delta.Usage is { } usage)
        {
            Usage = usage;
            return false;
        }
        var first = choices[delta.Index] is null;
        var choice = choices[delta.Index] ??= new Choice();
        if (delta.Content is not null)
        {
            choice.Text.Append(delta.Content);
            if (delta.Logprobs is { } entries)
            {
                (choice.Logprobs ??= []).AddRange(entries);
            }
        }
        if (delta.ToolCalls is { Count: > 0 } calls)
        {
            choice.Calls = calls;
        }
        choice.Finish = delta.FinishReason ?? choice.Finish;
        return first;
    }

    public ChatOutcome ToOutcome()
    {
        var whole = new ChatChoice[choices.Length];
        for (var i = 0; i < whole.Length; i++)
        {
            var choice = choices[i];
            var text = choice?.Text.ToString();
            whole[i] = new ChatChoice(i, choice?.Calls is not null && text?.Length == 0 ? null : text, choice?.Finish ?? "stop", choice?.Calls,
                logprobs ? choice?.Logprobs ?? [] : null);
        }
        return new ChatOutcome(stream.Model, whole, Usage, stream.SystemFingerprint, stream.Seed);
    }

    private sealed class Choice
    {
        public StringBuilder Text { get; } = new();

        public string? Finish { get; set; }

        public IReadOnlyList<ChatToolCall>? Calls { get; set; }

        public List<ChatLogprob>? Logprobs { get; set; }
    }
}
