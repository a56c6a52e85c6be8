using System.Globalization;
using System.Net;
using System.Text;
using Cairn.Storage;

namespace Cairn.Dashboard.Pages;

/// <summary>
/// A stacked bar chart of one measure per model over time, drawn on the server as SVG: no script, no chart
/// library, nothing fetched. Buckets are whole multiples of an hour, so they line up with the rollup.
/// </summary>
internal static class UsageChart
{
    /// <summary>Colours for models in legend order; more models than colours reuse them.</summary>
    public static readonly string[] Palette = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#db2777", "#4b5563"];

    private const int Width = 960, Height = 260, Left = 56, Right = 40, Top = 12, Bottom = 40;

    public static string Svg(IReadOnlyList<UsagePoint> points, IReadOnlyList<string> models, long start, long bucketSeconds, int buckets,
        Func<UsagePoint, long> measure, string title)
    {
        var stacks = new double[buckets, Math.Max(models.Count, 1)];
        var index = models.Select((m, i) => (m, i)).ToDictionary(p => p.m, p => p.i, StringComparer.Ordinal);
        foreach (var point in points)
        {
            var bucket = (int)((point.Hour - start) / bucketSeconds);
            if (bucket >= 0 && bucket < buckets && index.TryGetValue(point.Model, out var m))
            {
                stacks[bucket, m] += measure(point);
            }
        }
        var max = 0.0;
        for (var b = 0; b < buckets; b++)
        {
            var sum = 0.0;
            for (var m = 0; m < models.Count; m++)
            {
                sum += stacks[b, m];
            }
            max = Math.Max(max, sum);
        }
        var top = NiceCeiling(max);
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var slot = (double)plotWidth / buckets;
        var bar = Math.Max(1, slot * 0.72);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Escape(title)}\" xmlns=\"http://www.w3.org/2000/svg\">");
        for (var g = 0; g <= 4; g++)
        {
            var y = Top + plotHeight - (plotHeight * g / 4.0);
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Left - 8}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{Format.Short(top * g / 4)}</text>");
        }
        var labelEvery = Math.Max(1, buckets / 8);
        for (var b = 0; b < buckets; b++)
        {
            var x = Left + (b * slot) + ((slot - bar) / 2);
            var y = (double)(Top + plotHeight);
            var time = DateTimeOffset.FromUnixTimeSeconds(start + (b * bucketSeconds));
            for (var m = 0; m < models.Count; m++)
            {
                var value = stacks[b, m];
                if (value <= 0 || top <= 0)
                {
                    continue;
                }
                var h = plotHeight * value / top;
                y -= h;
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect x=\"{x:0.##}\" y=\"{y:0.##}\" width=\"{bar:0.##}\" height=\"{h:0.##}\" fill=\"{Palette[m % Palette.Length]}\"><title>{Escape(models[m])} · {time:yyyy-MM-dd HH:mm} UTC · {Format.Number((long)value)}</title></rect>");
            }
            if (b % labelEvery == 0)
            {
                var label = bucketSeconds >= 86400 ? time.ToString("MMM d", CultureInfo.InvariantCulture) : time.ToString(bucketSeconds >= 6 * 3600 ? "MMM d HH:mm" : "HH:mm", CultureInfo.InvariantCulture);
                // The last labels end at their bar rather than run off the chart.
                var anchor = x + (bar / 2) + 40 > Width ? "end" : "middle";
                var at = anchor == "end" ? x + bar : x + (bar / 2);
                svg.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{at:0.#}\" y=\"{Height - Bottom + 18}\" text-anchor=\"{anchor}\">{label}</text>");
            }
        }
        svg.Append(CultureInfo.InvariantCulture, $"<line class=\"baseline\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Top + plotHeight}\" y2=\"{Top + plotHeight}\"/>");
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A round number at or above <paramref name="value"/> whose quarters are round too, for the axis.</summary>
    private static double NiceCeiling(double value)
    {
        if (value <= 0)
        {
            return 1;
        }
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in (double[])[1, 2, 4, 8, 10])
        {
            if (step * power >= value)
            {
                return step * power;
            }
        }
        return 10 * power;
    }

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
