using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cairn.Observability;

/// <summary>
/// Registers OpenTelemetry the standard way: Cairn's meter and source, ASP.NET Core's, HttpClient's and Npgsql's
/// instruments (ASP.NET Core's server spans; upstream calls are Cairn's own client spans); Prometheus at <c>/metrics</c> (and at <c>Observability:MetricsUrl</c> when set); OTLP for traces,
/// metrics and logs when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, configured by the standard <c>OTEL_*</c> settings
/// (protocol, headers, intervals, sampler). Tracing is on only with an OTLP endpoint: a span nobody receives costs
/// for nothing.
/// </summary>
internal static class ObservabilityServiceCollectionExtensions
{
    /// <summary>Meters of the platform and libraries Cairn reports beside its own.</summary>
    private static readonly string[] LibraryMeters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "Npgsql",
    ];

    /// <summary>
    /// HttpClient's per-request instruments: each upstream attempt is measured by Cairn's own
    /// (<c>gen_ai.client.operation.duration</c>, <c>cairn.upstream.attempts</c>), so these would say little more at a
    /// cost on every proxied request; left unrecorded, they cost nothing. Its per-connection ones stay.
    /// </summary>
    private static readonly string[] DroppedInstruments =
    [
        "http.client.request.duration", "http.client.active_requests", "http.client.open_connections", "http.client.request.time_in_queue",
    ];

    public static IServiceCollection AddCairnObservability(this IServiceCollection services, IConfiguration configuration, ObservabilityOptions options)
    {
        var capture = options.CaptureMessageContent
            || string.Equals(configuration[GenAi.CaptureContentSetting], "true", StringComparison.OrdinalIgnoreCase);
        var effective = new ObservabilityOptions
        {
            Enabled = options.Enabled, MetricsUrl = options.MetricsUrl, TraceLink = options.TraceLink, CaptureMessageContent = capture,
        };
        services.AddSingleton(effective);
        if (!options.Enabled)
        {
            return services;
        }
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "cairn", serviceVersion: CairnTelemetry.Version))
            .WithMetrics(metrics =>
            {
                // Every scrape reads the instruments now: scrapes are rare and authenticated, and a cached page would
                // hide the last requests from a scrape that follows them.
                metrics.AddMeter(CairnTelemetry.Name).AddMeter(LibraryMeters)
                    .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0);
                foreach (var dropped in DroppedInstruments)
                {
                    metrics.AddView(dropped, MetricStreamConfiguration.Drop);
                }
                if (options.MetricsUrl is { Length: > 0 } url)
                {
                    var (host, port) = ObservabilityOptions.HostAndPort(url);
                    metrics.AddPrometheusHttpListener(listener =>
                    {
                        listener.Host = host;
                        listener.Port = port;
                        listener.ScrapeResponseCacheDurationMilliseconds = 0;
                    });
                }
            });
        if (IsOtlpOn(configuration))
        {
            // Upstream calls are Cairn's own client spans, one per attempt, each sending its trace context
            // (UpstreamAttemptReporter): HttpClient's instrumentation would only add a span repeating each.
            otel.WithTracing(tracing => tracing
                    .AddSource(CairnTelemetry.Name)
                    .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = context => !IsScrape(context.Request.Path)))
                .WithLogging()
                .UseOtlpExporter();
        }
        return services;
    }

    /// <summary>Whether traces, metrics and logs go to an OTLP collector: the standard endpoint setting is given.</summary>
    public static bool IsOtlpOn(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>Prometheus's scrapes and health probes are not worth a trace each.</summary>
    private static bool IsScrape(PathString path) => path.StartsWithSegments("/metrics") || path.StartsWithSegments("/health");

    /// <summary>
    /// Serves the Prometheus text at <c>GET /metrics</c> when metrics are on. Who may read it is
    /// <c>AuthMiddleware</c>'s rule: anyone local while authentication is off, the admin key once it is on.
    /// </summary>
    public static void MapMetrics(this WebApplication app)
    {
        if (app.Services.GetRequiredService<ObservabilityOptions>().Enabled)
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
        }
    }
}
