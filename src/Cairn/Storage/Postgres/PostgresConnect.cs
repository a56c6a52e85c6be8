using System.Net.Sockets;
using Cairn.Configuration;
using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Opens a PostgreSQL store: <see cref="Create"/> makes the connection pools on a checked connection string (no
/// I/O), <see cref="MigrateAsync"/> connects and brings the schema up to date.
/// </summary>
internal static class PostgresConnect
{
    /// <summary>
    /// Creates the pools and migrates at once (for <c>cairn migrate</c>, which has no host, and may open a database
    /// it has not finished filling when <paramref name="forMigrate"/>).
    /// </summary>
    public static PostgresDataSources Open(string connectionString, string key, bool forMigrate = false)
    {
        var dataSources = Create(connectionString, key);
        try
        {
            MigrateAsync(dataSources, key, forMigrate, CancellationToken.None).GetAwaiter().GetResult();
            return dataSources;
        }
        catch (OptionsException)
        {
            dataSources.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>The connection pools on <paramref name="connectionString"/>; a string that cannot be read stops with one line naming <paramref name="key"/>.</summary>
    public static PostgresDataSources Create(string connectionString, string key)
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
        // Cairn leaves no session state on a connection (no SET, temporary tables, session locks or LISTEN), so a
        // connection going back to the pool needs no reset: Npgsql's would be seven more statements on the server
        // with every request's next one. A connection string that says otherwise is obeyed.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }
        var unprepared = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { MaxAutoPrepare = 0 };
        // A connection string that says how many statements to prepare is obeyed (0 behind a pooler that cannot
        // keep prepared statements); otherwise Cairn prepares the few it runs all the time.
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 32;
            builder.AutoPrepareMinUsages = 2;
        }
        // Npgsql's metrics name a pool (db.client.connection.pool.name) by its whole connection string unless it is
        // given a name: the application name says whose pool it is in a line a reader can take in.
        var name = builder.ApplicationName;
        return new PostgresDataSources(
            new NpgsqlDataSourceBuilder(builder.ConnectionString) { Name = name }.Build(),
            new NpgsqlDataSourceBuilder(unprepared.ConnectionString) { Name = $"{name}-unprepared" }.Build());
    }

    /// <summary>
    /// Connects and applies migrations; a database that cannot be used (one <c>cairn migrate</c> has not finished
    /// filling included, unless <paramref name="forMigrate"/>) stops with one line naming <paramref name="key"/>, without
    /// the password.
    /// </summary>
    public static async Task MigrateAsync(PostgresDataSources dataSources, string key, bool forMigrate, CancellationToken cancellationToken)
    {
        try
        {
            await PostgresSchema.MigrateAsync(dataSources.Unprepared, forMigrate, cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException or InvalidOperationException)
        {
            throw new OptionsException($"{key}: cannot use the PostgreSQL database {Describe(dataSources)}: {OneLine(e.Message)}");
        }
    }

    /// <summary>Where the pools point, without the password.</summary>
    public static string Describe(PostgresDataSources dataSources) =>
        Describe(new NpgsqlConnectionStringBuilder(dataSources.Unprepared.ConnectionString));

    /// <summary>Where a connection string points, without its password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        $"'{builder.Database ?? builder.Username ?? "postgres"}' on {builder.Host ?? "localhost"}:{builder.Port} as '{builder.Username ?? Environment.UserName}'";

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
