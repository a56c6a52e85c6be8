using Cairn.Storage;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Threading.RateLimiting;
using Cairn.Observability;
using Cairn.OpenAI;

namespace Cairn.Access;

/// <summary>
/// Per-project requests-per-minute and tokens-per-minute limits (token buckets from System.Threading.RateLimiting),
/// per Cairn instance. A create request takes one request and its estimated tokens (prompt plus reserved
/// completion tokens) up front; completion tokens beyond the reservation are taken once the answer is known.
/// Every create response of a limited project carries OpenAI's <c>x-ratelimit-*</c> headers; every refusal is counted
/// on <c>cairn.rate_limit.rejections</c> by the limit that refused it (<c>requests</c> or <c>tokens</c>) and project.
/// </summary>
internal sealed class RateLimits(IMeterFactory meters)
{
    /// <summary>Which limit refused a request: <c>requests</c> or <c>tokens</c> (per minute).</summary>
    public const string KindAttribute = "cairn.rate_limit.kind";

    private readonly ConcurrentDictionary<long, ProjectBuckets> projects = new();
    private readonly Counter<long> rejections = meters.Create(CairnTelemetry.Name, CairnTelemetry.Version)
        .CreateCounter<long>("cairn.rate_limit.rejections", "{request}", "Create requests refused with 429 by a project's rate limit.");

    /// <summary>
    /// Takes what a create request needs and sets the headers, or throws the 429 OpenAI sends. The reservation it
    /// returns settles the completion tokens once the answer is known.
    /// </summary>
    public RateReservation Reserve(IHeaderDictionary headers, Project project, Func<int> estimateTokens, int reservedCompletion)
    {
        if (project.RequestsPerMinute is null && project.TokensPerMinute is null)
        {
            return RateReservation.None;
        }
        var buckets = projects.AddOrUpdate(project.Id,
            _ => new ProjectBuckets(project.RequestsPerMinute, project.TokensPerMinute),
            (_, old) => old.Matches(project) ? old : new ProjectBuckets(project.RequestsPerMinute, project.TokensPerMinute));
        var tokens = buckets.Tokens is null ? 0 : estimateTokens();
        if (buckets.Requests is { } requests)
        {
            using var lease = requests.Limiter.AttemptAcquire(1);
            requests.WriteHeaders(headers, "requests");
            if (!lease.IsAcquired)
            {
                throw Limited(project, "requests", requests, 1, lease);
            }
        }
        if (buckets.Tokens is { } tokenBucket)
        {
            if (tokens > tokenBucket.Limit)
            {
                tokenBucket.WriteHeaders(headers, "tokens");
                Rejected(project, "tokens");
                throw new OpenAIException(new OpenAIError(StatusCodes.Status429TooManyRequests,
                    $"Request too large for project '{project.Name}': Limit {tokenBucket.Limit} tokens per minute, Requested {tokens}. Send fewer tokens or ask for a higher limit.",
                    "tokens", null, "rate_limit_exceeded"));
            }
            using var lease = tokenBucket.Limiter.AttemptAcquire(Math.Max(tokens, 0));
            tokenBucket.WriteHeaders(headers, "tokens");
            if (!lease.IsAcquired)
            {
                throw Limited(project, "tokens", tokenBucket, tokens, lease);
            }
            return new RateReservation(tokenBucket.Limiter, tokenBucket.Limit, reservedCompletion);
        }
        return RateReservation.None;
    }

    private void Rejected(Project project, string kind) =>
        rejections.Add(1, new TagList { { KindAttribute, kind }, { CairnTelemetry.ProjectAttribute, project.Name } });

    private OpenAIException Limited(Project project, string kind, Bucket bucket, int requested, RateLimitLease lease)
    {
        Rejected(project, kind);
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : bucket.Period;
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        var used = bucket.Limit - bucket.Available;
        var error = new OpenAIError(StatusCodes.Status429TooManyRequests,
            $"Rate limit reached for {kind} per minute in project '{project.Name}': Limit {bucket.Limit}, Used {used}, Requested {requested}. Please try again in {Bucket.Duration(wait)}.",
            kind, null, "rate_limit_exceeded")
        {
            RetryAfterSeconds = seconds,
        };
        return new OpenAIException(error);
    }

    private sealed class ProjectBuckets(long? requestsPerMinute, long? tokensPerMinute)
    {
        public Bucket? Requests { get; } = requestsPerMinute is { } rpm ? new Bucket(rpm) : null;

        public Bucket? Tokens { get; } = tokensPerMinute is { } tpm ? new Bucket(tpm) : null;

        public bool Matches(Project project) =>
            project.RequestsPerMinute == requestsPerMinute && project.TokensPerMinute == tokensPerMinute;
    }

    /// <summary>
    /// A token bucket holding a minute's worth (<see cref="Limit"/>) and refilled steadily: <c>k</c> tokens every
    /// <c>60 s · k / limit</c>, with <c>k</c> the smallest count that keeps the refill period at 100 ms or more.
    /// </summary>
    private sealed class Bucket
    {
        public Bucket(long perMinute)
        {
            Limit = (int)Math.Min(perMinute, int.MaxValue);
            var perPeriod = (int)Math.Max(1, Math.Ceiling(Limit * 0.1 / 60));
            Period = TimeSpan.FromMilliseconds(60_000.0 * perPeriod / Limit);
            PerPeriod = perPeriod;
            Limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = Limit,
                TokensPerPeriod = perPeriod,
                ReplenishmentPeriod = Period,
                AutoReplenishment = true,
                QueueLimit = 0,
            });
        }

        public int Limit { get; }

        public TimeSpan Period { get; }

        public int PerPeriod { get; }

        public TokenBucketRateLimiter Limiter { get; }

        public long Available => Limiter.GetStatistics()?.CurrentAvailablePermits ?? Limit;

        public void WriteHeaders(IHeaderDictionary headers, string kind)
        {
            var available = Math.Max(0, Available);
            headers[$"x-ratelimit-limit-{kind}"] = Limit.ToString(CultureInfo.InvariantCulture);
            headers[$"x-ratelimit-remaining-{kind}"] = available.ToString(CultureInfo.InvariantCulture);
            var missing = Limit - available;
            var reset = TimeSpan.FromMilliseconds(Math.Ceiling((double)missing / PerPeriod) * Period.TotalMilliseconds);
            headers[$"x-ratelimit-reset-{kind}"] = Duration(reset);
        }

        /// <summary>A duration as OpenAI writes one: <c>20ms</c>, <c>1.5s</c>, <c>6m0s</c>.</summary>
        public static string Duration(TimeSpan span)
        {
            if (span < TimeSpan.FromSeconds(1))
            {
                return $"{(int)Math.Ceiling(span.TotalMilliseconds)}ms";
            }
            if (span < TimeSpan.FromMinutes(1))
            {
                return span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
            }
            return $"{(int)span.TotalMinutes}m{span.Seconds}s";
        }
    }
}
