using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// The one way values are bound to SQLite commands: by name, onto a prepared, cached command, reusing the parameters
/// it already has rather than rebuilding them. Built queries bind through <see cref="SqliteSql"/>, which calls this.
/// </summary>
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

    /// <summary>The name of the <paramref name="i"/>th metadata key (<c>$k0</c>, …), made once for the usual counts.</summary>
    public static string Key(int i) => i < Names.Count ? Names.Key[i] : "$k" + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>The name of the <paramref name="i"/>th metadata value (<c>$v0</c>, …).</summary>
    public static string Value(int i) => i < Names.Count ? Names.Value[i] : "$v" + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>The name of the <paramref name="i"/>th message index of a multi-row insert (<c>$i0</c>, …).</summary>
    public static string Index(int i) => i < Names.Count ? Names.Index[i] : "$i" + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>The name of the <paramref name="i"/>th message body of a multi-row insert (<c>$b0</c>, …).</summary>
    public static string Body(int i) => i < Names.Count ? Names.Body[i] : "$b" + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>The name of the <paramref name="i"/>th item id of a multi-row insert (<c>$d0</c>, …).</summary>
    public static string ItemId(int i) => i < Names.Count ? Names.ItemId[i] : "$d" + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// An INSERT of <paramref name="count"/> rows, <paramref name="row"/> formatted with each row's number; the text is
    /// the same for the same count, so it is prepared once.
    /// </summary>
    public static string RowsSql(string head, string row, int count) =>
        head + string.Join(", ", Enumerable.Range(0, count).Select(i => string.Format(CultureInfo.InvariantCulture, row, i)));

    /// <summary>Parameter names made once, not per row.</summary>
    private static class Names
    {
        public const int Count = 64;
        public static readonly string[] Key = Make("$k");
        public static readonly string[] Value = Make("$v");
        public static readonly string[] Index = Make("$i");
        public static readonly string[] Body = Make("$b");
        public static readonly string[] ItemId = Make("$d");

        private static string[] Make(string prefix) =>
            [.. Enumerable.Range(0, Count).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture))];
    }
}
