namespace Cairn.Storage;

/// <summary>
/// The SQL that walks chains of stored responses, the same text on SQLite and PostgreSQL so that both read and fold
/// a chain alike. A chain is followed from a response to the one it continued (<c>previous_response_id</c>), within
/// its project, and only to an older one (a lower seq): a response is stored after the one it continues, so the walk
/// ends however the links are, without a depth limit that could cut a long chain short.
/// </summary>
internal static class ResponseChainSql
{
    /// <summary>
    /// The CTE <c>chain(root, seq, previous, project_id, depth)</c>: for each response matching <paramref name="roots"/>
    /// (a condition on <c>responses</c>), itself at depth 0 and every response its chain continued, one deeper each.
    /// </summary>
    public static string Chain(string roots) => $"""
        chain(root, seq, previous, project_id, depth) AS (
            SELECT seq, seq, previous_response_id, project_id, 0 FROM responses WHERE {roots}
            UNION ALL
            SELECT c.root, r.seq, r.previous_response_id, r.project_id, c.depth + 1
            FROM chain c JOIN responses r ON r.id = c.previous AND r.project_id = c.project_id AND r.seq < c.seq)
        """;

    /// <summary>
    /// A response's context, oldest first (id, body): every item of its chain, a null row for a response of the chain
    /// without items, and no row at all when no response matches <paramref name="roots"/>.
    /// </summary>
    public static string Context(string roots) => $"""
        WITH RECURSIVE {Chain(roots)}
        SELECT i.id, i.body FROM chain c LEFT JOIN response_items i ON i.seq = c.seq ORDER BY c.depth DESC, i.position
        """;

    /// <summary>
    /// The CTEs <c>chain</c> and <c>input(ord, seq, position, id)</c>: the input items of the response matching
    /// <paramref name="roots"/> (its chain's items and its own input, not its own output) numbered oldest first from 1,
    /// without their bodies. A page is a range of <c>ord</c>.
    /// </summary>
    public static string InputItems(string roots) => $"""
        WITH RECURSIVE {Chain(roots)},
        input(ord, seq, position, id) AS (
            SELECT row_number() OVER (ORDER BY c.depth DESC, i.position), i.seq, i.position, i.id
            FROM chain c JOIN response_items i ON i.seq = c.seq WHERE c.depth > 0 OR i.kind = 'input')
        """;

    /// <summary>
    /// CTEs that, given a CTE <c>gone(seq, id, project_id)</c> of responses about to be deleted, find the responses that
    /// continued them and are kept (<c>heirs(child, parent)</c>) and the chains of their parents; then <see cref="Fold"/>.
    /// </summary>
    public static readonly string Heirs = $"""
        heirs(child, parent) AS (
            SELECT c.seq, p.seq FROM gone p JOIN responses c ON c.project_id = p.project_id AND c.previous_response_id = p.id
            WHERE c.seq NOT IN (SELECT seq FROM gone)),
        {Chain("seq IN (SELECT parent FROM heirs)")}
        """;

    /// <summary>
    /// Copies each heir's parent's whole context (its chain's inputs and outputs, oldest first) in front of the heir's own
    /// input, as input items at positions -n … -1 (its own start at 0). An heir has a link, and the items of a response
    /// with a link start at 0, so the positions are free; the caller then clears the heirs' links.
    /// </summary>
    public const string Fold = """
        INSERT INTO response_items(seq, position, kind, id, body)
        SELECT h.child, x.ord - x.n - 1, 'input', x.id, x.body
        FROM heirs h JOIN (
            SELECT c.root, i.id, i.body,
                row_number() OVER (PARTITION BY c.root ORDER BY c.depth DESC, i.position) AS ord,
                count(*) OVER (PARTITION BY c.root) AS n
            FROM chain c JOIN response_items i ON i.seq = c.seq) x ON x.root = h.parent
        """;
}
