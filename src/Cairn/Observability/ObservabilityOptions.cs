namespace Cairn.Observability;

/// <summary>
/// The <c>Observability</c> section. Metrics are collected and served at <c>GET /metrics</c> unless
/// <see cref="Enabled"/> is false; traces, metrics and logs go to an OTLP collector when the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (environment or configuration).
/// </summary>
internal sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary>False turns every exporter off: no <c>/metrics</c>, no OTLP, no trace ids recorded.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// A second listen address serving only <c>/metrics</c>, without a key (e.g. <c>http://0.0.0.0:9464/</c>): for a
    /// scraper on a network the operator trusts, while the API needs keys.
    /// </summary>
    public string? MetricsUrl { get; init; }

    /// <summary>A link to a trace in the operator's tracing UI, with <c>{traceId}</c> where the id goes; the dashboard links stored answers to it.</summary>
    public string? TraceLink { get; init; }

    /// <summary>
    /// Whether spans carry prompts and answers (<c>gen_ai.input.messages</c>, <c>gen_ai.output.messages</c>). Off by
    /// default; also turned on by <c>OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true</c>.
    /// </summary>
    public bool CaptureMessageContent { get; init; }

    /// <summary>The host (HttpListener's <c>+</c> and <c>*</c> kept) and port of a valid <see cref="MetricsUrl"/>.</summary>
    public static (string Host, int Port) HostAndPort(string url)
    {
        var authority = url["http://".Length..].TrimEnd('/');
        var colon = authority.LastIndexOf(':');
        return colon < 0 ? (authority, 80) : (authority[..colon], int.Parse(authority[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public IEnumerable<string> Validate()
    {
        if (MetricsUrl is { Length: > 0 } url
            // HttpListener's wildcard hosts (+ and *) are not host names; any name stands in for them here.
            && (!Uri.TryCreate(url.Replace("://+", "://any", StringComparison.Ordinal).Replace("://*", "://any", StringComparison.Ordinal), UriKind.Absolute, out var metrics) || metrics.Scheme != Uri.UriSchemeHttp || metrics.PathAndQuery != "/"
                || !url.StartsWith("http://", StringComparison.OrdinalIgnoreCase)))
        {
            yield return $"Observability:MetricsUrl must be an http address without a path, such as http://0.0.0.0:9464/ (got '{url}').";
        }
        if (TraceLink is { Length: > 0 } link
            && (!link.Contains("{traceId}", StringComparison.Ordinal)
                || !Uri.TryCreate(link.Replace("{traceId}", "0", StringComparison.Ordinal), UriKind.Absolute, out var trace)
                || trace.Scheme is not ("http" or "https")))
        {
            yield return $"Observability:TraceLink must be an http(s) address containing {{traceId}}, such as http://localhost:16686/trace/{{traceId}} (got '{link}').";
        }
    }
}
