using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Cairn.OpenAI;

namespace Cairn.Access;

/// <summary>
/// Slows key guessing: each client address (an IPv6 address by its /64, which one host usually holds whole) may
/// present <see cref="AuthOptions.FailedAttemptsPerMinute"/> wrong keys a minute, as a token bucket refilled
/// steadily. Once its bucket is empty, every authentication from that address (on <c>/v1</c>, <c>/admin</c> and the
/// dashboard's sign-in), right key or wrong, is answered 429 with <c>Retry-After</c> before any key is looked at, so
/// a guess that happens to be right tells nothing. Other addresses are not affected.
/// </summary>
internal sealed class FailedAuthThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<IPAddress>? limiter;
    private readonly int retryAfterSeconds;

    public FailedAuthThrottle(AuthOptions options)
    {
        var perMinute = options.FailedAttemptsPerMinute;
        if (perMinute <= 0)
        {
            return;
        }
        retryAfterSeconds = (int)Math.Ceiling(60.0 / perMinute);
        limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / perMinute,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Throws the 429 when <paramref name="context"/>'s address has used up its failed attempts.</summary>
    public void ThrowIfBlocked(HttpContext context)
    {
        if (Blocked(context) is { } seconds)
        {
            throw new OpenAIException(new OpenAIError(StatusCodes.Status429TooManyRequests,
                $"Too many requests with a wrong API key from your address. Try again in {seconds.ToString(CultureInfo.InvariantCulture)} s.",
                OpenAIError.InvalidRequestType, null, "too_many_failed_attempts") { RetryAfterSeconds = seconds });
        }
    }

    /// <summary>Seconds to wait when the address of <paramref name="context"/> has used up its failed attempts; null when it may try.</summary>
    public int? Blocked(HttpContext context)
    {
        if (limiter is null)
        {
            return null;
        }
        // The bucket refills by fractions of a token: asking for 0 permits succeeds on any fraction, so whole ones are counted.
        return limiter.GetStatistics(Partition(context))?.CurrentAvailablePermits >= 1 ? null : retryAfterSeconds;
    }

    /// <summary>Counts a wrong key presented from the address of <paramref name="context"/>.</summary>
    public void Failed(HttpContext context)
    {
        if (limiter is not null)
        {
            using var lease = limiter.AttemptAcquire(Partition(context), 1);
        }
    }

    private static IPAddress Partition(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress ?? IPAddress.None;
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes);
        }
        return address;
    }

    public void Dispose() => limiter?.Dispose();
}
