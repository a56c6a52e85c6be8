using System.Threading.RateLimiting;

namespace Cairn.Access;

/// <summary>
/// The completion tokens a create request reserved from its project's tokens-per-minute bucket, settled once the
/// answer is known. <see cref="None"/> when the project has no token limit.
/// </summary>
internal readonly struct RateReservation(TokenBucketRateLimiter? tokens, int limit, int reserved)
{
    public static RateReservation None => default;

    /// <summary>Takes the completion tokens an answer used beyond what was reserved (best effort: never fails a finished answer).</summary>
    public void Settle(int completionTokens)
    {
        if (tokens is not null && completionTokens > reserved)
        {
            using var _ = tokens.AttemptAcquire(Math.Min(completionTokens - reserved, limit));
        }
    }
}
