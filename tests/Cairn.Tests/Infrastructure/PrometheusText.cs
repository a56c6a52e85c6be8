using System.Globalization;
using System.Text;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// The samples of a Prometheus text exposition (format 0.0.4, what <c>GET /metrics</c> serves): each line
/// <c>name{label="value",...} value [timestamp]</c>, comments and blank lines skipped. A line that does not parse
/// fails the test that reads it.
/// </summary>
public sealed class PrometheusText
{
    private PrometheusText(IReadOnlyList<Sample> samples) => Samples = samples;

    public IReadOnlyList<Sample> Samples { get; }

    /// <summary>One sample: a series' name, its labels and its value.</summary>
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
    {
        public string? this[string label] => Labels.GetValueOrDefault(label);
    }

    /// <summary>The samples of <paramref name="name"/> whose labels include every pair of <paramref name="labels"/>.</summary>
    public IEnumerable<Sample> Find(string name, params (string Label, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s[l.Label] == l.Value));

    /// <summary>The sum of the values of <see cref="Find"/>'s samples (0 when there are none).</summary>
    public double Sum(string name, params (string Label, string Value)[] labels) => Find(name, labels).Sum(s => s.Value);

    public static PrometheusText Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            samples.Add(ParseLine(line));
        }
        return new PrometheusText(samples);
    }

    private static Sample ParseLine(string line)
    {
        var at = 0;
        while (at < line.Length && line[at] is not ('{' or ' '))
        {
            at++;
        }
        var name = line[..at];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (at < line.Length && line[at] == '{')
        {
            at++;
            while (line[at] != '}')
            {
                var equals = line.IndexOf('=', at);
                var label = line[at..equals].Trim();
                at = equals + 1;
                Expect(line, at++, '"');
                labels[label] = ReadQuoted(line, ref at);
                if (line[at] == ',')
                {
                    at++;
                }
            }
            at++;
        }
        var fields = line[at..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (name.Length == 0 || fields.Length is < 1 or > 2)
        {
            throw new FormatException($"Not a Prometheus sample: {line}");
        }
        return new Sample(name, labels, Number(fields[0]));
    }

    /// <summary>A label value after its opening quote, with the format's escapes (<c>\\</c>, <c>\"</c>, <c>\n</c>); leaves <paramref name="at"/> after the closing quote.</summary>
    private static string ReadQuoted(string line, ref int at)
    {
        var value = new StringBuilder();
        while (line[at] != '"')
        {
            if (line[at] == '\\')
            {
                at++;
                value.Append(line[at] switch { 'n' => '\n', var c => c });
            }
            else
            {
                value.Append(line[at]);
            }
            at++;
        }
        at++;
        return value.ToString();
    }

    private static void Expect(string line, int at, char expected)
    {
        if (line[at] != expected)
        {
            throw new FormatException($"Expected '{expected}' at {at}: {line}");
        }
    }

    private static double Number(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };
}
