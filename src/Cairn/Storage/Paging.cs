namespace Cairn.Storage;

/// <summary>
/// Keyset pages by over-fetch, for every list on both databases: a query asks for one row more than the page, and
/// that row, when it comes, only tells that more follow.
/// </summary>
internal static class Paging
{
    /// <summary>How many rows a page of <paramref name="limit"/> asks for.</summary>
    public static int OverFetch(int limit) => limit + 1;

    /// <summary>Drops the rows read past <paramref name="limit"/>; true when there were some (more follow).</summary>
    public static bool TrimOverFetch<T>(List<T> rows, int limit)
    {
        if (rows.Count <= limit)
        {
            return false;
        }
        rows.RemoveRange(limit, rows.Count - limit);
        return true;
    }
}
