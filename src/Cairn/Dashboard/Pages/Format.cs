using System.Globalization;

namespace Cairn.Dashboard.Pages;

/// <summary>How the pages write times and numbers: UTC, ISO-like, invariant digits.</summary>
internal static class Format
{
    public static string Time(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static string IsoTime(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>How long ago, in the largest unit that fits ("3 min ago").</summary>
    public static string Ago(long unixSeconds, DateTimeOffset now)
    {
        var seconds = now.ToUnixTimeSeconds() - unixSeconds;
        return seconds switch
        {
            < 0 => "just now",
            < 60 => $"{seconds} s ago",
            < 3600 => $"{seconds / 60} min ago",
            < 86400 => $"{seconds / 3600} h ago",
            _ => $"{seconds / 86400} d ago",
        };
    }

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Short form for axis labels: 950, 1.2k, 3.4M.</summary>
    public static string Short(double value) => value switch
    {
        >= 1_000_000 => (value / 1_000_000).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (value / 1_000).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Text with its bidirectional formatting characters (right-to-left overrides, embeddings, isolates, marks)
    /// written out as <c>[U+202E]</c>: shown as they are, they reorder the text around them on the page.
    /// </summary>
    public static string Visible(string? text)
    {
        if (text is null || text.AsSpan().IndexOfAny(BidiControls) < 0)
        {
            return text ?? "";
        }
        var shown = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (BidiControls.Contains(c))
            {
                shown.Append("[U+").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture)).Append(']');
            }
            else
            {
                shown.Append(c);
            }
        }
        return shown.ToString();
    }

    private static readonly System.Buffers.SearchValues<char> BidiControls =
        System.Buffers.SearchValues.Create("\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");
}
