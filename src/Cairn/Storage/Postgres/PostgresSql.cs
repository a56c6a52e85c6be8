using System.Globalization;
using System.Text;
using Npgsql;

namespace Cairn.Storage.Postgres;

/// <summary>
/// A query's text and its positional parameters (<c>$1</c>, <c>$2</c>, …), built together; and the one place that turns
/// a <see cref="CompletionFilter"/> into PostgreSQL's SQL. The completions' table is <c>c</c>; text values are escaped
/// with <see cref="PostgresText"/> as they are stored.
/// </summary>
internal sealed class PostgresSql(NpgsqlConnection connection)
{
    private readonly StringBuilder text = new();

    /// <summary>The command the parameters are bound to; its text is set by <see cref="Finish"/>.</summary>
    public NpgsqlCommand Command { get; } = new() { Connection = connection };

    public PostgresSql Append(string sql)
    {
        text.Append(sql);
        return this;
    }

    /// <summary>Binds the next positional parameter and gives its name.</summary>
    public string Parameter(object value)
    {
        PostgresBinding.Add(Command, value);
        return "$" + Command.Parameters.Count.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A join on its index per metadata pair from <paramref name="firstPair"/> on, each within <paramref name="project"/>
    /// (a parameter) or, when null, the row's own project. <paramref name="seqBound"/> (say <c>&gt; $2</c>) is repeated on
    /// each pair's seq: the planner does not carry a range across <c>seq = seq</c>, and the range is what lets it
    /// start mid-index.
    /// </summary>
    public PostgresSql JoinPairs(CompletionFilter filter, string? project, string? seqBound, int firstPair = 0)
    {
        for (var i = firstPair; i < filter.Metadata.Count; i++)
        {
            var m = "m" + i.ToString(CultureInfo.InvariantCulture);
            Append($" JOIN completion_metadata {m} ON {m}.project_id = {project ?? "c.project_id"}")
                .Append($" AND {m}.key = {Parameter(PostgresText.Encode(filter.Metadata[i].Key))}")
                .Append($" AND {m}.value = {Parameter(PostgresText.Encode(filter.Metadata[i].Value))} AND {m}.seq = c.seq");
            if (seqBound is not null)
            {
                Append($" AND {m}.seq {seqBound}");
            }
        }
        return this;
    }

    /// <summary>
    /// <paramref name="alias"/>'s row of metadata pair <paramref name="pair"/> within <paramref name="project"/> (a
    /// parameter): the conditions of a walk along the pair's index.
    /// </summary>
    public PostgresSql Pair(CompletionFilter filter, int pair, string alias, string project) =>
        Append($"{alias}.project_id = {project} AND {alias}.key = {Parameter(PostgresText.Encode(filter.Metadata[pair].Key))}")
            .Append($" AND {alias}.value = {Parameter(PostgresText.Encode(filter.Metadata[pair].Value))}");

    /// <summary>
    /// A step per metadata pair from <paramref name="firstPair"/> on, each finding the pair's row of the seq the step
    /// before it gave (<paramref name="seq"/> for the first) and giving it on; gives the last step's seq. A walk thus
    /// checks its other pairs on each row it meets, in this order: each step is a LATERAL subquery with a LIMIT (a
    /// pair has one row per seq anyway), which the planner cannot flatten into a join it could reorder, so no plan,
    /// generic or custom, walks another index than the statement's.
    /// </summary>
    public string CheckPairs(CompletionFilter filter, string project, string seq, int firstPair)
    {
        for (var i = firstPair; i < filter.Metadata.Count; i++)
        {
            var m = "m" + i.ToString(CultureInfo.InvariantCulture);
            Append($" CROSS JOIN LATERAL (SELECT {m}.seq FROM completion_metadata {m} WHERE ").Pair(filter, i, m, project)
                .Append($" AND {m}.seq = {seq} LIMIT 1) {m}");
            seq = m + ".seq";
        }
        return seq;
    }

    /// <summary>
    /// The seq of completion <paramref name="id"/>, or of its tombstone, in <paramref name="project"/> (a parameter), as
    /// a subquery (null when neither is there): a cursor goes to the server inside the statement that pages from it.
    /// </summary>
    public string Cursor(string id, string project)
    {
        var p = Parameter(PostgresText.Encode(id));
        return $"(SELECT seq FROM completions WHERE id = {p} AND project_id = {project} "
            + $"UNION ALL SELECT seq FROM deleted_completions WHERE id = {p} AND project_id = {project} LIMIT 1)";
    }

    /// <summary><c>AND</c> conditions for the project (<paramref name="project"/>, a parameter; null: none), the model and the <c>created</c> range.</summary>
    public PostgresSql Where(CompletionFilter filter, string? project)
    {
        if (project is not null)
        {
            Append($" AND c.project_id = {project}");
        }
        if (filter.Model is { } model)
        {
            Append($" AND c.model = {Parameter(PostgresText.Encode(model))}");
        }
        if (filter.FromSeconds is { } from)
        {
            Append($" AND c.created >= {Parameter(from)}");
        }
        if (filter.ToSeconds is { } to)
        {
            Append($" AND c.created < {Parameter(to)}");
        }
        return this;
    }

    /// <summary><c>ORDER BY</c> <paramref name="seq"/> and a <c>LIMIT</c> of one page and the row that tells whether more follow.</summary>
    public PostgresSql OrderBy(string seq, bool ascending, int limit) =>
        Append($" ORDER BY {seq} {(ascending ? "ASC" : "DESC")} LIMIT {Parameter((long)Paging.OverFetch(limit))}");

    /// <summary>Sets the command's text (passed through <paramref name="wrap"/> if given) and gives the command.</summary>
    public NpgsqlCommand Finish(Func<string, string>? wrap = null)
    {
        Command.CommandText = wrap is null ? text.ToString() : wrap(text.ToString());
        return Command;
    }
}
