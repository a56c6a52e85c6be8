using Npgsql;
using NpgsqlTypes;

namespace Cairn.Storage.Postgres;

/// <summary>The dashboard's rows of the responses <c>cairn migrate</c> copies.</summary>
internal static partial class SqliteToPostgres
{
    /// <summary>
    /// The previews and metadata pairs of the responses with <c>after &lt; seq &lt;= last</c>, in the transaction that
    /// copied them: previews as SQLite holds them, pairs split from the metadata column just copied.
    /// </summary>
    private static async Task CopyResponseDashboardRowsAsync(Microsoft.Data.Sqlite.SqliteConnection sqlite, NpgsqlConnection connection, long after, long last)
    {
        await using (var previews = await connection.BeginBinaryImportAsync("COPY response_previews(seq, input, output) FROM STDIN (FORMAT BINARY)"))
        {
            using var read = sqlite.CreateCommand();
            read.CommandText = "SELECT seq, input, output FROM response_previews WHERE seq > $after AND seq <= $last";
            read.Parameters.AddWithValue("$after", after);
            read.Parameters.AddWithValue("$last", last);
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                await previews.StartRowAsync();
                await previews.WriteAsync(reader.GetInt64(0), NpgsqlDbType.Bigint);
                await WriteNullableAsync(previews, reader.IsDBNull(1) ? null : Text(reader.GetString(1)), NpgsqlDbType.Text);
                await WriteNullableAsync(previews, reader.IsDBNull(2) ? null : Text(reader.GetString(2)), NpgsqlDbType.Text);
            }
            await previews.CompleteAsync();
        }
        await using var pairs = new NpgsqlCommand("""
            INSERT INTO response_metadata(project_id, key, value, seq)
            SELECT r.project_id, j.key, j.value, r.seq FROM responses r, jsonb_each_text(r.metadata) j WHERE r.seq > $1 AND r.seq <= $2
            """, connection);
        PostgresBinding.Add(pairs, after, last);
        await pairs.ExecuteNonQueryAsync();
    }

    /// <summary>A preview as PostgreSQL text holds it (a preview made by SQLite's migration may hold U+0000).</summary>
    private static string Text(string preview) => preview.Replace('\0', ' ');
}
