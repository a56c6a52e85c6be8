using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using Cairn.Models;
using Cairn.Observability;

namespace Cairn.Upstream;

/// <summary>
/// The instruments every upstream attempt is recorded on: <c>gen_ai.client.operation.duration</c> (the GenAI
/// conventions' client metric, with the deployment) and <c>cairn.upstream.attempts</c> by outcome, a closed set:
/// <c>answered</c>; <c>failed</c> (a status worth another try: 408, 429, 5xx); <c>refused</c> (any other status,
/// relayed to the client); <c>timeout</c>; <c>unreachable</c> (no connection, or it broke before the answer was in);
/// <c>too_large</c>; <c>cancelled</c> (the client left); <c>_OTHER</c>.
/// </summary>
internal sealed class UpstreamTelemetry
{
    /// <summary>The attempt's number for its deployment, from 1 (retries count on).</summary>
    public const string AttemptAttribute = "cairn.upstream.attempt";

    /// <summary>The deployment's entry in the model list (e.g. <c>Models:2</c>): bounded by configuration.</summary>
    public const string DeploymentAttribute = "cairn.upstream.deployment";

    public const string OutcomeAttribute = "cairn.upstream.outcome";

    public const string StatusAttribute = "http.response.status_code";

    public UpstreamTelemetry(IMeterFactory meters, TimeProvider clock)
    {
        Clock = clock;
        var meter = meters.Create(CairnTelemetry.Name, CairnTelemetry.Version);
        Duration = meter.CreateHistogram("gen_ai.client.operation.duration", "s", "Time of each attempt at an upstream, until its headers (or its whole answer) arrive.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAi.DurationBuckets });
        Attempts = meter.CreateCounter<long>("cairn.upstream.attempts", "{attempt}", "Attempts at upstreams (retries and fallbacks each count), by outcome.");
    }

    internal TimeProvider Clock { get; }

    internal Histogram<double> Duration { get; }

    internal Counter<long> Attempts { get; }

    /// <summary>Begins reporting the next attempt of <paramref name="attempts"/>: its span starts now.</summary>
    public UpstreamAttemptReport Start(HttpRequestMessage request, UpstreamAttempts attempts) => new(this, request, attempts);
}

/// <summary>
/// One attempt at an upstream: a client span <c>chat {upstream model}</c> (null while nobody listens), current while
/// the attempt runs, and named by the <c>traceparent</c> the attempt sends; and what the
/// attempt's metrics are recorded with when it ends (<see cref="Dispose"/>).
/// </summary>
internal sealed class UpstreamAttemptReport : IDisposable
{
    private readonly UpstreamTelemetry telemetry;
    private readonly UpstreamAttempts attempts;
    private readonly TagList tags;
    private readonly long started;
    private string outcome = "_OTHER";
    private string? error;

    internal UpstreamAttemptReport(UpstreamTelemetry telemetry, HttpRequestMessage request, UpstreamAttempts attempts)
    {
        this.telemetry = telemetry;
        this.attempts = attempts;
        var number = attempts.Begin();
        var uri = request.RequestUri!;
        tags = new TagList
        {
            { GenAi.OperationName, GenAi.Chat },
            { GenAi.ProviderName, Provider },
            { GenAi.RequestModel, attempts.Model },
            { GenAi.ServerAddress, uri.Host },
            { GenAi.ServerPort, uri.Port },
            { UpstreamTelemetry.DeploymentAttribute, attempts.Deployment.Name },
        };
        var spanTags = tags;
        spanTags.Add(UpstreamTelemetry.AttemptAttribute, number);
        spanTags.Add(CairnTelemetry.ApiAttribute, attempts.Api == UpstreamApi.Responses ? "responses" : "chat.completions");
        Activity = CairnTelemetry.Source.StartActivity($"{GenAi.Chat} {attempts.Model}", ActivityKind.Client, default(ActivityContext), spanTags);
        started = telemetry.Clock.GetTimestamp();
    }

    private Activity? Activity { get; }

    /// <summary>
    /// Writes the W3C trace context of this attempt (of its span, or while nobody records spans of the request's
    /// current activity) on <paramref name="request"/> with the platform's propagator, replacing an earlier attempt's.
    /// </summary>
    public void Propagate(HttpRequestMessage request)
    {
        var propagator = DistributedContextPropagator.Current;
        foreach (var field in propagator.Fields)
        {
            request.Headers.Remove(field);
        }
        propagator.Inject(Activity ?? System.Diagnostics.Activity.Current, request, static (carrier, name, value) =>
        {
            if (carrier is HttpRequestMessage message)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        });
    }

    private string Provider => ProviderNames.Of(attempts.Deployment.Provider);

    /// <summary>The upstream answered with <paramref name="status"/> (a whole answer: its body is in too).</summary>
    public void Answered(HttpStatusCode status)
    {
        var code = (int)status;
        Activity?.SetTag(UpstreamTelemetry.StatusAttribute, code);
        if (code is >= 200 and < 300)
        {
            outcome = "answered";
            return;
        }
        outcome = UpstreamRetry.IsTransient(status) ? "failed" : "refused";
        error = code.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>For an exception filter: records how <paramref name="exception"/> ended the attempt and lets it pass (returns false).</summary>
    public bool Fail(Exception exception)
    {
        (outcome, error) = exception switch
        {
            OperationCanceledException when attempts.CancellationToken.IsCancellationRequested => ("cancelled", "cancelled"),
            // Cancelled while the request itself is not: the retry pipeline's timeout ended the attempt.
            OperationCanceledException => ("timeout", "timeout"),
            UpstreamAnswerTooLargeException => ("too_large", Name(exception)),
            HttpRequestException or IOException => ("unreachable", Name(exception)),
            _ => ("_OTHER", Name(exception)),
        };
        return false;
    }

    private static string Name(Exception exception) => exception.GetType().FullName ?? "_OTHER";

    public void Dispose()
    {
        var tags = this.tags;
        if (error is not null)
        {
            tags.Add(GenAi.ErrorType, error);
            Activity?.SetTag(GenAi.ErrorType, error);
            Activity?.SetStatus(ActivityStatusCode.Error);
        }
        telemetry.Duration.Record(telemetry.Clock.GetElapsedTime(started).TotalSeconds, tags);
        telemetry.Attempts.Add(1, new TagList
        {
            { UpstreamTelemetry.DeploymentAttribute, attempts.Deployment.Name },
            { GenAi.ProviderName, Provider },
            { UpstreamTelemetry.OutcomeAttribute, outcome },
        });
        Activity?.Dispose();
    }
}

/// <summary>
/// Reports each attempt of the retry pipeline it sits in (around <see cref="UpstreamBuffering"/>, so an attempt ends
/// when its headers, or its whole answer, arrive): see <see cref="UpstreamAttemptReport"/>. Each attempt sends its own
/// trace context upstream: the upstream clients have no HttpClient diagnostics handler (its span would repeat the
/// attempt's, at a span's cost, and it writes trace context only on a message without any, so a retry would send the
/// first attempt's).
/// </summary>
internal sealed class UpstreamAttemptReporter(UpstreamTelemetry telemetry) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (UpstreamAttempts.Of(request) is not { } attempts)
        {
            return await base.SendAsync(request, cancellationToken);
        }
        using var report = telemetry.Start(request, attempts);
        report.Propagate(request);
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            report.Answered(response.StatusCode);
            return response;
        }
        catch (Exception e) when (report.Fail(e))
        {
            throw; // Never reached: the filter only records the failure.
        }
    }
}
