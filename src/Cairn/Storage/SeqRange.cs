namespace Cairn.Storage;

/// <summary>
/// A time range as a range of storage order. The rollup keeps, per hour, the first and last seq stored for that
/// hour, so the completions created in a range lie between the smallest first and the largest last seq of its
/// hours; the list walks only that part of its index and checks <c>created</c> per row.
/// </summary>
internal readonly record struct SeqRange(long First, long Last)
{
    /// <summary>The hours (unix seconds, cut to the hour) a time range touches; null ends are open.</summary>
    public static (long FirstHour, long LastHour) Hours(DateTimeOffset? from, DateTimeOffset? to) =>
        (from is { } f ? Cairn.Storage.CompletionSummary.Hour(f.ToUnixTimeSeconds()) : long.MinValue,
         to is { } t ? Cairn.Storage.CompletionSummary.Hour(t.ToUnixTimeSeconds() - 1) : long.MaxValue);
}
