using Npgsql;
using NpgsqlTypes;

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

    /// <summary>
    /// A text value that may be null, typed either way. An untyped null is sent with no type, and Npgsql runs a
    /// prepared statement unprepared (parsed and planned again) whenever its parameter types differ from those it was
    /// prepared with, so a nullable value left untyped would undo the preparation of every write it is null in.
    /// </summary>
    public static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    /// <summary>A bigint that may be null, typed either way (see <see cref="Text"/>).</summary>
    public static NpgsqlParameter Bigint(long? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint };
}
