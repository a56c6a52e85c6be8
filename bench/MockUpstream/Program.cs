// A fake OpenAI upstream on loopback for proxy scenarios: POST /v1/chat/completions answers a fixed completion,
// or, with "stream": true, a fixed SSE stream ending in data: [DONE]. No validation, no per-request allocation
// beyond reading the body, so measured overhead is the proxy's, not the mock's. It is also the telemetry bench's OTLP
// collector (OtlpSink: POST /v1/traces, /v1/metrics, /v1/logs, counted at GET /otlp).
using System.Text;

// Its own folder as the content root, not the working directory: the default watches the content root and everything
// beneath it for settings changes, and bench/run's stores lie beneath the working directory, so every write Cairn made
// woke this process (~10% of a core at 1,000 stored requests/s, on the cores Cairn is measured on).
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information); // bench/run reads the port from "Now listening on"

var reply = "This is a fixed reply from the mock upstream. " + string.Concat(Enumerable.Repeat("It says the same thing every time. ", 24));
var completion = Encoding.UTF8.GetBytes(
    "{\"id\":\"chatcmpl-mock0000000000000000000000000\",\"object\":\"chat.completion\",\"created\":1735689600,\"model\":\"mock\"," +
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + reply + "\",\"refusal\":null,\"annotations\":[]}," +
    "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":24,\"completion_tokens\":200,\"total_tokens\":224}," +
    "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_mock\"}");
var events = new StringBuilder();
const string Head = "{\"id\":\"chatcmpl-mock0000000000000000000000000\",\"object\":\"chat.completion.chunk\",\"created\":1735689600,\"model\":\"mock\",\"system_fingerprint\":\"fp_mock\",\"choices\":[{\"index\":0,\"delta\":";
events.Append("data: ").Append(Head).Append("{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
foreach (var word in reply.Split(' ', StringSplitOptions.RemoveEmptyEntries))
{
    events.Append("data: ").Append(Head).Append("{\"content\":\"").Append(word).Append(" \"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
}
events.Append("data: ").Append(Head).Append("{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n");
events.Append("data: [DONE]\n\n");
var stream = Encoding.UTF8.GetBytes(events.ToString());

var app = builder.Build();
app.MapPost("/v1/chat/completions", async (HttpContext context) =>
{
    var request = context.Request;
    var read = await request.BodyReader.ReadAsync();
    while (!read.IsCompleted)
    {
        request.BodyReader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        read = await request.BodyReader.ReadAsync();
    }
    // A request that asks for a stream says so near its start; a cheap byte search is enough for a mock.
    var streaming = Contains(read.Buffer, "\"stream\":true"u8) || Contains(read.Buffer, "\"stream\": true"u8);
    request.BodyReader.AdvanceTo(read.Buffer.End);
    var response = context.Response;
    if (streaming)
    {
        response.ContentType = "text/event-stream; charset=utf-8";
        await response.BodyWriter.WriteAsync(stream);
        return;
    }
    response.ContentType = "application/json";
    response.ContentLength = completion.Length;
    await response.BodyWriter.WriteAsync(completion);
});
app.MapGet("/health", () => "ok");
app.MapOtlpSink();
app.Run();

static bool Contains(in System.Buffers.ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> needle) =>
    buffer.IsSingleSegment ? buffer.FirstSpan.IndexOf(needle) >= 0 : System.Buffers.BuffersExtensions.ToArray(buffer).AsSpan().IndexOf(needle) >= 0;
