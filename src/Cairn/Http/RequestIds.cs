namespace Cairn.Http;

/// <summary>The request id sent back in <c>x-request-id</c> and kept as a stored completion's <c>request_id</c>.</summary>
internal static class RequestIds
{
    private static readonly object Key = new();

    public static string Get(HttpContext context) =>
        context.Items[Key] as string ?? throw new InvalidOperationException("The request id middleware did not run.");

    public static void Set(HttpContext context, string id) => context.Items[Key] = id;

    private static readonly object StartedKey = new();

    /// <summary>Remembers when the request arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    public static void SetStarted(HttpContext context, long timestamp) => context.Items[StartedKey] = timestamp;

    /// <summary>Milliseconds since the request arrived: a stored completion's latency. Null when it was not recorded.</summary>
    public static long? ElapsedMilliseconds(HttpContext context) =>
        context.Items[StartedKey] is long started ? (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds : null;
}
