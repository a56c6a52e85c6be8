using System.Text;

namespace Cairn.Llama;

/// <summary>
/// Holds back generated text that could be the start of a stop sequence (or of a tool-call trigger), so that no
/// part of a stop is ever returned, even when it is split across tokens. Text is released token by token, each
/// with its logprob entry.
/// </summary>
internal sealed class StopFilter(IReadOnlyList<string> stops, string? trigger)
{
    private readonly List<(string Text, TokenLogprob? Logprob)> held = [];
    private readonly StringBuilder heldText = new();

    /// <summary>Set once a stop sequence was found; no more text comes.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Set once the trigger was found: what follows it is a tool call, not content.</summary>
    public bool Triggered { get; private set; }

    /// <summary>Adds a token's text; returns what can be released now (to the stop, when one was found).</summary>
    public List<(string Text, TokenLogprob? Logprob)> Push(string text, TokenLogprob? logprob)
    {
        held.Add((text, logprob));
        heldText.Append(text);
        var all = heldText.ToString();
        var (at, isTrigger) = FindEnd(all);
        if (at >= 0)
        {
            Stopped = !isTrigger;
            Triggered = isTrigger;
            return Release(at, partial: true);
        }
        return Release(all.Length - LongestPrefixSuffix(all), partial: false);
    }

    /// <summary>Everything still held (at the end of the answer).</summary>
    public List<(string Text, TokenLogprob? Logprob)> Flush() => Release(heldText.Length, partial: true);

    /// <summary>
    /// Releases whole tokens up to <paramref name="end"/> characters; with <paramref name="partial"/> also the part
    /// of the token that crosses it (its rest stays held: the start of a stop or the trigger).
    /// </summary>
    private List<(string Text, TokenLogprob? Logprob)> Release(int end, bool partial)
    {
        var released = new List<(string, TokenLogprob?)>();
        var position = 0;
        var taken = 0;
        while (taken < held.Count && position + held[taken].Text.Length <= end)
        {
            released.Add(held[taken]);
            position += held[taken++].Text.Length;
        }
        held.RemoveRange(0, taken);
        if (partial && position < end && held.Count > 0)
        {
            var (text, logprob) = held[0];
            released.Add((text[..(end - position)], logprob));
            held[0] = (text[(end - position)..], null);
        }
        heldText.Remove(0, partial ? Math.Min(end, heldText.Length) : position);
        return released;
    }

    /// <summary>The held text after a stop or the trigger (the trigger and what came with it), emptied.</summary>
    public string TakeRest()
    {
        var rest = heldText.ToString();
        held.Clear();
        heldText.Clear();
        return rest;
    }

    private (int At, bool IsTrigger) FindEnd(string text)
    {
        var best = -1;
        var isTrigger = false;
        foreach (var stop in stops)
        {
            var at = stop.Length == 0 ? -1 : text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best))
            {
                best = at;
                isTrigger = false;
            }
        }
        if (trigger is not null && !Triggered)
        {
            var at = text.IndexOf(trigger, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best))
            {
                best = at;
                isTrigger = true;
            }
        }
        return (best, isTrigger);
    }

    /// <summary>The length of the longest end of <paramref name="text"/> that begins a stop or the trigger.</summary>
    private int LongestPrefixSuffix(string text)
    {
        var longest = 0;
        void Check(string marker)
        {
            for (var length = Math.Min(marker.Length - 1, text.Length); length > longest; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(marker.AsSpan(0, length)))
                {
                    longest = length;
                    return;
                }
            }
        }
        foreach (var stop in stops)
        {
            Check(stop);
        }
        if (trigger is not null && !Triggered)
        {
            Check(trigger);
        }
        return longest;
    }
}
