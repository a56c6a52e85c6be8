using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Abuse;

/// <summary>What a request got: the status (0: no answer), bytes of body read, its first and last bytes, and how it ended.</summary>
internal sealed record Reply(int Status, long Bytes, string Head, string Tail, double Seconds, string? Ended)
{
    /// <summary>Whether the body was read to its end (not cut by the client's own time limit or an error).</summary>
    public bool Complete => Ended is null;

    /// <summary>Whether an SSE body ended with <c>data: [DONE]</c>.</summary>
    public bool Done => Tail.TrimEnd().EndsWith("data: [DONE]", StringComparison.Ordinal);

    /// <summary>Whether the body ends with (or is) an OpenAI error: an error envelope or an SSE error event.</summary>
    public bool HasError => Tail.Contains("\"error\"", StringComparison.Ordinal) || Head.StartsWith("{\"error\"", StringComparison.Ordinal);

    /// <summary>"429 rate_limit_exceeded (tokens)" from an error envelope, or the status alone.</summary>
    public string Describe()
    {
        if (Status == 0)
        {
            return $"no answer ({Ended})";
        }
        var text = Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Status >= 400 && Bytes < 16384)
        {
            try
            {
                using var json = JsonDocument.Parse(Head);
                var error = json.RootElement.GetProperty("error");
                var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : error.GetProperty("type").GetString();
                var param = error.TryGetProperty("param", out var p) && p.ValueKind == JsonValueKind.String ? $" ({p.GetString()})" : "";
                text += $" {code}{param}";
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                text += " (not an OpenAI error envelope)";
            }
        }
        return Ended is null ? text : $"{text}, {Ended}";
    }
}

/// <summary>HTTP to Cairn on loopback: bodies are read and counted, never kept (answers of hundreds of MB).</summary>
internal sealed class Client : IDisposable
{
    private const int Keep = 4096;
    private readonly HttpClient http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        MaxConnectionsPerServer = 64,
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        AutomaticDecompression = DecompressionMethods.None,
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>POSTs a body and reads the answer for at most <paramref name="limit"/>; a request that runs out of
    /// time leaves (its connection is closed) and says so in <see cref="Reply.Ended"/>.</summary>
    public async Task<Reply> PostAsync(Uri url, byte[] body, string? key, TimeSpan limit, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await SendAsync(request, key, limit, cancellationToken);
    }

    public async Task<Reply> GetAsync(Uri url, string? key, TimeSpan limit, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        return await SendAsync(request, key, limit, cancellationToken);
    }

    private async Task<Reply> SendAsync(HttpRequestMessage request, string? key, TimeSpan limit, CancellationToken cancellationToken)
    {
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        var clock = Stopwatch.StartNew();
        var status = 0;
        long bytes = 0;
        var head = new MemoryStream();
        var tail = new byte[Keep];
        var tailLength = 0;
        string? ended = null;
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            status = (int)response.StatusCode;
            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            var buffer = new byte[65536];
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                if (head.Length < Keep)
                {
                    head.Write(buffer, 0, (int)Math.Min(read, Keep - head.Length));
                }
                // Keep the last Keep bytes: shift what is kept left, then append.
                var take = Math.Min(read, Keep);
                var keepOld = Math.Min(tailLength, Keep - take);
                Buffer.BlockCopy(tail, tailLength - keepOld, tail, 0, keepOld);
                Buffer.BlockCopy(buffer, read - take, tail, keepOld, take);
                tailLength = keepOld + take;
                bytes += read;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            ended = $"client left at its {limit.TotalSeconds:0} s limit";
        }
        catch (HttpRequestException e)
        {
            ended = "connection failed: " + Inner(e);
        }
        catch (IOException e)
        {
            ended = "connection broken: " + Inner(e);
        }
        return new Reply(status, bytes, Encoding.UTF8.GetString(head.ToArray()), Encoding.UTF8.GetString(tail, 0, tailLength), clock.Elapsed.TotalSeconds, ended);
    }

    private static string Inner(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e.Message;
    }

    /// <summary>
    /// Opens a connection with a tiny receive buffer, sends a POST and never reads the answer: a client that stopped
    /// reading. Its local port identifies it in /proc/net/tcp.
    /// </summary>
    public static async Task<Socket> SendAndNeverReadAsync(Uri server, byte[] body, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port), cancellationToken);
        var head = Encoding.ASCII.GetBytes(
            $"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{server.Port}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        await socket.SendAsync(head, SocketFlags.None, cancellationToken);
        var sent = 0;
        while (sent < body.Length)
        {
            sent += await socket.SendAsync(body.AsMemory(sent), SocketFlags.None, cancellationToken);
        }
        return socket;
    }

    /// <summary>The status line a client that never read has waiting in its receive buffer ("200"), or "no answer".</summary>
    public static string StatusSoFar(Socket socket)
    {
        int read;
        var buffer = new byte[64];
        try
        {
            if (socket.Available == 0)
            {
                return "no answer";
            }
            read = socket.Receive(buffer);
        }
        catch (SocketException e)
        {
            return $"connection {e.SocketErrorCode}";
        }
        var line = Encoding.ASCII.GetString(buffer, 0, read).Split(' ');
        return line.Length > 1 && line[0].StartsWith("HTTP/", StringComparison.Ordinal) ? line[1] : "not HTTP";
    }

    public void Dispose() => http.Dispose();
}
