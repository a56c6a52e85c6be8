using System.Text;
using System.Text.Json;

namespace Abuse;

/// <summary>
/// A hostile OpenAI-compatible upstream on 127.0.0.1 (Kestrel, port 0), in the harness's own process. What it does
/// is chosen by the model name Cairn forwards (the names of <see cref="ModelsJson"/>):
/// <list type="bullet">
/// <item><c>up-big</c>: a non-streaming completion of <c>--upstream-mb</c> MB of text (with usage).</item>
/// <item><c>up-nousage</c>: a non-streaming completion of 64 KiB of <c>a</c> without usage (Cairn counts it).</item>
/// <item><c>up-endless</c>: a stream of ordinary chunks that never ends.</item>
/// <item><c>up-noblank</c>: <c>data:</c> lines that never get the blank line ending their event.</item>
/// <item><c>up-noline</c>: one <c>data:</c> line that never ends.</item>
/// <item><c>up-held</c>: streams 256 MB as fast as it is read; without <c>stream</c>, a small completion.</item>
/// </list>
/// Every endless answer stops by itself after 90 s, so nothing here outlives a case.
/// </summary>
internal sealed class FakeUpstream : IAsyncDisposable
{
    private const int Block = 64 * 1024;
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(90);
    private readonly WebApplication app;
    private readonly long bigBytes;

    private FakeUpstream(WebApplication app, long bigBytes)
    {
        this.app = app;
        this.bigBytes = bigBytes;
    }

    public Uri Url { get; private set; } = null!;

    public static async Task<FakeUpstream> StartAsync(long bigBytes)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            // A Cairn that stops reading must hold this connection for as long as it likes (the held-upstream case).
            k.Limits.MinResponseDataRate = null;
        });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new FakeUpstream(app, bigBytes);
        app.MapPost("/v1/chat/completions", upstream.HandleAsync);
        await app.StartAsync();
        upstream.Url = new Uri(app.Urls.First());
        return upstream;
    }

    /// <summary>The model list Cairn is started with (<c>--models FILE</c>): every name routes here, without retries.</summary>
    public string ModelsJson()
    {
        var baseUrl = new Uri(Url, "/v1").ToString();
        string Entry(string id, string extra = "") =>
            $"{{\"Id\":\"{id}\",\"Provider\":\"openai\",\"BaseUrl\":\"{baseUrl}\",\"MaxRetries\":0{extra}}}";
        // up-held: two pooled connections and a 5 s attempt timeout, so a request that waits for a connection gets 504 soon.
        return $"{{\"Models\":[{Entry("up-big")},{Entry("up-nousage")},{Entry("up-endless")},{Entry("up-noblank")},{Entry("up-noline")}," +
            $"{Entry("up-held", ",\"MaxConnections\":2,\"TimeoutSeconds\":5")}]}}";
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var request = await JsonDocument.ParseAsync(context.Request.Body);
        var model = request.RootElement.GetProperty("model").GetString();
        var stream = request.RootElement.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var response = context.Response;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        stop.CancelAfter(Longest);
        try
        {
            switch (model)
            {
                case "up-big":
                    response.ContentType = "application/json";
                    await WriteCompletionAsync(response, Bodies.Words((int)Math.Min(bigBytes, Block)), bigBytes, usage: true, stop.Token);
                    break;
                case "up-nousage":
                    response.ContentType = "application/json";
                    await WriteCompletionAsync(response, Bodies.Run(64 * Bodies.KiB), 64 * Bodies.KiB, usage: false, stop.Token);
                    break;
                case "up-held" when !stream:
                    response.ContentType = "application/json";
                    await WriteCompletionAsync(response, "fine", 4, usage: true, stop.Token);
                    break;
                case "up-held":
                    response.ContentType = "text/event-stream";
                    await WriteEventsAsync(response, 256L * Bodies.MiB, stop.Token);
                    break;
                case "up-endless":
                    response.ContentType = "text/event-stream";
                    await WriteEventsAsync(response, long.MaxValue, stop.Token);
                    break;
                case "up-noblank":
                    response.ContentType = "text/event-stream";
                    await WriteForeverAsync(response, "", Encoding.ASCII.GetBytes("data: " + Bodies.Words(1000) + "\n"), stop.Token);
                    break;
                case "up-noline":
                    response.ContentType = "text/event-stream";
                    await WriteForeverAsync(response, "data: {\"id\":\"up\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"",
                        Encoding.ASCII.GetBytes(Bodies.Words(1000)), stop.Token);
                    break;
                default:
                    response.StatusCode = 404;
                    break;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }

    private static async Task WriteCompletionAsync(HttpResponse response, string piece, long contentBytes, bool usage, CancellationToken cancellationToken)
    {
        await response.WriteAsync("{\"id\":\"chatcmpl-upstream\",\"object\":\"chat.completion\",\"created\":1735689600,\"model\":\"upstream\"," +
            "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"", cancellationToken);
        var block = Encoding.ASCII.GetBytes(piece);
        for (long written = 0; written < contentBytes; written += block.Length)
        {
            await response.Body.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, contentBytes - written)), cancellationToken);
        }
        await response.WriteAsync("\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}]" +
            (usage ? $",\"usage\":{{\"prompt_tokens\":5,\"completion_tokens\":{contentBytes / 6},\"total_tokens\":{contentBytes / 6 + 5}}}" : "") + "}", cancellationToken);
    }

    private static async Task WriteEventsAsync(HttpResponse response, long bytes, CancellationToken cancellationToken)
    {
        const string Head = "data: {\"id\":\"chatcmpl-upstream\",\"object\":\"chat.completion.chunk\",\"created\":1735689600,\"model\":\"upstream\",\"choices\":[{\"index\":0,\"delta\":";
        await response.WriteAsync(Head + "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n", cancellationToken);
        var one = Head + "{\"content\":\"lorem ipsum dolor sit amet \"},\"finish_reason\":null}]}\n\n";
        var block = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(one, Block / one.Length)));
        for (long written = 0; written < bytes; written += block.Length)
        {
            await response.Body.WriteAsync(block, cancellationToken);
        }
        await response.WriteAsync(Head + "{},\"finish_reason\":\"stop\"}]}\n\n" +
            "data: {\"id\":\"chatcmpl-upstream\",\"object\":\"chat.completion.chunk\",\"created\":1735689600,\"model\":\"upstream\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\n" +
            "data: [DONE]\n\n", cancellationToken);
    }

    private static async Task WriteForeverAsync(HttpResponse response, string start, byte[] piece, CancellationToken cancellationToken)
    {
        await response.WriteAsync(start, cancellationToken);
        var block = new byte[Block / piece.Length * piece.Length];
        for (var i = 0; i < block.Length; i += piece.Length)
        {
            piece.CopyTo(block, i);
        }
        while (true)
        {
            await response.Body.WriteAsync(block, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
