using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// Two connection pools on one database. <see cref="Prepared"/> prepares the statements it runs often, so a get or
/// an insert is not parsed and planned each time. <see cref="Unprepared"/> plans each statement for its own values,
/// for queries whose best plan depends on them (the dashboard's lists, exports by metadata, the API's lists by model).
/// </summary>
internal sealed class PostgresDataSources(NpgsqlDataSource prepared, NpgsqlDataSource unprepared) : IAsyncDisposable
{
    public NpgsqlDataSource Prepared { get; } = prepared;

    public NpgsqlDataSource Unprepared { get; } = unprepared;

    public async ValueTask DisposeAsync()
    {
        await Prepared.DisposeAsync();
        await Unprepared.DisposeAsync();
    }
}
