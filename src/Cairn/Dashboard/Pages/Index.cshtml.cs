using Cairn.Access;
using Cairn.Storage;

namespace Cairn.Dashboard.Pages;

/// <summary>The list of stored completions, newest first, with its filters and keyset paging.</summary>
internal sealed class IndexModel(IDashboardStore store, IAccessStore access, TimeProvider clock)
    : StoredListModel<CompletionRows>(access, clock, new([], false, false))
{
    protected override Task<IReadOnlyList<string>> ModelsAsync(long? projectId, CancellationToken cancellationToken) =>
        store.ModelsAsync(projectId, cancellationToken);

    protected override Task<long?> FindCursorAsync(long? projectId, string id, CancellationToken cancellationToken) =>
        store.CursorAsync(projectId, id, cancellationToken);

    protected override Task<CompletionRows> ListAsync(DashboardFilter filter, PageCursor cursor, CancellationToken cancellationToken) =>
        store.ListAsync(filter, cursor, PageSize, cancellationToken);
}
