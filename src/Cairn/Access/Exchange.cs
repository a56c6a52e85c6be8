namespace Cairn.Access;

/// <summary>
/// One API request as the endpoints see it: its request id (sent as <c>x-request-id</c>, kept as a stored
/// completion's <c>request_id</c>), when it arrived (a <see cref="TimeProvider"/> timestamp) and who calls. Made
/// once by <see cref="AuthMiddleware"/>; an endpoint receives it as a parameter.
/// </summary>
internal sealed record Exchange(string RequestId, long Arrived, Caller Caller)
{
    /// <summary>Binds the parameter for minimal API endpoints.</summary>
    public static ValueTask<Exchange?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<Exchange?>(context.Features.Get<Exchange>() ?? throw new InvalidOperationException("The authentication middleware did not run."));

    /// <summary>Milliseconds since the request arrived: a stored completion's latency.</summary>
    public long ElapsedMilliseconds(TimeProvider clock) => (long)clock.GetElapsedTime(Arrived).TotalMilliseconds;
}
