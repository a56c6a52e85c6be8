using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>Binds values to a prepared, cached command, reusing the parameters it already has rather than rebuilding them.</summary>
internal static class SqliteBinding
{
    public static void Bind(SqliteCommand command, params ReadOnlySpan<(string Name, object Value)> parameters)
    {
        for (var i = 0; i < parameters.Length; i++)
        {
            Set(command, i, parameters[i].Name, parameters[i].Value);
        }
        Trim(command, parameters.Length);
    }

    /// <summary>Gives the command's <paramref name="index"/>th parameter a value, reusing the parameter a cached command already has.</summary>
    public static void Set(SqliteCommand command, int index, string name, object value)
    {
        var parameters = command.Parameters;
        if (index < parameters.Count && parameters[index].ParameterName == name)
        {
            parameters[index].Value = value;
            return;
        }
        Trim(command, index);
        parameters.AddWithValue(name, value);
    }

    public static void Trim(SqliteCommand command, int count)
    {
        while (command.Parameters.Count > count)
        {
            command.Parameters.RemoveAt(command.Parameters.Count - 1);
        }
    }
}
