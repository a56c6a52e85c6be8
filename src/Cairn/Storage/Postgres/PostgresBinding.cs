using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>The one way values are bound to PostgreSQL commands: positional parameters (<c>$1</c>, <c>$2</c>, …) in order.</summary>
internal static class PostgresBinding
{
    public static void Add(NpgsqlCommand command, params ReadOnlySpan<object> values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
        }
    }
}
