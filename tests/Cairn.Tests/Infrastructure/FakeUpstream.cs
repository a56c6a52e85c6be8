using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// A real OpenAI-compatible HTTP server on loopback for the proxy tests. What it does is chosen by the model name
/// it receives (so each test picks behaviour through Cairn's model routing); it records every request it gets.
/// <list type="bullet">
/// <item><c>answer…</c>: a completion with vendor fields, usage details and, when asked, logprobs; streams the same.</item>
/// <item><c>tools…</c>: two tool calls (streamed with arguments split across chunks).</item>
/// <item><c>nousage…</c>: like <c>answer</c>, never with usage.</item>
/// <item><c>flaky:N:…</c>: 429 with <c>retry-after-ms: 50</c> for the first N requests of that name, then <c>answer</c>.</item>
/// <item><c>busy…</c>: 429 asking for a 60 s wait. <c>fail-500…</c>: 500 with a JSON error. <c>text-503…</c>: 503 in plain text.</item>
/// <item><c>bad-400…</c>: 400 with OpenAI's error envelope. <c>slow…</c>: waits 3 s before answering.</item>
/// <item><c>reset…</c>: streams two chunks, then drops the connection. <c>malformed…</c>: a stream event that is not JSON.</item>
/// <item><c>error-event…</c>: a stream that ends with an error event. <c>hang…</c>: streams one chunk, then waits for the client to leave.</item>
/// <item><c>flood…</c>: a stream that never ends (chunks of text as fast as they are taken) until the client leaves.</item>
/// <item><c>huge…</c>: a 256 KiB answer (<c>huge-length…</c> with its Content-Length; streamed, a 256 KiB content chunk).</item>
/// <item><c>noblank…</c>: a stream whose first event never ends (data lines without the blank line); <c>longline…</c>: one line that never ends.</item>
/// <item><c>badutf8…</c>: an answer (or a stream chunk) whose text holds the byte 0xFF; <c>surrogate…</c>: a lone <c>\ud800</c> escape.</item>
/// </list>
/// Requests to a <c>…/responses</c> path are answered by <see cref="FakeResponses"/> (after the refusals above: <c>flaky</c>,
/// <c>busy</c>, <c>fail-500</c>, <c>text-503</c>, <c>bad-400</c>, <c>slow</c> behave the same there).
/// A model name's behaviour is read after its first <c>/</c>, if any (<c>pool/flood-1</c> floods), so one deployment can be
/// given several behaviours through an id pattern.
/// </summary>
public sealed class FakeUpstream : IAsyncLifetime
{
    private WebApplication? app;
    private readonly ConcurrentDictionary<string, int> counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> leftEarly = new(StringComparer.Ordinal);

    public ConcurrentQueue<Received> Requests { get; } = new();

    public Uri BaseUrl { get; private set; } = null!;

    public sealed record Received(string PathAndQuery, IReadOnlyDictionary<string, string> Headers, JsonObject Body)
    {
        public string Model => Body["model"]!.GetValue<string>();
    }

    /// <summary>The requests received for a model name, in arrival order.</summary>
    public List<Received> For(string model) => [.. Requests.Where(r => r.Model == model)];

    /// <summary>
    /// How long a test waits for <see cref="ClientLeft"/>: a client's disposed response is drained for up to 2 s before
    /// its connection closes, and Cairn's cancel then crosses two connections, on a suite that keeps both cores busy.
    /// </summary>
    public static readonly TimeSpan LeaveWait = TimeSpan.FromSeconds(30);

    /// <summary>Completes when a <c>hang…</c> stream of that name sees its client go away.</summary>
    public Task ClientLeft(string model) => leftEarly.GetOrAdd(model, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        app = builder.Build();
        app.MapPost("/{**path}", HandleAsync);
        await app.StartAsync();
        BaseUrl = new Uri(app.Urls.First());
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var received = new Received(context.Request.Path + context.Request.QueryString, headers, body);
        Requests.Enqueue(received);
        var model = received.Model[(received.Model.IndexOf('/', StringComparison.Ordinal) + 1)..];
        var stream = body["stream"]?.GetValue<bool>() == true;
        var includeUsage = body["stream_options"]?["include_usage"]?.GetValue<bool>() == true;
        var logprobs = body["logprobs"]?.GetValue<bool>() == true;
        var response = context.Response;

        if (model.StartsWith("flaky:", StringComparison.Ordinal))
        {
            var failures = int.Parse(model.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
            if (counts.AddOrUpdate(model, 1, (_, n) => n + 1) <= failures)
            {
                response.StatusCode = 429;
                response.Headers["retry-after-ms"] = "50";
                await response.WriteAsJsonAsync(Error("Rate limit reached, slow down.", "requests", "rate_limit_exceeded"));
                return;
            }
        }
        if (model.StartsWith("busy", StringComparison.Ordinal))
        {
            response.StatusCode = 429;
            response.Headers.RetryAfter = "60";
            await response.WriteAsJsonAsync(Error("Rate limit reached for requests.", "requests", "rate_limit_exceeded"));
            return;
        }
        if (model.StartsWith("fail-500", StringComparison.Ordinal))
        {
            response.StatusCode = 500;
            await response.WriteAsJsonAsync(Error("The upstream broke.", "server_error", null));
            return;
        }
        if (model.StartsWith("text-503", StringComparison.Ordinal))
        {
            response.StatusCode = 503;
            response.ContentType = "text/plain";
            await response.WriteAsync("upstream overloaded, try later");
            return;
        }
        if (model.StartsWith("bad-400", StringComparison.Ordinal))
        {
            response.StatusCode = 400;
            response.ContentType = "application/json";
            await response.WriteAsync(BadRequestBody);
            return;
        }
        if (model.StartsWith("slow", StringComparison.Ordinal))
        {
            await Task.Delay(TimeSpan.FromSeconds(3), context.RequestAborted);
        }

        if (context.Request.Path.Value!.EndsWith("/responses", StringComparison.Ordinal))
        {
            await FakeResponses.AnswerAsync(context, body, model, stream);
            return;
        }
        if (await MisbehaveAsync(context, received.Model, model, stream))
        {
            return;
        }

        var tools = model.StartsWith("tools", StringComparison.Ordinal);
        var usage = !model.StartsWith("nousage", StringComparison.Ordinal);
        if (!stream)
        {
            response.ContentType = "application/json";
            await response.WriteAsync(Whole(tools, usage, logprobs));
            return;
        }

        response.ContentType = "text/event-stream";
        var chunks = Chunks(tools, logprobs, usage && includeUsage);
        if (model.StartsWith("malformed", StringComparison.Ordinal))
        {
            chunks.Insert(1, "{\"id\": \"chatcmpl-upstream1\", \"choices\": [");
        }
        if (model.StartsWith("error-event", StringComparison.Ordinal))
        {
            chunks.Insert(2, """{"error":{"message":"The model crashed.","type":"server_error","param":null,"code":null}}""");
        }
        for (var i = 0; i < chunks.Count; i++)
        {
            if (model.StartsWith("reset", StringComparison.Ordinal) && i == 2)
            {
                await response.Body.FlushAsync();
                // Give the chunks time to be read: a reset can discard data the peer has not read yet.
                await Task.Delay(300);
                context.Abort();
                return;
            }
            if (model.StartsWith("hang", StringComparison.Ordinal) && i == 1)
            {
                var left = leftEarly.GetOrAdd(model, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(60), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    left.TrySetResult();
                }
                return;
            }
            if (model.StartsWith("multiline", StringComparison.Ordinal))
            {
                // SSE allows an event's data over several lines (joined by newlines) and CRLF line ends.
                var indented = JsonNode.Parse(chunks[i])!.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
                await response.WriteAsync(string.Concat(indented.Split('\n').Select(line => $"data: {line.TrimEnd('\r')}\r\n")) + "\r\n");
            }
            else
            {
                await response.WriteAsync($"data: {chunks[i]}\n\n");
            }
            await response.Body.FlushAsync();
        }
        await response.WriteAsync("data: [DONE]\n\n");
    }

    /// <summary>The answers that break size and text limits; true when <paramref name="model"/> asked for one.</summary>
    private async Task<bool> MisbehaveAsync(HttpContext context, string name, string model, bool stream)
    {
        var response = context.Response;
        if (model.StartsWith("flood", StringComparison.Ordinal))
        {
            response.ContentType = "text/event-stream";
            var left = leftEarly.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            var chunk = Encoding.UTF8.GetBytes($"data: {{{Head},\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{new string('w', 1000)}\"}},\"finish_reason\":null}}]}}\n\n");
            try
            {
                while (true)
                {
                    await response.Body.WriteAsync(chunk, context.RequestAborted);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
            {
                left.TrySetResult();
            }
            return true;
        }
        if (model.StartsWith("huge", StringComparison.Ordinal))
        {
            var content = new string('h', 256 * 1024);
            var json = stream
                ? $"data: {{{Head},\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n"
                : $"{{{Head},\"object\":\"chat.completion\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"{content}\"}},\"finish_reason\":\"stop\"}}]}}";
            var bytes = Encoding.UTF8.GetBytes(json);
            response.ContentType = stream ? "text/event-stream" : "application/json";
            if (model.StartsWith("huge-length", StringComparison.Ordinal))
            {
                response.ContentLength = bytes.Length;
            }
            await response.Body.WriteAsync(bytes, context.RequestAborted);
            return true;
        }
        if (model.StartsWith("noblank", StringComparison.Ordinal) || model.StartsWith("longline", StringComparison.Ordinal))
        {
            response.ContentType = "text/event-stream";
            var left = leftEarly.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            var line = Encoding.UTF8.GetBytes(model.StartsWith("noblank", StringComparison.Ordinal) ? $"data: {new string(' ', 1000)}\n" : new string(' ', 1000));
            try
            {
                await response.Body.WriteAsync("data: {\"choices\":[\n"u8.ToArray(), context.RequestAborted);
                while (true)
                {
                    await response.Body.WriteAsync(line, context.RequestAborted);
                    await response.Body.FlushAsync(context.RequestAborted);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
            {
                left.TrySetResult();
            }
            return true;
        }
        if (model.StartsWith("badutf8", StringComparison.Ordinal) || model.StartsWith("surrogate", StringComparison.Ordinal))
        {
            // The text as raw bytes: 0xFF is never valid UTF-8; \ud800 is a high surrogate with no low one after it.
            byte[] text = model.StartsWith("badutf8", StringComparison.Ordinal) ? [.. "Hello "u8, 0xFF] : [.. "Hello \\ud800"u8];
            byte[] bytes = stream
                ? [.. Encoding.UTF8.GetBytes($"data: {{{Head},\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\""), .. text,
                    .. "\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"u8]
                : [.. Encoding.UTF8.GetBytes($"{{{Head},\"object\":\"chat.completion\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\""), .. text,
                    .. "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}"u8];
            response.ContentType = stream ? "text/event-stream" : "application/json";
            await response.Body.WriteAsync(bytes, context.RequestAborted);
            return true;
        }
        return false;
    }

    public const string BadRequestBody = """{"error":{"message":"Invalid value for 'temperature': must be at most 2.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}""";

    private static object Error(string message, string type, string? code) => new { error = new { message, type, param = (string?)null, code } };

    private const string Head = "\"id\":\"chatcmpl-upstream1\",\"created\":1700000000,\"model\":\"answer-2025-01-01\"";
    private const string Usage = "{\"prompt_tokens\":11,\"completion_tokens\":4,\"total_tokens\":15,\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}";
    private const string Logprob1 = "{\"token\":\"Hello\",\"logprob\":-0.25,\"bytes\":[72,101,108,108,111],\"top_logprobs\":[]}";
    private const string Logprob2 = "{\"token\":\" from upstream\",\"logprob\":-0.5,\"bytes\":[32],\"top_logprobs\":[]}";
    private const string Call1 = "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}";
    private const string Call2 = "{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"zone\\\":\\\"CET\\\"}\"}}";

    private static string Whole(bool tools, bool usage, bool logprobs)
    {
        var message = tools
            ? $"{{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{Call1},{Call2}],\"refusal\":null,\"annotations\":[]}}"
            : "{\"role\":\"assistant\",\"content\":\"Hello from upstream\",\"refusal\":null,\"annotations\":[]}";
        var lp = logprobs ? $"{{\"content\":[{Logprob1},{Logprob2}],\"refusal\":null}}" : "null";
        var finish = tools ? "tool_calls" : "stop";
        var usagePart = usage ? $",\"usage\":{Usage}" : "";
        return $"{{{Head.Replace("\"created\"", "\"object\":\"chat.completion\",\"created\"", StringComparison.Ordinal)},\"choices\":[{{\"index\":0,\"message\":{message},\"logprobs\":{lp},\"finish_reason\":\"{finish}\"}}]{usagePart},\"service_tier\":\"default\",\"system_fingerprint\":\"fp_up\",\"x_vendor\":{{\"gpu\":\"h100\"}}}}";
    }

    private static List<string> Chunks(bool tools, bool logprobs, bool usage)
    {
        var usageNull = usage ? ",\"usage\":null" : "";
        string Chunk(string delta, string finish, string lp = "null") =>
            $"{{{Head},\"object\":\"chat.completion.chunk\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_up\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":{lp},\"finish_reason\":{finish}}}]{usageNull},\"x_vendor\":{{\"gpu\":\"h100\"}}}}";
        var chunks = new List<string>();
        if (tools)
        {
            chunks.Add(Chunk("{\"role\":\"assistant\",\"content\":null,\"refusal\":null}", "null"));
            chunks.Add(Chunk("{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}", "null"));
            chunks.Add(Chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}", "null"));
            chunks.Add(Chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}", "null"));
            chunks.Add(Chunk("{\"tool_calls\":[{\"index\":1,\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"zone\\\"\"}}]}", "null"));
            chunks.Add(Chunk("{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\":\\\"CET\\\"}\"}}]}", "null"));
            chunks.Add(Chunk("{}", "\"tool_calls\""));
        }
        else
        {
            chunks.Add(Chunk("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", "null", logprobs ? "{\"content\":[],\"refusal\":null}" : "null"));
            chunks.Add(Chunk("{\"content\":\"Hello\"}", "null", logprobs ? $"{{\"content\":[{Logprob1}],\"refusal\":null}}" : "null"));
            chunks.Add(Chunk("{\"content\":\" from upstream\"}", "null", logprobs ? $"{{\"content\":[{Logprob2}],\"refusal\":null}}" : "null"));
            chunks.Add(Chunk("{}", "\"stop\""));
        }
        if (usage)
        {
            chunks.Add($"{{{Head},\"object\":\"chat.completion.chunk\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_up\",\"choices\":[],\"usage\":{Usage}}}");
        }
        return chunks;
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
