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
}
