namespace Cairn.Storage;

/// <summary>
/// The SQL of an export's walk over stored responses, the same text on SQLite and PostgreSQL: whether the response
/// <c>r</c> continues, or is continued by, one that matches the export's filter too (the caller appends the filter's
/// conditions on <c>p</c> or <c>n</c> and the closing parenthesis), and the items of responses and of their chains.
/// </summary>
internal static class ResponseArchiveSql
{
    /// <summary><c>EXISTS (</c> the response <c>p</c> that <c>r</c> continues: the same project, stored before it.</summary>
    public const string Continues =
        "EXISTS (SELECT 1 FROM responses p WHERE p.id = r.previous_response_id AND p.project_id = r.project_id AND p.seq < r.seq";

    /// <summary><c>EXISTS (</c> a response <c>n</c> that continues <c>r</c>: the same project, stored after it.</summary>
    public const string ContinuedBy =
        "EXISTS (SELECT 1 FROM responses n WHERE n.project_id = r.project_id AND n.previous_response_id = r.id AND n.seq > r.seq";

    /// <summary>
    /// Rows <c>(root, depth, position, kind, id, body)</c>, by root, oldest first: every item of the chain of each
    /// response matching <paramref name="chains"/> (a condition on <c>responses</c>), and the own items of each response
    /// matching <paramref name="own"/> (a condition on <c>i.seq</c>) at depth 0.
    /// </summary>
    public static string Items(string chains, string own) => $"""
        WITH RECURSIVE {ResponseChainSql.Chain(chains)}
        SELECT c.root, c.depth, i.position, i.kind, i.id, i.body FROM chain c JOIN response_items i ON i.seq = c.seq
        UNION ALL
        SELECT i.seq, 0, i.position, i.kind, i.id, i.body FROM response_items i WHERE {own}
        ORDER BY 1, 2 DESC, 3
        """;
}
