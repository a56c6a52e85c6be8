using Cairn.Access;
using Cairn.Dashboard.Access;
using Cairn.Storage;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cairn.Dashboard.Pages;

/// <summary>
/// A list of stored objects (completions, responses), newest first: the viewer's project (any, or one chosen, for
/// the admin), the filters in the URL, the models to choose from, and a keyset page between cursors that are ids of
/// the project shown, never seqs (a global seq would let one project count another's objects, and an id that is not
/// the project's is answered as no cursor).
/// </summary>
internal abstract class StoredListModel<TRows>(IAccessStore access, TimeProvider clock, TRows empty) : PageModel
{
    public const int PageSize = 50;

    /// <summary>The list's filters in the URL.</summary>
    public ListQuery Query { get; private set; } = ListQuery.Read(new QueryCollection());

    public TRows Rows { get; private set; } = empty;

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
        Query = Offered(ListQuery.Read(Request.Query));
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
        Models = await ModelsAsync(projectId, cancellationToken);
        var (filter, problems) = Query.ToFilter(projectId);
        Problems = problems;
        if (filter is null || projectId == -1)
        {
            return;
        }
        var cursor = new PageCursor(await CursorAsync("before", projectId, cancellationToken), await CursorAsync("after", projectId, cancellationToken));
        Rows = await ListAsync(filter, cursor, cancellationToken);
    }

    public string? ProjectName(long id) => Projects.TryGetValue(id, out var name) ? name : null;

    /// <summary>The filters this list offers, from those in the URL (all of them unless a list says otherwise).</summary>
    protected virtual ListQuery Offered(ListQuery query) => query;

    protected abstract Task<IReadOnlyList<string>> ModelsAsync(long? projectId, CancellationToken cancellationToken);

    /// <summary>The seq of the object with this id in the project (any project for the admin); null when it is none of them.</summary>
    protected abstract Task<long?> FindCursorAsync(long? projectId, string id, CancellationToken cancellationToken);

    protected abstract Task<TRows> ListAsync(DashboardFilter filter, PageCursor cursor, CancellationToken cancellationToken);

    private async Task<long?> CursorAsync(string name, long? projectId, CancellationToken cancellationToken) =>
        Request.Query[name].ToString() is { Length: > 0 and <= 256 } id ? await FindCursorAsync(projectId, id, cancellationToken) : null;
}
