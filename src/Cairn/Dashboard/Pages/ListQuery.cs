using System.Globalization;
using System.Text;
using Cairn.Storage;

namespace Cairn.Dashboard.Pages;

/// <summary>
/// The list's filters as they travel in the URL (so a filtered view can be bookmarked, shared and paged), their
/// checks, and the store filter they make. Times are UTC: <c>from</c> inclusive, <c>to</c> exclusive.
/// </summary>
internal sealed record ListQuery(string? Project, string? Model, string? Key, string? Value, string? From, string? To, string? Text)
{
    public static ListQuery Read(IQueryCollection query) => new(
        Clean(query["project"]), Clean(query["model"]), Clean(query["key"]), Clean(query["value"]),
        Clean(query["from"]), Clean(query["to"]), Clean(query["q"]));

    public bool IsEmpty => this == new ListQuery(null, null, null, null, null, null, null);

    /// <summary>The store's filter, or the problems that keep this query from being one.</summary>
    public (DashboardFilter? Filter, IReadOnlyList<string> Problems) ToFilter(long? projectId)
    {
        var problems = new List<string>();
        var from = ParseTime(From, "From", problems);
        var to = ParseTime(To, "To", problems);
        if (from is not null && to is not null && from >= to)
        {
            problems.Add("From must be before To.");
        }
        if (Value is not null && Key is null)
        {
            problems.Add("A metadata value needs a key.");
        }
        if (Key is { Length: > Cairn.OpenAI.MetadataParser.MaxKeyLength })
        {
            problems.Add($"A metadata key has at most {Cairn.OpenAI.MetadataParser.MaxKeyLength} characters.");
        }
        if (problems.Count > 0)
        {
            return (null, problems);
        }
        var metadata = Key is null ? [] : new[] { KeyValuePair.Create(Key, Value ?? "") };
        return (new DashboardFilter(projectId, Model, metadata, from, to, Text), problems);
    }

    /// <summary>This query as a URL's query string (with a leading <c>?</c>, or empty), plus more parameters.</summary>
    public string ToQueryString(params (string Name, string? Value)[] more)
    {
        var text = new StringBuilder();
        void Add(string name, string? value)
        {
            if (value is null)
            {
                return;
            }
            text.Append(text.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }

        Add("project", Project);
        Add("model", Model);
        Add("key", Key);
        Add("value", Value);
        Add("from", From);
        Add("to", To);
        Add("q", Text);
        foreach (var (name, value) in more)
        {
            Add(name, value);
        }
        return text.ToString();
    }

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static readonly string[] TimeFormats = ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"];

    private static DateTimeOffset? ParseTime(string? text, string name, List<string> problems)
    {
        if (text is null)
        {
            return null;
        }
        if (DateTime.TryParseExact(text, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            || DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time))
        {
            return new DateTimeOffset(time, TimeSpan.Zero);
        }
        problems.Add($"{name} is not a date and time (use YYYY-MM-DDTHH:MM, UTC).");
        return null;
    }
}
