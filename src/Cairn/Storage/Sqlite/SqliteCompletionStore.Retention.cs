using static Cairn.Storage.Sqlite.SqliteBinding;

namespace Cairn.Storage.Sqlite;

/// <summary>Retention on SQLite: each batch is one write in the group commit, so a purge never holds the writer for long.</summary>
internal sealed partial class SqliteCompletionStore : ICompletionRetention
{
    public async Task<bool> PurgeAsync(DateTimeOffset expiredBefore, int limit, CancellationToken cancellationToken)
    {
        var (removed, more) = await writer.WriteAsync(w =>
        {
            // Storage order walks the primary key from its oldest end, so no index on created is needed; a
            // completion whose request outlasted a newer one's waits for the next round.
            var oldest = w.Command("SELECT seq, id, project_id, created, metadata FROM completions ORDER BY seq LIMIT $limit");
            Bind(oldest, ("$limit", limit));
            var expired = new List<(long Seq, string Id, long Project, string Metadata)>();
            using (var reader = oldest.ExecuteReader())
            {
                while (reader.Read())
                {
                    if (reader.GetInt64(3) < expiredBefore.ToUnixTimeSeconds())
                    {
                        expired.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(4)));
                    }
                }
            }
            foreach (var row in expired)
            {
                Remove(w, row.Project, row.Id, row.Seq, row.Metadata);
            }
            var tombstones = w.Command("""
                DELETE FROM deleted_completions WHERE id IN (
                    SELECT id FROM deleted_completions WHERE id < $floor ORDER BY id LIMIT $limit)
                """);
            Bind(tombstones, ("$floor", Cairn.OpenAI.Ids.CompletionFloor(expiredBefore - RetentionService.TombstoneGrace)), ("$limit", limit));
            var dropped = tombstones.ExecuteNonQuery();
            return (expired, expired.Count == limit || dropped == limit);
        });
        search.Forget(removed.Select(row => row.Seq));
        writer.Metrics.Removed(StoreMetrics.Completions, removed.Count);
        return more;
    }
}
