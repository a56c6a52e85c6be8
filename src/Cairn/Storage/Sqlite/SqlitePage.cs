using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>How every list on SQLite reads its page.</summary>
internal static class SqlitePage
{
    /// <summary>
    /// Reads a page of rows (id, body, length of body): a body is read only if it fits the page's byte budget, and
    /// the first that does not ends the page, with more to follow.
    /// </summary>
    public static StoredPage Read(SqliteCommand command, int limit, long maxBytes, Func<SqliteDataReader, string> id)
    {
        var items = new List<StoredItem>(Math.Min(limit + 1, 128));
        long bytes = 0;
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var size = reader.GetInt64(2);
                if (items.Count < limit && !StoredPage.Fits(items.Count, bytes, size, maxBytes))
                {
                    return new StoredPage(items, HasMore: true);
                }
                bytes += size;
                // The row past the limit only tells that more follow: its body is not read.
                items.Add(new StoredItem(id(reader), items.Count < limit ? (byte[])reader.GetValue(1) : []));
            }
        }
        return new StoredPage(items, HasMore: Paging.TrimOverFetch(items, limit));
    }
}
