namespace Cairn.Http;

/// <summary>The request id sent back in <c>x-request-id</c> and kept as a stored completion's <c>request_id</c>.</summary>
internal static class RequestIds
{
    private static readonly object Key = new();

    public static string Get(HttpContext context) =>
        context.Items[Key] as string ?? throw new InvalidOperationException("The request id middleware did not run.");

    public static void Set(HttpContext context, string id) => context.Items[Key] = id;
}
