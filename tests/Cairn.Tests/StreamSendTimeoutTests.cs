using System.Net;
using System.Net.Sockets;
using System.Text;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>Cairn with a one-second stream send timeout, in front of an upstream it may open one connection to.</summary>
public sealed class StreamSendTimeoutFixture : IAsyncLifetime
{
    public FakeUpstream Upstream { get; } = new();

    public CairnServer Cairn { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Upstream.InitializeAsync();
        Cairn = await CairnServer.StartAsync(
            "--Api:StreamSendTimeoutSeconds=1",
            "--Models:0:Id=solo/*", "--Models:0:Provider=openai", $"--Models:0:BaseUrl={Upstream.BaseUrl.ToString().TrimEnd('/')}/v1",
            "--Models:0:MaxConnections=1", "--Models:0:MaxRetries=0", "--Models:0:TimeoutSeconds=10");
    }

    public async Task DisposeAsync()
    {
        await Cairn.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// A stream's client that stops reading is cut off after the send timeout, and what its stream held is freed: the
/// upstream connection (so the next request gets it) or the local model's work.
/// </summary>
public sealed class StreamSendTimeoutTests(StreamSendTimeoutFixture fixture) : IClassFixture<StreamSendTimeoutFixture>
{
    [Fact]
    public async Task AnUpstreamStreamsClientThatNeverReads_IsCutOff_AndTheOnlyUpstreamConnectionServesTheNextRequest()
    {
        var model = $"solo/flood-{Guid.NewGuid():N}";

        using var stuck = await SendAndNeverReadAsync(fixture.Cairn.BaseUrl, $$"""{"model":"{{model}}","stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        // The upstream sees Cairn leave once the client has taken nothing for a second.
        await fixture.Upstream.ClientLeft(model).WaitAsync(FakeUpstream.LeaveWait);
        var next = await fixture.Cairn.PostJsonAsync("/v1/chat/completions",
            $$"""{"model":"solo/answer-{{Guid.NewGuid():N}}","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        var (received, closed) = await DrainAsync(stuck, TimeSpan.FromSeconds(30));
        Assert.True(closed);
        Assert.StartsWith("HTTP/1.1 200", received, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", received, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEchoStreamsClientThatNeverReads_IsCutOff_AndItsStreamIsNotStored()
    {
        var marker = Guid.NewGuid().ToString("N");
        // About 3,000 words in 8 choices: some 6 MB of events, far more than socket buffers hold.
        var prompt = marker + string.Concat(Enumerable.Repeat(" lorem ipsum dolor", 1000));

        using var stuck = await SendAndNeverReadAsync(fixture.Cairn.BaseUrl,
            $$"""{"model":"echo","stream":true,"store":true,"n":8,"messages":[{"role":"user","content":"{{prompt}}"}]}""");
        await Task.Delay(TimeSpan.FromSeconds(3));

        var (received, closed) = await DrainAsync(stuck, TimeSpan.FromSeconds(30));
        Assert.True(closed);
        Assert.StartsWith("HTTP/1.1 200", received, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", received, StringComparison.Ordinal);
        var list = await fixture.Cairn.Http.GetStringAsync("/v1/chat/completions?limit=100");
        Assert.DoesNotContain(marker, list, StringComparison.Ordinal);
    }

    /// <summary>Sends a request over a socket with a small receive buffer, and reads nothing of the answer.</summary>
    private static async Task<Socket> SendAndNeverReadAsync(Uri baseUrl, string json)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(baseUrl.Host, baseUrl.Port);
        var body = Encoding.UTF8.GetBytes(json);
        var head = $"POST /v1/chat/completions HTTP/1.1\r\nHost: {baseUrl.Authority}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        await socket.SendAsync(body);
        return socket;
    }

    /// <summary>Reads what the server sent until it closes the connection (true) or <paramref name="patience"/> runs out (false).</summary>
    private static async Task<(string Received, bool Closed)> DrainAsync(Socket socket, TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        var received = new MemoryStream();
        var buffer = new byte[65536];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
            return (Encoding.UTF8.GetString(received.ToArray()), true);
        }
        catch (SocketException)
        {
            return (Encoding.UTF8.GetString(received.ToArray()), true);
        }
        catch (OperationCanceledException)
        {
            return (Encoding.UTF8.GetString(received.ToArray()), false);
        }
    }
}
