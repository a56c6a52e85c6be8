using System.Net;
using System.Text;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>A tiny scripted model and a random one with a single slot.</summary>
public sealed class LlamaMetricsFixture : IAsyncLifetime
{
    private readonly TempFolder folder = new();

    public CairnServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        GgufWriter.WriteScripted(folder.File("scripted.gguf"));
        GgufWriter.WriteRandom(folder.File("random.gguf"));
        // A long context keeps an answer whose end tokens are banned going for seconds even on a fast machine.
        Server = await CairnServer.StartAsync([.. LlamaModels.Entry(0, "scripted", folder.File("scripted.gguf")),
            .. LlamaModels.Entry(1, "random", folder.File("random.gguf"), parallel: 1), "--Models:1:MaxQueue=2", "--Models:1:ContextSize=65536"]);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        folder.Dispose();
    }
}

/// <summary>A local model's sequences (active and waiting for a slot) and the tokens it decodes are read as metrics.</summary>
public sealed class LlamaMetricsTests(LlamaMetricsFixture fixture) : IClassFixture<LlamaMetricsFixture>
{
    private const string Sequences = "cairn.llama.sequences";
    private const string Tokens = "cairn.llama.tokens";

    private CairnServer Server => fixture.Server;

    [Fact]
    public async Task TokensDecodedAndGenerated_AreCountedPerModel()
    {
        using var meters = new MeterRecorder(Server.Services, Tokens);
        var (input, output) = Read(meters, "scripted");

        using var response = await Server.PostJsonAsync("/v1/chat/completions", """{"model":"scripted","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (inputAfter, outputAfter) = Read(meters, "scripted");
        // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n": 3 control tokens, the rest one byte a token.
        Assert.Equal(3 + "user\nHi\nassistant\n".Length, inputAfter - input);
        Assert.Equal(GgufWriter.ScriptedPieces.Length, outputAfter - output);
    }

    [Fact]
    public async Task SequencesWaitingForTheOnlySlot_AreQueued_AndLeaveWithTheirClients()
    {
        using var meters = new MeterRecorder(Server.Services, Sequences);
        using var first = new CancellationTokenSource();

        using var generating = await StartEndlessAsync(first.Token);
        var reader = new StreamReader(await generating.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());
        var queued = StartEndlessAsync(CancellationToken.None); // its headers come with its first token, once it has the slot
        await UntilAsync(meters, active: 1, waiting: 1);

        await first.CancelAsync();
        generating.Dispose();
        await UntilAsync(meters, active: 1, waiting: 0);

        using (var resumed = await queued)
        {
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        }
        await UntilAsync(meters, active: 0, waiting: 0);
    }

    private Task<HttpResponseMessage> StartEndlessAsync(CancellationToken cancellationToken) =>
        Server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"random","stream":true,"logit_bias":{"263":-100,"264":-100,"265":-100},"messages":[{"role":"user","content":"Hi"}]}""",
                Encoding.UTF8, "application/json"),
        }, HttpCompletionOption.ResponseHeadersRead, cancellationToken);

    private static (double Input, double Output) Read(MeterRecorder meters, string model)
    {
        var tokens = meters.Observe(Tokens, ("gen_ai.request.model", model));
        return (tokens.Single(m => m.Has(("gen_ai.token.type", "input"))).Value, tokens.Single(m => m.Has(("gen_ai.token.type", "output"))).Value);
    }

    /// <summary>
    /// Waits (at most 30 s) until the random model's sequences are as given. A client that disposes an unread stream
    /// first drains it for up to 2 s (SocketsHttpHandler's ResponseDrainTimeout) before closing the connection, and the
    /// whole suite shares two cores: once in several CI runs 10 s were not enough for the last sequence to leave.
    /// </summary>
    private static async Task UntilAsync(MeterRecorder meters, int active, int waiting)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        (double Active, double Waiting) seen;
        while (true)
        {
            var sequences = meters.Observe(Sequences, ("gen_ai.request.model", "random"));
            seen = (sequences.Single(m => m.Has(("cairn.llama.state", "active"))).Value, sequences.Single(m => m.Has(("cairn.llama.state", "waiting"))).Value);
            if (seen == (active, waiting) || DateTime.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(20);
        }
        Assert.Equal((active, waiting), seen);
    }
}
