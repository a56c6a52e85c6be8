using Microsoft.Data.Sqlite;

/// <summary>The few SQLite calls the seeder makes, and how it stops on a store it must not touch.</summary>
internal static class Sql
{
    public static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] names)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        return command;
    }

    public static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public static long Long(SqliteConnection connection, string sql) =>
        Convert.ToInt64(Scalar(connection, sql), System.Globalization.CultureInfo.InvariantCulture);

    public static void Fail(string message)
    {
        Console.Error.WriteLine($"seed: {message}");
        Environment.Exit(2);
    }
}
