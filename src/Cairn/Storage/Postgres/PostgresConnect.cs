using System.Net.Sockets;
using Cairn.Http;
using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>Opens a PostgreSQL store: a connection pool on a checked connection string, with the schema migrated.</summary>
internal static class PostgresConnect
{
    public static PostgresDataSources Open(string connectionString, string key)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            // The message names the bad keyword, never the password's value.
            throw new OptionsException($"{key} is not a valid PostgreSQL connection string: {e.Message}");
        }
        builder.ApplicationName ??= "cairn";
        var where = Describe(builder);
        var unprepared = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { MaxAutoPrepare = 0 };
        // A connection string that says how many statements to prepare is obeyed (0 behind a pooler that cannot
        // keep prepared statements); otherwise Cairn prepares the few it runs all the time.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 32;
            builder.AutoPrepareMinUsages = 2;
        }
        var dataSources = new PostgresDataSources(NpgsqlDataSource.Create(builder), NpgsqlDataSource.Create(unprepared));
        try
        {
            PostgresSchema.MigrateAsync(dataSources.Unprepared, CancellationToken.None).GetAwaiter().GetResult();
            return dataSources;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or InvalidOperationException)
        {
            dataSources.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw new OptionsException($"{key}: cannot use the PostgreSQL database {where}: {OneLine(e.Message)}");
        }
    }

    /// <summary>Where a connection string points, without its password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        $"'{builder.Database ?? builder.Username ?? "postgres"}' on {builder.Host ?? "localhost"}:{builder.Port} as '{builder.Username ?? Environment.UserName}'";

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
