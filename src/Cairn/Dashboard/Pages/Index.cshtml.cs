using Cairn.Access;
using Cairn.Dashboard.Access;
using Cairn.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cairn.Dashboard.Pages;

/// <summary>The list of stored completions, newest first, with its filters and keyset paging.</summary>
internal sealed class IndexModel(IDashboardStore store, IAccessStore access, TimeProvider clock) : PageModel
{
    public const int PageSize = 50;

    public ListQuery Query { get; private set; } = ListQuery.Read(new QueryCollection());

    public CompletionRows Rows { get; private set; } = new([], false, false);

    public IReadOnlyList<string> Problems { get; private set; } = [];

    public IReadOnlyList<string> Models { get; private set; } = [];

    /// <summary>Every project by id (for the admin's project column and selector).</summary>
    public IReadOnlyDictionary<long, string> Projects { get; private set; } = new Dictionary<long, string>();

    public DashboardViewer Viewer { get; private set; } = null!;

    public string? Deleted { get; private set; }

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Viewer = DashboardViewer.Get(HttpContext);
        Now = clock.GetUtcNow();
        Query = ListQuery.Read(Request.Query);
        Deleted = Request.Query["deleted"].ToString() is { Length: > 0 } deleted ? deleted : null;
        var projectId = Viewer.ProjectId;
        if (Viewer.IsAdmin)
        {
            Projects = (await access.ListProjectsAsync(cancellationToken)).ToDictionary(p => p.Id, p => p.Name);
            if (Query.Project is { } name)
            {
                projectId = Projects.FirstOrDefault(p => p.Value == name).Key is var id and > 0 ? id : -1;
            }
        }
        else
        {
            Query = Query with { Project = null };
        }
        Models = await store.ModelsAsync(projectId, cancellationToken);
        var (filter, problems) = Query.ToFilter(projectId);
        Problems = problems;
        if (filter is null || projectId == -1)
        {
            return;
        }
        // Cursors are completion ids of the project shown: a global seq would let one project count another's
        // completions, and an id that is not the project's is answered as no cursor.
        var cursor = new PageCursor(await CursorAsync("before", projectId, cancellationToken), await CursorAsync("after", projectId, cancellationToken));
        Rows = await store.ListAsync(filter, cursor, PageSize, cancellationToken);
    }

    private async Task<long?> CursorAsync(string name, long? projectId, CancellationToken cancellationToken) =>
        Request.Query[name].ToString() is { Length: > 0 and <= 256 } id ? await store.CursorAsync(projectId, id, cancellationToken) : null;

    public string? ProjectName(long id) => Projects.TryGetValue(id, out var name) ? name : null;
}
