using System.Net;
using System.Text;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// An upstream that times out or needs a retry is logged once, by Cairn, at the level it deserves (Warning for a
/// request that failed, Information for one that succeeded on a retry), never by Polly at Error, and without prompt text.
/// </summary>
public sealed class UpstreamLogTests : IAsyncLifetime
{
    private readonly TempFolder folder = new();
    private readonly FakeUpstream upstream = new();

    public Task InitializeAsync() => upstream.InitializeAsync();

    [Fact]
    public async Task ATimedOutRequest_AndARetriedOne_AreEachLoggedOnce_AtWarningAndInformation()
    {
        const string Prompt = "PROMPT-MARKER-41d7 private words";
        var root = upstream.BaseUrl.ToString().TrimEnd('/');
        var flaky = $"flaky:1:{Guid.NewGuid():N}";
        string log;
        using (var server = await CairnProcess.StartAsync(folder.File("log.db"),
            "--Models:0:Id=impatient", "--Models:0:Provider=openai", $"--Models:0:BaseUrl={root}/v1", "--Models:0:UpstreamModel=slow-log",
            "--Models:0:TimeoutSeconds=0.5", "--Models:0:MaxRetries=1", "--Models:0:MaxRetryDelaySeconds=0.05",
            "--Models:1:Id=flaky:*", "--Models:1:Provider=openai", $"--Models:1:BaseUrl={root}/v1", "--Models:1:MaxRetries=2", "--Models:1:MaxRetryDelaySeconds=1"))
        {
            using var http = new HttpClient { BaseAddress = server.BaseUrl };
            foreach (var (model, expected) in new[] { ("impatient", HttpStatusCode.GatewayTimeout), (flaky, HttpStatusCode.OK) })
            {
                using var response = await http.PostAsync("/v1/chat/completions", new StringContent(
                    $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{Prompt}}"}]}""", Encoding.UTF8, "application/json"));
                Assert.Equal(expected, response.StatusCode);
            }
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
            log = server.Output;
        }

        var lines = log.Split('\n');
        // Tried twice, logged once.
        var timeout = Assert.Single(lines, l => l.Contains("did not answer within", StringComparison.Ordinal));
        Assert.Contains("Models:0", timeout, StringComparison.Ordinal);
        Assert.Contains("(2 attempts)", timeout, StringComparison.Ordinal);
        Assert.StartsWith("warn:", lines[Array.IndexOf(lines, timeout) - 1], StringComparison.Ordinal);
        var recovered = Assert.Single(lines, l => l.Contains("answered after 1 failed attempts", StringComparison.Ordinal));
        Assert.Contains("answered 429", recovered, StringComparison.Ordinal);
        Assert.StartsWith("info:", lines[Array.IndexOf(lines, recovered) - 1], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("warn: Polly", StringComparison.Ordinal));
        Assert.DoesNotContain("Polly", log, StringComparison.Ordinal);
        Assert.DoesNotContain("PROMPT-MARKER", log, StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        await upstream.DisposeAsync();
        folder.Dispose();
    }
}
