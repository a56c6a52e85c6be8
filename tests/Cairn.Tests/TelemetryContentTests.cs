using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Tests.Infrastructure;
using Cairn.Tests.Otlp;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked for evaluation in OpenAI 2.15.

namespace Cairn.Tests;

/// <summary>What telemetry carries of a conversation: nothing at all by default, even logging at Debug; its text once content capture is on.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryContentTests
{
    /// <summary>Every way a prompt reaches Cairn: chat and Responses, whole and streamed, answered locally and upstream; each text carries <paramref name="marker"/>.</summary>
    private static async Task SendEverywhereAsync(CairnServer server, string key, string marker, string local, string proxied)
    {
        var endpoint = new Uri(server.BaseUrl, "/v1");
        foreach (var model in new[] { local, proxied })
        {
            var chat = new ChatClient(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = endpoint });
            ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage($"System {marker}"), new UserChatMessage($"Whole {marker}")]);
            Assert.NotEmpty(completion.Content);
            await foreach (var _ in chat.CompleteChatStreamingAsync([new UserChatMessage($"Streamed {marker}")]))
            {
            }
        }
        var responses = new ResponsesClient(new ApiKeyCredential(key), new ResponsesClientOptions { Endpoint = endpoint });
        ResponseResult created = await responses.CreateResponseAsync(
            new CreateResponseOptions(local, [ResponseItem.CreateUserMessageItem($"Response {marker}")]) { Instructions = $"Instructions {marker}" });
        Assert.Contains(marker, created.GetOutputText(), StringComparison.Ordinal);
        var streamed = new CreateResponseOptions(local, [ResponseItem.CreateUserMessageItem($"Streamed response {marker}")]) { StreamingEnabled = true };
        await foreach (var _ in await responses.CreateResponseStreamingAsync(streamed))
        {
        }
    }

    private static bool Holds(byte[] bytes, string text) => bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    private static Task<ReceivedSpan> ChatSpanAsync(TelemetryStack stack, string model) =>
        stack.Receiver.SpanAsync(s => s.Scope == "Cairn" && s.Kind == Span.Types.SpanKind.Internal && s.Name == $"chat {model}");

    [Fact]
    public async Task AtDebug_WithContentCaptureOff_NoPromptAnswerOrKeyIsExportedOrScraped()
    {
        var (setting, adminKey) = TestKeys.Admin();
        await using var stack = await TelemetryStack.StartAsync(
            setting,
            // Every category at Debug, the platform's and the HTTP client's too.
            "--Logging:LogLevel:Default=Debug", "--Logging:LogLevel:Microsoft.AspNetCore=Debug", "--Logging:LogLevel:System.Net.Http.HttpClient=Debug",
            "--Logging:LogLevel:Polly=Debug");
        var key = await TestKeys.CreateAsync(stack.Cairn, adminKey, "telemetry");
        var marker = $"marker{Guid.NewGuid():N}";
        var local = TelemetryStack.LocalModel();
        var proxied = TelemetryStack.UpstreamModel("answer");

        await SendEverywhereAsync(stack.Cairn, key, marker, local, proxied);
        using var scrape = TestKeys.Request(HttpMethod.Get, "/metrics", adminKey);
        using var page = await stack.Cairn.Http.SendAsync(scrape);
        var metrics = await page.Content.ReadAsStringAsync();
        await ChatSpanAsync(stack, proxied);
        await stack.StopCairnAsync(); // exports everything still held

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(local, metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(marker, metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(key, metrics, StringComparison.Ordinal);
        Assert.Contains(marker, stack.Upstream.For(proxied)[0].Body.ToJsonString(), StringComparison.Ordinal);
        var bodies = stack.Receiver.Bodies;
        Assert.Equal(["logs", "metrics", "traces"], bodies.Select(b => b.Signal).Distinct().Order());
        Assert.Contains(stack.Receiver.Logs, l => l.Record.SeverityNumber is >= SeverityNumber.Debug and < SeverityNumber.Info);
        Assert.Equal(6, stack.Receiver.Spans.Count(s => s.Scope == "Cairn" && s.Kind == Span.Types.SpanKind.Internal && (s.Name == $"chat {local}" || s.Name == $"chat {proxied}")));
        Assert.DoesNotContain(bodies, b => Holds(b.Bytes, marker));
        Assert.DoesNotContain(bodies, b => Holds(b.Bytes, key));
        Assert.DoesNotContain(bodies, b => Holds(b.Bytes, adminKey));
    }

    [Fact]
    public async Task WithContentCaptureOn_TheSpansCarryThePromptsAndTheAnswers()
    {
        await using var stack = await TelemetryStack.StartAsync("--OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true");
        var marker = $"marker{Guid.NewGuid():N}";
        var local = TelemetryStack.LocalModel();
        var proxied = TelemetryStack.UpstreamModel("answer");
        var responses = TelemetryStack.LocalModel();

        await stack.Cairn.Chat(local).CompleteChatAsync([new UserChatMessage($"Echo {marker}")]);
        await stack.Cairn.Chat(proxied).CompleteChatAsync([new UserChatMessage($"Relay {marker}")]);
        await stack.Cairn.Responses().CreateResponseAsync(
            new CreateResponseOptions(responses, [ResponseItem.CreateUserMessageItem($"Respond {marker}")]) { Instructions = $"Instructions {marker}" });

        var echoed = await ChatSpanAsync(stack, local);
        var input = JsonNode.Parse((string)echoed["gen_ai.input.messages"]!)!.AsArray();
        Assert.Equal("user", input[0]!["role"]!.GetValue<string>());
        Assert.Equal("text", input[0]!["parts"]![0]!["type"]!.GetValue<string>());
        Assert.Equal($"Echo {marker}", input[0]!["parts"]![0]!["content"]!.GetValue<string>());
        var output = JsonNode.Parse((string)echoed["gen_ai.output.messages"]!)!.AsArray();
        Assert.Equal("assistant", output[0]!["role"]!.GetValue<string>());
        Assert.Equal($"Echo {marker}", output[0]!["parts"]![0]!["content"]!.GetValue<string>());
        Assert.Equal("stop", output[0]!["finish_reason"]!.GetValue<string>());
        var relayed = await ChatSpanAsync(stack, proxied);
        Assert.Contains($"Relay {marker}", (string)relayed["gen_ai.input.messages"]!, StringComparison.Ordinal);
        Assert.Contains("Hello from upstream", (string)relayed["gen_ai.output.messages"]!, StringComparison.Ordinal);
        var responded = await ChatSpanAsync(stack, responses);
        Assert.Contains($"Respond {marker}", (string)responded["gen_ai.input.messages"]!, StringComparison.Ordinal);
        Assert.Contains($"Instructions {marker}", (string)responded["gen_ai.system_instructions"]!, StringComparison.Ordinal);
        Assert.Contains($"Respond {marker}", (string)responded["gen_ai.output.messages"]!, StringComparison.Ordinal);
        // A native upstream's chain (the first turn, its answer) and the turn's input, as messages and parts.
        var native = $"native/answer-{Guid.NewGuid():N}";
        ResponseResult first = await stack.Cairn.Responses().CreateResponseAsync(new CreateResponseOptions(native, [ResponseItem.CreateUserMessageItem($"First {marker}")]));
        await stack.Cairn.Responses().CreateResponseAsync(
            new CreateResponseOptions(native, [ResponseItem.CreateUserMessageItem($"Second {marker}")]) { PreviousResponseId = first.Id });
        var chained = (await stack.Receiver.SpansAsync(s => s.Scope == "Cairn" && s.Kind == Span.Types.SpanKind.Internal && s.Name == $"chat {native}", count: 2))
            .Select(span => JsonNode.Parse((string)span["gen_ai.input.messages"]!)!.AsArray()).Single(messages => messages.Count == 3);
        Assert.Equal(["user", "assistant", "user"], chained.Select(message => message!["role"]!.GetValue<string>()));
        Assert.Equal($"First {marker}", chained[0]!["parts"]![0]!["content"]!.GetValue<string>());
        Assert.Equal($"Second {marker}", chained[2]!["parts"]![0]!["content"]!.GetValue<string>());
        // The byte search of the test above finds the text where it is.
        Assert.Contains(stack.Receiver.Bodies, b => b.Signal == "traces" && Holds(b.Bytes, marker));
    }
}
