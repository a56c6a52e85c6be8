using Cairn.Access;
using Cairn.Storage;

namespace Cairn.Dashboard.Pages;

/// <summary>The list of stored responses, newest first, filtered by project, model and a metadata pair, with keyset paging.</summary>
internal sealed class ResponsesModel(IResponseDashboard store, IAccessStore access, TimeProvider clock)
    : StoredListModel<ResponseRows>(access, clock, new([], false, false))
{
    /// <summary>Project, model, key and value: the completions' time range and text are not offered here.</summary>
    protected override ListQuery Offered(ListQuery query) => query with { From = null, To = null, Text = null };

    protected override Task<IReadOnlyList<string>> ModelsAsync(long? projectId, CancellationToken cancellationToken) =>
        store.ModelsAsync(projectId, cancellationToken);

    protected override Task<long?> FindCursorAsync(long? projectId, string id, CancellationToken cancellationToken) =>
        store.CursorAsync(projectId, id, cancellationToken);

    protected override Task<ResponseRows> ListAsync(DashboardFilter filter, PageCursor cursor, CancellationToken cancellationToken) =>
        store.ListAsync(new ResponseFilter(filter.ProjectId, filter.Model, filter.Metadata.Count > 0 ? filter.Metadata[0] : null), cursor, PageSize, cancellationToken);
}
