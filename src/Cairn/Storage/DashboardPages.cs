namespace Cairn.Storage;

/// <summary>Turns the rows a list query read (one more than a page, in walk order) into a page, newest first.</summary>
internal static class DashboardPages
{
    public static CompletionRows Page(List<CompletionRow> rows, PageCursor cursor, int limit)
    {
        var (page, older, newer) = Keyset(rows, cursor, limit);
        return new CompletionRows(page, older, newer);
    }

    public static ResponseRows Page(List<ResponseRow> rows, PageCursor cursor, int limit)
    {
        var (page, older, newer) = Keyset(rows, cursor, limit);
        return new ResponseRows(page, older, newer);
    }

    private static (List<T> Rows, bool HasOlder, bool HasNewer) Keyset<T>(List<T> rows, PageCursor cursor, int limit)
    {
        var more = Paging.TrimOverFetch(rows, limit);
        if (cursor.After is not null)
        {
            // Walked oldest first from the cursor; shown newest first. The cursor's own row is older than these.
            rows.Reverse();
            return (rows, HasOlder: true, HasNewer: more);
        }
        return (rows, HasOlder: more, HasNewer: cursor.Before is not null);
    }
}
