namespace Cairn.Dashboard.Access;

/// <summary>Who is looking at the dashboard: one project (a project key, or everyone while authentication is off) or every project (the admin key).</summary>
internal sealed record DashboardViewer(long? ProjectId, string Label, bool SignedIn)
{
    private static readonly object Key = new();

    public bool IsAdmin => ProjectId is null;

    public static DashboardViewer Get(HttpContext context) =>
        Find(context) ?? throw new InvalidOperationException("The dashboard's access filter did not run.");

    /// <summary>The viewer, or null on the sign-in page of someone without a session.</summary>
    public static DashboardViewer? Find(HttpContext context) => context.Items[Key] as DashboardViewer;

    public static void Set(HttpContext context, DashboardViewer viewer) => context.Items[Key] = viewer;
}
