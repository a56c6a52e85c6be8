using Cairn.Access;
using Cairn.Dashboard.Access;
using Cairn.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cairn.Dashboard.Pages;

/// <summary>The list of stored responses, newest first, filtered by project, model and a metadata pair, with keyset paging.</summary>
internal sealed class ResponsesModel(IResponseDashboard store, IAccessStore access, TimeProvider clock) : PageModel
{
    public const int PageSize = IndexModel.PageSize;

    /// <summary>The list's filters in the URL: project, model, key and value (the completions' time range and text are not offered here).</summary>
    public ListQuery Query { get; private set; } = ListQuery.Read(new QueryCollection());

    public ResponseRows Rows { get; private set; } = new([], false, false);

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
        Query = ListQuery.Read(Request.Query) with { From = null, To = null, Text = null };
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
        // Cursors are response ids of the project shown, never seqs, as in the completions' list.
        var cursor = new PageCursor(await CursorAsync("before", projectId, cancellationToken), await CursorAsync("after", projectId, cancellationToken));
        Rows = await store.ListAsync(new ResponseFilter(projectId, filter.Model, filter.Metadata.Count > 0 ? filter.Metadata[0] : null), cursor, PageSize, cancellationToken);
    }

    private async Task<long?> CursorAsync(string name, long? projectId, CancellationToken cancellationToken) =>
        Request.Query[name].ToString() is { Length: > 0 and <= 256 } id ? await store.CursorAsync(projectId, id, cancellationToken) : null;

    public string? ProjectName(long id) => Projects.TryGetValue(id, out var name) ? name : null;
}
