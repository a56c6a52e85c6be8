using Cairn.Access;
using Cairn.Dashboard.Access;
using Cairn.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cairn.Dashboard.Pages;

/// <summary>Requests and tokens per model over the last day, week or month, read from the hourly rollup.</summary>
internal sealed class OverviewModel(IDashboardStore store, IAccessStore access, TimeProvider clock) : PageModel
{
    /// <summary>The ranges offered: name, length, bucket.</summary>
    public static readonly (string Name, string Label, long Seconds, long Bucket)[] Ranges =
    [
        ("24h", "Last 24 hours", 86_400, 3_600),
        ("7d", "Last 7 days", 7 * 86_400, 6 * 3_600),
        ("30d", "Last 30 days", 30 * 86_400, 86_400),
    ];

    public (string Name, string Label, long Seconds, long Bucket) Range { get; private set; } = Ranges[1];

    public IReadOnlyList<UsagePoint> Points { get; private set; } = [];

    public IReadOnlyList<string> Models { get; private set; } = [];

    public long Start { get; private set; }

    public int Buckets { get; private set; }

    public DashboardViewer Viewer { get; private set; } = null!;

    public IReadOnlyList<string> Projects { get; private set; } = [];

    public string? Project { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Viewer = DashboardViewer.Get(HttpContext);
        Range = Ranges.FirstOrDefault(r => r.Name == Request.Query["range"]) is { Name: not null } chosen ? chosen : Ranges[1];
        var projectId = Viewer.ProjectId;
        if (Viewer.IsAdmin)
        {
            var projects = await access.ListProjectsAsync(cancellationToken);
            Projects = [.. projects.Select(p => p.Name).Order(StringComparer.Ordinal)];
            if (Request.Query["project"].ToString() is { Length: > 0 } name)
            {
                Project = name;
                projectId = projects.FirstOrDefault(p => p.Name == name)?.Id ?? -1;
            }
        }
        // Buckets end with the one holding now, and start on a bucket boundary.
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var end = now - (now % Range.Bucket) + Range.Bucket;
        Buckets = (int)(Range.Seconds / Range.Bucket);
        Start = end - (Buckets * Range.Bucket);
        Points = await store.UsageAsync(projectId, Start, end, cancellationToken);
        Models = [.. Points.GroupBy(p => p.Model, StringComparer.Ordinal).OrderByDescending(g => g.Sum(p => p.Requests)).Select(g => g.Key)];
    }

    public IEnumerable<(string Model, long Requests, long PromptTokens, long CompletionTokens)> Totals() =>
        Models.Select(m =>
        {
            var points = Points.Where(p => p.Model == m).ToList();
            return (m, points.Sum(p => p.Requests), points.Sum(p => p.PromptTokens), points.Sum(p => p.CompletionTokens));
        });
}
