using System.Net;
using Cairn.Models;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Telemetry;
using Polly.Timeout;

namespace Cairn.Upstream;

/// <summary>
/// Registers, per upstream model of the model list, its relay (and its responses relay, for <c>ResponsesApi: native</c>)
/// and one pooled, retrying HTTP client per deployment.
/// </summary>
internal static class UpstreamServiceCollectionExtensions
{
    public static IServiceCollection AddCairnUpstreams(this IServiceCollection services, IReadOnlyList<ConfiguredModel> configured, Func<string, string?> environment)
    {
        foreach (var model in configured.Where(m => m.IsUpstream))
        {
            var deployments = model.Entries.Select(e => new UpstreamDeployment(e.Name, e.Options, environment)).ToList();
            foreach (var deployment in deployments)
            {
                AddClient(services, deployment);
            }
            var route = new ModelRoute(model.Id, deployments);
            services.AddKeyedSingleton<IChatSource>(model.Entry, (sp, _) => ActivatorUtilities.CreateInstance<UpstreamRelay>(sp, route));
            if (model.RelaysResponses)
            {
                services.AddKeyedSingleton<IResponseSource>(model.Entry, (sp, _) => ActivatorUtilities.CreateInstance<ResponseRelay>(sp, route));
            }
        }
        services.AddSingleton<DeploymentChoice>();
        services.AddSingleton<UpstreamClient>();
        services.AddSingleton<UpstreamTelemetry>();
        // Polly's own log says every timeout at Error and every retried attempt at Warning, with the upstream's
        // response as text; UpstreamClient says once, at the level it deserves, what became of each request.
        services.Configure<TelemetryOptions>(telemetry => telemetry.SeverityProvider = _ => ResilienceEventSeverity.None);
        return services;
    }

    private static void AddClient(IServiceCollection services, UpstreamDeployment deployment)
    {
        var options = deployment.Options;
        var maxDelay = TimeSpan.FromSeconds(options.MaxRetryDelaySeconds);
        var client = services.AddHttpClient(deployment.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                MaxConnectionsPerServer = options.MaxConnections,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                ConnectTimeout = TimeSpan.FromSeconds(Math.Min(15, options.TimeoutSeconds)),
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                // No diagnostics handler: each attempt is Cairn's own client span, which sends its trace context
                // (UpstreamAttemptReporter).
                ActivityHeadersPropagator = null,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // The factory's per-request log lines (four at Information) cost more than the relay itself; Cairn logs
            // upstream failures on its own, without URLs' secrets or bodies.
            .RemoveAllLoggers();
        client.AddResilienceHandler(deployment.ClientName, (pipeline, context) =>
            {
                var clock = context.ServiceProvider.GetRequiredService<TimeProvider>();
                pipeline.TimeProvider = clock;
                if (options.MaxRetries > 0)
                {
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = options.MaxRetries,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = TimeSpan.FromMilliseconds(Math.Min(250, maxDelay.TotalMilliseconds)),
                        MaxDelay = maxDelay,
                        ShouldRetryAfterHeader = false,
                        ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, maxDelay, clock)),
                        // The upstream's own wait when it names one (always within MaxDelay: ShouldRetry saw to
                        // that); otherwise exponential backoff with jitter.
                        DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? UpstreamRetry.RetryAfter(response, clock) : null),
                        OnRetry = args =>
                        {
                            UpstreamAttempts.Of(args.Context.GetRequestMessage())?.Failed(args.Outcome);
                            return ValueTask.CompletedTask;
                        },
                    });
                }
                pipeline.AddTimeout(deployment.Timeout);
            });
        // Added after the resilience handler, so they sit inside it: each attempt is reported, and reads its own body
        // (the attempt's span ends once the whole answer is in).
        client.AddHttpMessageHandler(services => new UpstreamAttemptReporter(services.GetRequiredService<UpstreamTelemetry>()));
        client.AddHttpMessageHandler(() => new UpstreamBuffering(options.MaxAnswerBytes));
    }

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, TimeSpan maxDelay, TimeProvider clock)
    {
        if (outcome.Exception is { } exception)
        {
            return exception is HttpRequestException or IOException or TimeoutRejectedException;
        }
        if (outcome.Result is not { } response || !UpstreamRetry.IsTransient(response.StatusCode))
        {
            return false;
        }
        // An upstream that asks for a longer wait than allowed is left alone; the next deployment is tried instead.
        return UpstreamRetry.RetryAfter(response, clock) is not { } wait || wait <= maxDelay;
    }
}

/// <summary>
/// One upstream request as the retry pipeline's attempts see it, set on its message by <see cref="UpstreamClient"/>:
/// where it goes (deployment, the model sent, which API), for <see cref="UpstreamAttemptReporter"/> to report each
/// attempt; and, for the one line <see cref="UpstreamClient"/> logs about it, how many attempts failed before the last
/// and how the last of those failed.
/// </summary>
internal sealed class UpstreamAttempts
{
    private static readonly HttpRequestOptionsKey<UpstreamAttempts> Key = new("cairn.attempts");

    private UpstreamAttempts(UpstreamDeployment deployment, string model, UpstreamApi api, CancellationToken cancellationToken)
    {
        Deployment = deployment;
        Model = model;
        Api = api;
        CancellationToken = cancellationToken;
    }

    public UpstreamDeployment Deployment { get; }

    /// <summary>The model name sent upstream.</summary>
    public string Model { get; }

    public UpstreamApi Api { get; }

    /// <summary>The request's own cancellation: an attempt cancelled while it is not cancelled ran out of time.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Attempts begun so far: the number of the latest.</summary>
    private int started;

    public int Retries { get; private set; }

    /// <summary>How the latest retried attempt failed, in words without the upstream's body.</summary>
    public string? LastFailure { get; private set; }

    public static UpstreamAttempts Track(HttpRequestMessage request, UpstreamDeployment deployment, string model, UpstreamApi api, CancellationToken cancellationToken)
    {
        var attempts = new UpstreamAttempts(deployment, model, api, cancellationToken);
        request.Options.Set(Key, attempts);
        return attempts;
    }

    public static UpstreamAttempts? Of(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(Key, out var attempts) ? attempts : null;

    /// <summary>An attempt begins (attempts follow one another, never overlap); returns its number, from 1.</summary>
    public int Begin() => ++started;

    public void Failed(Outcome<HttpResponseMessage> outcome)
    {
        Retries++;
        LastFailure = outcome switch
        {
            { Exception: TimeoutRejectedException } => "no answer in time",
            { Exception: HttpRequestException } => "could not be reached",
            { Exception: { } e } => e.GetType().Name,
            { Result: { } response } => $"answered {(int)response.StatusCode}",
            _ => "failed",
        };
    }
}

/// <summary>
/// Reads a whole (non-streaming) answer inside the retry pipeline, so that a body cut off or late is retried and
/// timed like a failed connect; streams pass at their headers. A body larger than <c>MaxAnswerBytes</c> is not read
/// further (and not retried): <see cref="UpstreamAnswerTooLargeException"/>.
/// </summary>
internal sealed class UpstreamBuffering(long maxBytes) : DelegatingHandler
{
    public static readonly HttpRequestOptionsKey<bool> Key = new("cairn.buffer");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.Options.TryGetValue(Key, out var buffer) && buffer)
        {
            try
            {
                response.Content = await BufferedAnswer.ReadAsync(response.Content, maxBytes, cancellationToken);
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }
        return response;
    }
}

/// <summary>An upstream's whole answer, read into memory (at most <c>MaxAnswerBytes</c>) with its content headers.</summary>
internal sealed class BufferedAnswer : HttpContent
{
    private readonly byte[] buffer;
    private readonly int length;

    private BufferedAnswer(byte[] buffer, int length)
    {
        this.buffer = buffer;
        this.length = length;
    }

    public ReadOnlyMemory<byte> Bytes => buffer.AsMemory(0, length);

    public static async Task<BufferedAnswer> ReadAsync(HttpContent content, long maxBytes, CancellationToken cancellationToken)
    {
        using (content)
        {
            if (content.Headers.ContentLength > maxBytes)
            {
                throw new UpstreamAnswerTooLargeException(maxBytes);
            }
            await using var stream = await content.ReadAsStreamAsync(cancellationToken);
            // Grows as the body arrives (a Content-Length is only a hint), never past the limit and one byte more.
            var bytes = new byte[(int)Math.Min(content.Headers.ContentLength ?? 16384, maxBytes) + 1];
            var length = 0;
            while (true)
            {
                if (length == bytes.Length)
                {
                    if (length > maxBytes)
                    {
                        throw new UpstreamAnswerTooLargeException(maxBytes);
                    }
                    Array.Resize(ref bytes, (int)Math.Min((long)bytes.Length * 2, maxBytes + 1));
                }
                var read = await stream.ReadAsync(bytes.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            if (length > maxBytes)
            {
                throw new UpstreamAnswerTooLargeException(maxBytes);
            }
            var answer = new BufferedAnswer(bytes, length);
            foreach (var (name, values) in content.Headers)
            {
                answer.Headers.TryAddWithoutValidation(name, values);
            }
            return answer;
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(Bytes).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = this.length;
        return true;
    }

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => new MemoryStream(buffer, 0, length, writable: false);

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult(CreateContentReadStream(default));
}

/// <summary>An upstream's whole answer was larger than its model's <c>MaxAnswerBytes</c>; it is not retried.</summary>
internal sealed class UpstreamAnswerTooLargeException(long limit) : Exception($"The upstream's answer is larger than {limit} bytes.")
{
    public long Limit { get; } = limit;
}
