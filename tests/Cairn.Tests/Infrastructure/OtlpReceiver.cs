using System.Collections.Concurrent;
using System.Diagnostics;
using Cairn.Tests.Otlp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// A real OTLP/HTTP receiver (Kestrel on 127.0.0.1:0), as a collector is to an OpenTelemetry SDK: it takes
/// <c>POST /v1/traces</c>, <c>/v1/metrics</c> and <c>/v1/logs</c> in <c>application/x-protobuf</c>, keeps every raw body
/// and the decoded spans, data points and log records (<c>Otlp/*.proto</c>), and answers 200 with an empty message.
/// </summary>
public sealed class OtlpReceiver : IAsyncLifetime
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(15);

    private WebApplication? app;
    private readonly ConcurrentQueue<ReceivedBody> bodies = new();
    private readonly ConcurrentQueue<ReceivedSpan> spans = new();
    private readonly ConcurrentQueue<ReceivedPoint> points = new();
    private readonly ConcurrentQueue<ReceivedLog> logs = new();

    /// <summary>The root to give an SDK as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (the signal's path is added to it).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every export request's body as it came, in arrival order.</summary>
    public IReadOnlyList<ReceivedBody> Bodies => [.. bodies];

    public IReadOnlyList<ReceivedSpan> Spans => [.. spans];

    /// <summary>Every data point of every metric export (cumulative points repeat, growing, export after export).</summary>
    public IReadOnlyList<ReceivedPoint> Points => [.. points];

    public IReadOnlyList<ReceivedLog> Logs => [.. logs];

    /// <summary>The command-line settings that point a Cairn at this receiver, exporting often.</summary>
    public string[] CairnArgs =>
    [
        $"--OTEL_EXPORTER_OTLP_ENDPOINT={BaseUrl.ToString().TrimEnd('/')}", "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
        "--OTEL_BSP_SCHEDULE_DELAY=100", "--OTEL_BLRP_SCHEDULE_DELAY=100", "--OTEL_METRIC_EXPORT_INTERVAL=500",
    ];

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // OpenTelemetry listens process-wide by name: under ASP.NET Core's own names, every export this receiver takes
        // would become a span of the server under test, exported in turn.
        builder.Services.AddSingleton(new DiagnosticListener("Cairn.Tests.OtlpReceiver"));
        builder.Services.AddSingleton(new ActivitySource("Cairn.Tests.OtlpReceiver"));
        app = builder.Build();
        app.MapPost("/v1/{signal}", ReceiveAsync);
        await app.StartAsync();
        BaseUrl = new Uri(app.Urls.First());
    }

    private async Task<IResult> ReceiveAsync(string signal, HttpContext context)
    {
        if (context.Request.ContentType != "application/x-protobuf")
        {
            return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        }
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        switch (signal)
        {
            case "traces":
                Decode(ExportTraceServiceRequest.Parser.ParseFrom(body));
                break;
            case "metrics":
                Decode(ExportMetricsServiceRequest.Parser.ParseFrom(body));
                break;
            case "logs":
                Decode(ExportLogsServiceRequest.Parser.ParseFrom(body));
                break;
            default:
                return Results.NotFound();
        }
        bodies.Enqueue(new ReceivedBody(signal, body));
        // Each Export*ServiceResponse with nothing to report (no partial success) is the empty message.
        return Results.Bytes([], "application/x-protobuf");
    }

    private void Decode(ExportTraceServiceRequest request)
    {
        foreach (var scope in request.ResourceSpans.SelectMany(r => r.ScopeSpans))
        {
            foreach (var span in scope.Spans)
            {
                spans.Enqueue(new ReceivedSpan(scope.Scope?.Name ?? "", span));
            }
        }
    }

    private void Decode(ExportMetricsServiceRequest request)
    {
        foreach (var metric in request.ResourceMetrics.SelectMany(r => r.ScopeMetrics).SelectMany(s => s.Metrics))
        {
            var received = metric.DataCase switch
            {
                Metric.DataOneofCase.Histogram => metric.Histogram.DataPoints.Select(p => new ReceivedPoint(
                    metric.Name, metric.Unit, Attributes.Of(p.Attributes), null, (long)p.Count, p.HasSum ? p.Sum : 0)),
                Metric.DataOneofCase.Sum => metric.Sum.DataPoints.Select(p => Number(metric, p)),
                Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints.Select(p => Number(metric, p)),
                _ => [],
            };
            foreach (var point in received)
            {
                points.Enqueue(point);
            }
        }
    }

    private static ReceivedPoint Number(Metric metric, NumberDataPoint point) =>
        new(metric.Name, metric.Unit, Attributes.Of(point.Attributes), point.HasAsInt ? point.AsInt : point.AsDouble, 0, 0);

    private void Decode(ExportLogsServiceRequest request)
    {
        foreach (var scope in request.ResourceLogs.SelectMany(r => r.ScopeLogs))
        {
            foreach (var record in scope.LogRecords)
            {
                logs.Enqueue(new ReceivedLog(scope.Scope?.Name ?? "", record));
            }
        }
    }

    /// <summary>The first span that matches, waiting (bounded) for it to arrive.</summary>
    public Task<ReceivedSpan> SpanAsync(Func<ReceivedSpan, bool> match, TimeSpan? wait = null) =>
        WaitAsync(() => spans.FirstOrDefault(match), wait, () => $"spans received: {string.Join(", ", spans.Select(s => s.Name))}");

    /// <summary>The spans that match, once at least <paramref name="count"/> of them match.</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> SpansAsync(Func<ReceivedSpan, bool> match, int count, TimeSpan? wait = null) =>
        await WaitAsync(() => spans.Where(match).ToList() is { } found && found.Count >= count ? found : null, wait,
            () => $"{spans.Count(match)} of {count} matching spans; spans received: {string.Join(", ", spans.Select(s => s.Name))}");

    /// <summary>The first data point of <paramref name="metric"/> that matches, waiting (bounded) for an export to bring it.</summary>
    public Task<ReceivedPoint> PointAsync(string metric, Func<ReceivedPoint, bool> match, TimeSpan? wait = null) =>
        WaitAsync(() => points.FirstOrDefault(p => p.Metric == metric && match(p)), wait,
            () => $"points of {metric}: {string.Join("; ", points.Where(p => p.Metric == metric).Select(p => p.ToString()))}");

    private static async Task<T> WaitAsync<T>(Func<T?> find, TimeSpan? wait, Func<string> describe)
        where T : class
    {
        var until = Stopwatch.StartNew();
        while (true)
        {
            if (find() is { } found)
            {
                return found;
            }
            if (until.Elapsed > (wait ?? DefaultWait))
            {
                throw new TimeoutException($"Nothing matching arrived within {(wait ?? DefaultWait).TotalSeconds} s; {describe()}");
            }
            await Task.Delay(20);
        }
    }

    public async Task DisposeAsync()
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}

/// <summary>One export request's body: <c>traces</c>, <c>metrics</c> or <c>logs</c>, and its bytes.</summary>
public sealed record ReceivedBody(string Signal, byte[] Bytes);

/// <summary>A span as exported, with its ids as hex and its attributes as plain values.</summary>
public sealed record ReceivedSpan(string Scope, Span Span)
{
    public string Name => Span.Name;

    public string TraceId => Convert.ToHexStringLower(Span.TraceId.Span);

    public string SpanId => Convert.ToHexStringLower(Span.SpanId.Span);

    /// <summary>The parent's span id; null for a root span.</summary>
    public string? ParentSpanId => Span.ParentSpanId.IsEmpty ? null : Convert.ToHexStringLower(Span.ParentSpanId.Span);

    public Span.Types.SpanKind Kind => Span.Kind;

    public Status.Types.StatusCode Status => Span.Status?.Code ?? Otlp.Status.Types.StatusCode.Unset;

    public IReadOnlyDictionary<string, object?> Attributes { get; } = Infrastructure.Attributes.Of(Span.Attributes);

    /// <summary>An attribute's value (string, long, double, bool or an array of those), or null when absent.</summary>
    public object? this[string key] => Attributes.GetValueOrDefault(key);
}

/// <summary>
/// One data point of a metric: a histogram's <see cref="Count"/> and <see cref="Sum"/>, or a sum's or gauge's
/// <see cref="Value"/>.
/// </summary>
public sealed record ReceivedPoint(string Metric, string Unit, IReadOnlyDictionary<string, object?> Attributes, double? Value, long Count, double Sum)
{
    public object? this[string key] => Attributes.GetValueOrDefault(key);

    public override string ToString() =>
        $"{{{string.Join(",", Attributes.Select(a => $"{a.Key}={a.Value}"))}}} count={Count} sum={Sum} value={Value}";
}

/// <summary>A log record as exported, with its scope (the logger's category).</summary>
public sealed record ReceivedLog(string Scope, LogRecord Record)
{
    public IReadOnlyDictionary<string, object?> Attributes { get; } = Infrastructure.Attributes.Of(Record.Attributes);
}

/// <summary>OTLP attributes as plain values.</summary>
internal static class Attributes
{
    public static IReadOnlyDictionary<string, object?> Of(IEnumerable<KeyValue> attributes) =>
        attributes.ToDictionary(a => a.Key, a => Value(a.Value), StringComparer.Ordinal);

    public static object? Value(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
        AnyValue.ValueOneofCase.ArrayValue => value.ArrayValue.Values.Select(Value).ToArray(),
        AnyValue.ValueOneofCase.BytesValue => value.BytesValue.ToByteArray(),
        AnyValue.ValueOneofCase.KvlistValue => Of(value.KvlistValue.Values),
        _ => null,
    };
}
