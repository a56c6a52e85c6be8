using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

/// <summary>
/// A stand-in OTLP collector for the telemetry bench (bench/telemetry): <c>POST /v1/traces</c>, <c>/v1/metrics</c> and
/// <c>/v1/logs</c> take OTLP/HTTP protobuf bodies and answer 200 with an empty export response (an empty protobuf
/// message is zero bytes). Each signal's requests, bytes and items (spans, metric data points, log records) are counted
/// per source: an exporter given the endpoint <c>http://host:port/NAME</c> posts to <c>/NAME/v1/traces</c> and is
/// counted as NAME (<c>-</c> without one). <c>GET /otlp</c> reads them as text, a line a source and signal:
/// <c>source signal requests bytes items</c>.
/// </summary>
internal static class OtlpSink
{
    /// <summary>
    /// Each signal's path from the export request to what is counted, as protobuf field numbers, one set a level
    /// (opentelemetry-proto: <c>resource_* = 1</c>, <c>scope_* = 2</c>, then <c>spans</c>/<c>metrics</c>/<c>log_records = 2</c>;
    /// a metric's gauge, sum, histogram, exponential histogram or summary is field 5, 7, 9, 10 or 11, each with <c>data_points = 1</c>).
    /// </summary>
    private static readonly (string Signal, int[][] Path)[] Signals =
    [
        ("traces", [[1], [2], [2]]),
        ("metrics", [[1], [2], [2], [5, 7, 9, 10, 11], [1]]),
        ("logs", [[1], [2], [2]]),
    ];

    public static void MapOtlpSink(this WebApplication app)
    {
        var counts = new ConcurrentDictionary<string, long[]>();
        for (var i = 0; i < Signals.Length; i++)
        {
            var (signal, path) = Signals[i];
            RequestDelegate receive = async context =>
            {
                var reader = context.Request.BodyReader;
                var read = await reader.ReadAsync();
                while (!read.IsCompleted)
                {
                    reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                    read = await reader.ReadAsync();
                }
                var body = read.Buffer.IsSingleSegment ? read.Buffer.First : read.Buffer.ToArray();
                var items = Count(body.Span, path, 0);
                reader.AdvanceTo(read.Buffer.End);
                var source = context.Request.RouteValues["source"] as string ?? "-";
                var count = counts.GetOrAdd(source + " " + signal, _ => new long[3]);
                Interlocked.Increment(ref count[0]);
                Interlocked.Add(ref count[1], body.Length);
                Interlocked.Add(ref count[2], items);
                context.Response.ContentType = "application/x-protobuf";
                context.Response.ContentLength = 0;
            };
            app.MapPost("/v1/" + signal, receive);
            app.MapPost("/{source}/v1/" + signal, receive);
        }
        app.MapGet("/otlp", () =>
        {
            var text = new StringBuilder();
            foreach (var (key, count) in counts.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture, $"{key} {Interlocked.Read(ref count[0])} {Interlocked.Read(ref count[1])} {Interlocked.Read(ref count[2])}\n");
            }
            return text.ToString();
        });
    }

    /// <summary>How many length-delimited fields the path reaches in <paramref name="message"/>, from level <paramref name="level"/> down.</summary>
    private static long Count(ReadOnlySpan<byte> message, int[][] path, int level)
    {
        long found = 0;
        var at = 0;
        while (at < message.Length)
        {
            var key = Varint(message, ref at);
            var field = (int)(key >> 3);
            switch (key & 7)
            {
                case 0: Varint(message, ref at); break;
                case 1: at += 8; break;
                case 5: at += 4; break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    if (Array.IndexOf(path[level], field) >= 0)
                    {
                        found += level == path.Length - 1 ? 1 : Count(message.Slice(at, length), path, level + 1);
                    }
                    at += length;
                    break;
                default: throw new InvalidDataException($"wire type {key & 7} is not OTLP's");
            }
        }
        return found;
    }

    private static ulong Varint(ReadOnlySpan<byte> message, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
