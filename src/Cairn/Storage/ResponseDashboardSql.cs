namespace Cairn.Storage;

/// <summary>The dashboard's SQL over stored responses that reads the same on SQLite and PostgreSQL.</summary>
internal static class ResponseDashboardSql
{
    /// <summary>
    /// The distinct models of the projects matching <paramref name="projects"/> (a condition on <c>projects x</c>),
    /// in order: each the next one after the last in the responses' index by project and model, one seek per model,
    /// never a scan of the responses.
    /// </summary>
    public static string Models(string projects) => $"""
        WITH RECURSIVE m(project_id, model) AS (
            SELECT x.id, (SELECT min(r.model) FROM responses r WHERE r.project_id = x.id) FROM projects x WHERE {projects}
            UNION ALL
            SELECT m.project_id, (SELECT min(r.model) FROM responses r WHERE r.project_id = m.project_id AND r.model > m.model)
            FROM m WHERE m.model IS NOT NULL)
        SELECT DISTINCT model FROM m WHERE model IS NOT NULL ORDER BY model
        """;
}
