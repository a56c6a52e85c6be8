using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// A query's text and its parameters, built together so that each value is bound under the name its text uses; and
/// the one place that turns a <see cref="CompletionFilter"/> into SQLite's SQL. The completions' table is <c>c</c>.
/// </summary>
internal sealed class SqliteSql
{
    private readonly StringBuilder text = new();
    private readonly List<(string Name, object Value)> parameters = [];

    public SqliteSql Append(string sql)
    {
        text.Append(sql);
        return this;
    }

    /// <summary>Binds <paramref name="value"/> to <paramref name="name"/> (once, however often the text uses it) and gives the name.</summary>
    public string Parameter(string name, object value)
    {
        if (!parameters.Exists(p => p.Name == name))
        {
            parameters.Add((name, value));
        }
        return name;
    }

    /// <summary>
    /// Appends <c>AND</c> conditions for every filter that the driving index has not applied already: the project
    /// (unless <paramref name="projectApplied"/>), the model, the metadata pairs from <paramref name="firstPair"/> on
    /// (each an indexed lookup of the row's own seq) and the <c>created</c> range.
    /// </summary>
    public SqliteSql Where(CompletionFilter filter, int firstPair = 0, bool projectApplied = false)
    {
        if (filter.ProjectId is { } project && !projectApplied)
        {
            Append(" AND c.project_id = ").Append(Parameter("$project", project));
        }
        if (filter.Model is { } model)
        {
            Append(" AND c.model = ").Append(Parameter("$model", model));
        }
        for (var i = firstPair; i < filter.Metadata.Count; i++)
        {
            Append(" AND EXISTS (SELECT 1 FROM completion_metadata m WHERE m.project_id = c.project_id AND m.key = ")
                .Append(Parameter(SqliteBinding.Key(i), filter.Metadata[i].Key))
                .Append(" AND m.value = ").Append(Parameter(SqliteBinding.Value(i), filter.Metadata[i].Value)).Append(" AND m.seq = c.seq)");
        }
        if (filter.FromSeconds is { } from)
        {
            Append(" AND c.created >= ").Append(Parameter("$from", from));
        }
        if (filter.ToSeconds is { } to)
        {
            Append(" AND c.created < ").Append(Parameter("$to", to));
        }
        return this;
    }

    /// <summary>
    /// The driving clause of a walk along the first metadata pair's index within the filter's project, in seq order
    /// (<c>m0.seq</c>); <paramref name="joins"/> come after the completions' table.
    /// </summary>
    public SqliteSql FirstPairWithinProject(CompletionFilter filter, string joins = "") =>
        Append("completion_metadata m0 CROSS JOIN completions c").Append(joins).Append(" WHERE m0.project_id = ").Append(Parameter("$project", filter.ProjectId!.Value))
            .Append(" AND m0.key = ").Append(Parameter(SqliteBinding.Key(0), filter.Metadata[0].Key))
            .Append(" AND m0.value = ").Append(Parameter(SqliteBinding.Value(0), filter.Metadata[0].Value)).Append(" AND c.seq = m0.seq");

    /// <summary>
    /// A dashboard page along <paramref name="seq"/>: older than <see cref="PageCursor.Before"/> (newest first) or newer
    /// than <see cref="PageCursor.After"/> (oldest first), one row more than the page to tell whether more follow.
    /// </summary>
    public SqliteSql Page(string seq, PageCursor cursor, int limit)
    {
        if (cursor.Before is { } before)
        {
            Append(" AND ").Append(seq).Append(" < ").Append(Parameter("$cursor", before));
        }
        else if (cursor.After is { } after)
        {
            Append(" AND ").Append(seq).Append(" > ").Append(Parameter("$cursor", after));
        }
        return OrderBy(seq, ascending: cursor.After is not null, Paging.OverFetch(limit));
    }

    public SqliteSql OrderBy(string seq, bool ascending, int limit) =>
        Append(string.Create(CultureInfo.InvariantCulture, $" ORDER BY {seq} {(ascending ? "ASC" : "DESC")} LIMIT ")).Append(Parameter("$limit", limit));

    /// <summary>The prepared command of this text on <paramref name="session"/>, with the values bound.</summary>
    public SqliteCommand Command(PreparedConnection session)
    {
        var command = session.Command(text.ToString());
        SqliteBinding.Bind(command, CollectionsMarshal.AsSpan(parameters));
        return command;
    }

    public override string ToString() => text.ToString();
}
