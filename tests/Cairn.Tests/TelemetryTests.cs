using System.ClientModel;
using System.Net;
using System.Text;
using Cairn.Tests.Infrastructure;
using Cairn.Tests.Otlp;
using OpenAI.Chat;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked for evaluation in OpenAI 2.15.

namespace Cairn.Tests;

/// <summary>Cairn's GenAI spans and metrics as a real OTLP receiver gets them: local, streamed, Responses, proxied and failed creates.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests
{
    private static Task<ReceivedSpan> ChatSpanAsync(TelemetryStack stack, string model) =>
        stack.Receiver.SpanAsync(s => s.Scope == "Cairn" && s.Kind == Span.Types.SpanKind.Internal && s.Name == $"chat {model}");

    private static Task<ReceivedPoint> PointAsync(TelemetryStack stack, string metric, string model, Func<ReceivedPoint, bool> match) =>
        stack.Receiver.PointAsync(metric, p => Equals(p["gen_ai.request.model"], model) && match(p));

    [Fact]
    public async Task ALocalChat_IsAGenAiSpan_UnderTheRequestsServerSpan()
    {
        await using var stack = await TelemetryStack.StartAsync();
        var model = TelemetryStack.LocalModel();

        ChatCompletion completion = await stack.Cairn.Chat(model).CompleteChatAsync(
            [new UserChatMessage("Hello there, echo")], new ChatCompletionOptions { Temperature = 0.5f, MaxOutputTokenCount = 50, StoredOutputEnabled = true });

        var span = await ChatSpanAsync(stack, model);
        Assert.Equal(Span.Types.SpanKind.Internal, span.Kind);
        Assert.Equal("chat", span["gen_ai.operation.name"]);
        Assert.Equal("cairn", span["gen_ai.provider.name"]);
        Assert.Equal(model, span["gen_ai.request.model"]);
        Assert.Equal(completion.Model, span["gen_ai.response.model"]);
        Assert.Equal(completion.Id, span["gen_ai.response.id"]);
        Assert.Equal(new object[] { "stop" }, span["gen_ai.response.finish_reasons"]);
        Assert.Equal((long)completion.Usage.InputTokenCount, span["gen_ai.usage.input_tokens"]);
        Assert.Equal((long)completion.Usage.OutputTokenCount, span["gen_ai.usage.output_tokens"]);
        Assert.Equal(0.5, span["gen_ai.request.temperature"]);
        Assert.Equal(50L, span["gen_ai.request.max_tokens"]);
        Assert.Equal("chat.completions", span["cairn.api"]);
        Assert.Equal("Default project", span["cairn.project"]);
        Assert.Null(span["error.type"]);
        Assert.Equal(Status.Types.StatusCode.Unset, span.Status);
        var server = await stack.Receiver.SpanAsync(s => s.SpanId == span.ParentSpanId);
        Assert.Equal(Span.Types.SpanKind.Server, server.Kind);
        Assert.Equal(span.TraceId, server.TraceId);
        Assert.Equal("/v1/chat/completions", server["url.path"]);
        Assert.Equal(200L, server["http.response.status_code"]);
        var store = await stack.Receiver.SpanAsync(s => s.Name == "store chat.completion" && s.ParentSpanId == span.SpanId);
        Assert.Equal(span.TraceId, store.TraceId);
    }

    [Fact]
    public async Task AStreamedChat_IsReportedWhenItsStreamEnds_WithItsTimeToFirstToken()
    {
        await using var stack = await TelemetryStack.StartAsync();
        var model = TelemetryStack.LocalModel();

        string? id = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in stack.Cairn.Chat(model).CompleteChatStreamingAsync([new UserChatMessage("Streamed in several small pieces")]))
        {
            id ??= update.CompletionId;
            usage = update.Usage ?? usage;
        }

        var span = await ChatSpanAsync(stack, model);
        Assert.Equal(id, span["gen_ai.response.id"]);
        Assert.Equal(new object[] { "stop" }, span["gen_ai.response.finish_reasons"]);
        Assert.Equal((long)usage!.InputTokenCount, span["gen_ai.usage.input_tokens"]);
        Assert.Equal((long)usage.OutputTokenCount, span["gen_ai.usage.output_tokens"]);
        Assert.Equal(Status.Types.StatusCode.Unset, span.Status);
        var firstToken = await PointAsync(stack, "gen_ai.server.time_to_first_token", model, p => p.Count == 1);
        Assert.Equal("s", firstToken.Unit);
        Assert.True(firstToken.Sum > 0);
        var perToken = await PointAsync(stack, "gen_ai.server.time_per_output_token", model, p => p.Count == 1);
        Assert.Equal("s", perToken.Unit);
    }

    [Fact]
    public async Task AResponse_WholeOrStreamed_IsAGenAiSpan_WithItsResponseId()
    {
        await using var stack = await TelemetryStack.StartAsync();
        var whole = TelemetryStack.LocalModel();
        var streamed = TelemetryStack.LocalModel();
        var responses = stack.Cairn.Responses();

        ResponseResult created = await responses.CreateResponseAsync(new CreateResponseOptions(whole, [ResponseItem.CreateUserMessageItem("Answer me whole")]));
        ResponseResult? completed = null;
        var options = new CreateResponseOptions(streamed, [ResponseItem.CreateUserMessageItem("Answer me in pieces")]) { StreamingEnabled = true };
        await foreach (var update in await responses.CreateResponseStreamingAsync(options))
        {
            completed = (update as StreamingResponseCompletedUpdate)?.Response ?? completed;
        }

        foreach (var (model, response) in new[] { (whole, created), (streamed, completed!) })
        {
            var span = await ChatSpanAsync(stack, model);
            Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
            Assert.Equal(response.Id, span["gen_ai.response.id"]);
            Assert.Equal("responses", span["cairn.api"]);
            Assert.Equal(model, span["gen_ai.response.model"]);
            Assert.Equal((long)response.Usage.InputTokenCount, span["gen_ai.usage.input_tokens"]);
            Assert.Equal((long)response.Usage.OutputTokenCount, span["gen_ai.usage.output_tokens"]);
            var server = await stack.Receiver.SpanAsync(s => s.SpanId == span.ParentSpanId);
            Assert.Equal("/v1/responses", server["url.path"]);
        }
    }

    [Fact]
    public async Task ANativeResponsesRelay_IsAGenAiSpan_AndAFailedResponseIsAnError()
    {
        await using var stack = await TelemetryStack.StartAsync();
        var answered = $"native/answer-{Guid.NewGuid():N}";
        var failed = $"native/failed-{Guid.NewGuid():N}";

        ResponseResult response = await stack.Cairn.Responses().CreateResponseAsync(new CreateResponseOptions(answered, [ResponseItem.CreateUserMessageItem("Relay me")]));
        using var failure = await stack.Cairn.PostJsonAsync("/v1/responses", $$"""{"model":"{{failed}}","input":"Relay me"}""");

        var span = await ChatSpanAsync(stack, answered);
        Assert.Equal(response.Id, span["gen_ai.response.id"]);
        Assert.Equal($"{answered}-2025-01-01", span["gen_ai.response.model"]);
        Assert.Equal("openai", span["gen_ai.provider.name"]);
        Assert.Equal("responses", span["cairn.api"]);
        Assert.Equal(new object[] { "completed" }, span["gen_ai.response.finish_reasons"]);
        Assert.Equal((long)response.Usage.InputTokenCount, span["gen_ai.usage.input_tokens"]);
        Assert.Equal((long)response.Usage.OutputTokenCount, span["gen_ai.usage.output_tokens"]);
        Assert.Equal(Status.Types.StatusCode.Unset, span.Status);
        // The attempt is Cairn's client span, and the trace context sent upstream names it.
        var attempt = await stack.Receiver.SpanAsync(s => s.Kind == Span.Types.SpanKind.Client && s.ParentSpanId == span.SpanId);
        Assert.Equal("responses", attempt["cairn.api"]);
        Assert.Equal("127.0.0.1", attempt["server.address"]);
        Assert.Equal(200L, attempt["http.response.status_code"]);
        Assert.StartsWith($"00-{span.TraceId}-{attempt.SpanId}-", Assert.Single(stack.Upstream.For(answered)).Headers["traceparent"], StringComparison.Ordinal);
        Assert.Contains("\"status\":\"failed\"", await failure.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var failedSpan = await ChatSpanAsync(stack, failed);
        Assert.Equal("failed", failedSpan["error.type"]);
        Assert.Equal(Status.Types.StatusCode.Error, failedSpan.Status);
    }

    [Fact]
    public async Task AProxiedChat_HasAClientSpanPerUpstreamAttempt_AndTheUpstreamGetsTheTraceContext()
    {
        await using var stack = await TelemetryStack.StartAsync();
        var model = $"flaky:1:{Guid.NewGuid():N}"; // 429 once, then an answer: two attempts

        ChatCompletion completion = await stack.Cairn.Chat(model).CompleteChatAsync([new UserChatMessage("Say hello")]);

        var span = await ChatSpanAsync(stack, model);
        Assert.Equal("openai", span["gen_ai.provider.name"]);
        Assert.Equal("answer-2025-01-01", span["gen_ai.response.model"]);
        Assert.Equal(completion.Id, span["gen_ai.response.id"]);
        Assert.Equal((long)completion.Usage.InputTokenCount, span["gen_ai.usage.input_tokens"]);
        Assert.Equal((long)completion.Usage.OutputTokenCount, span["gen_ai.usage.output_tokens"]);
        var attempts = (await stack.Receiver.SpansAsync(s => s.Kind == Span.Types.SpanKind.Client && s.ParentSpanId == span.SpanId, count: 2))
            .OrderBy(s => s.Span.StartTimeUnixNano).ToList();
        Assert.Equal([429L, 200L], attempts.Select(a => a["http.response.status_code"]));
        Assert.Equal([1L, 2L], attempts.Select(a => a["cairn.upstream.attempt"]));
        Assert.All(attempts, a => Assert.Equal(span.TraceId, a.TraceId));
        // W3C trace context: 00-{trace id}-{the sending span's id}-{flags}, one per attempt, each naming its attempt.
        var sent = stack.Upstream.For(model).Select(r => r.Headers["traceparent"].Split('-')).ToList();
        Assert.Equal(2, sent.Count);
        Assert.All(sent, parts => Assert.Equal(span.TraceId, parts[1]));
        Assert.Equal(attempts.Select(a => a.SpanId), sent.Select(parts => parts[2]));
    }

    [Fact]
    public async Task AnUpstreamsRefusal_IsAnErrorSpan_CountedWithItsErrorType_AndNoTokens()
    {
        await using var stack = await TelemetryStack.StartAsync();
        var model = TelemetryStack.UpstreamModel("bad-400");

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => stack.Cairn.Chat(model).CompleteChatAsync([new UserChatMessage("Say hello")]));

        Assert.Equal(400, refused.Status);
        var span = await ChatSpanAsync(stack, model);
        Assert.Equal("400", span["error.type"]);
        Assert.Equal(Status.Types.StatusCode.Error, span.Status);
        Assert.Null(span["gen_ai.response.id"]);
        var server = await stack.Receiver.SpanAsync(s => s.SpanId == span.ParentSpanId);
        Assert.Equal(400L, server["http.response.status_code"]);
        var duration = await PointAsync(stack, "gen_ai.server.request.duration", model, p => p.Count == 1);
        Assert.Equal("400", duration["error.type"]);
        Assert.DoesNotContain(stack.Receiver.Points, p => p.Metric == "gen_ai.client.token.usage" && Equals(p["gen_ai.request.model"], model));

        // The same refusal of a response's chat call, and a response that continues an unknown one.
        var responseModel = TelemetryStack.UpstreamModel("bad-400");
        using var refusedResponse = await stack.Cairn.PostJsonAsync("/v1/responses", $$"""{"model":"{{responseModel}}","input":"Say hello"}""");
        Assert.Equal(400, (int)refusedResponse.StatusCode);
        Assert.Equal("400", (await ChatSpanAsync(stack, responseModel))["error.type"]);
        var unknownModel = TelemetryStack.LocalModel();
        using var unknown = await stack.Cairn.PostJsonAsync("/v1/responses", $$"""{"model":"{{unknownModel}}","input":"Hi","previous_response_id":"resp_unknown"}""");
        Assert.Equal(400, (int)unknown.StatusCode); // previous_response_not_found, as OpenAI answers it
        Assert.Equal("400", (await ChatSpanAsync(stack, unknownModel))["error.type"]);
    }

    [Fact]
    public async Task AStreamThatFailsAfterItsHeaders_IsAnErrorSpan_OfTypeStreamFailed()
    {
        await using var stack = await TelemetryStack.StartAsync();
        var model = TelemetryStack.UpstreamModel("error-event");

        using var response = await stack.Cairn.PostJsonAsync("/v1/chat/completions",
            $$"""{"model":"{{model}}","stream":true,"messages":[{"role":"user","content":"Say hello"}]}""");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("The model crashed.", body, StringComparison.Ordinal);
        var span = await ChatSpanAsync(stack, model);
        Assert.Equal("stream_failed", span["error.type"]);
        Assert.Equal(Status.Types.StatusCode.Error, span.Status);
        var duration = await PointAsync(stack, "gen_ai.server.request.duration", model, p => p.Count == 1);
        Assert.Equal("stream_failed", duration["error.type"]);
    }

    [Fact]
    public async Task AClientThatLeavesAStream_EndsItsSpanAsCancelled()
    {
        await using var stack = await TelemetryStack.StartAsync();
        var model = TelemetryStack.UpstreamModel("hang"); // one chunk, then nothing until the client leaves

        var response = await stack.Cairn.Http.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent($$"""{"model":"{{model}}","stream":true,"messages":[{"role":"user","content":"Say hello"}]}""", Encoding.UTF8, "application/json"),
            },
            HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        Assert.True(await stream.ReadAsync(new byte[1024]) > 0); // the first chunk arrived
        response.Dispose();

        var span = await ChatSpanAsync(stack, model);
        Assert.Equal("cancelled", span["error.type"]);
        Assert.Equal(Status.Types.StatusCode.Error, span.Status);
        Assert.Null(span["gen_ai.response.id"]);
        var firstToken = await PointAsync(stack, "gen_ai.server.time_to_first_token", model, p => p.Count == 1);
        Assert.Equal("cancelled", firstToken["error.type"]);
    }

    [Fact]
    public async Task RequestDurationAndTokenUsage_AreExported_CountingWhatWasSentAndAnswered()
    {
        await using var stack = await TelemetryStack.StartAsync();
        var model = TelemetryStack.LocalModel();
        var chat = stack.Cairn.Chat(model);
        long input = 0, output = 0;

        foreach (var text in new[] { "One short prompt", "A second prompt, somewhat longer than the first one was" })
        {
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage(text)]);
            input += completion.Usage.InputTokenCount;
            output += completion.Usage.OutputTokenCount;
        }
        ChatTokenUsage? streamed = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("And a third, streamed")]))
        {
            streamed = update.Usage ?? streamed;
        }
        input += streamed!.InputTokenCount;
        output += streamed.OutputTokenCount;

        var duration = await PointAsync(stack, "gen_ai.server.request.duration", model, p => p.Count == 3);
        Assert.Equal("s", duration.Unit);
        Assert.Equal("chat", duration["gen_ai.operation.name"]);
        Assert.Equal("cairn", duration["gen_ai.provider.name"]);
        Assert.Equal(model, duration["gen_ai.response.model"]);
        Assert.Null(duration["error.type"]);
        Assert.True(duration.Sum > 0);
        var inputTokens = await PointAsync(stack, "gen_ai.client.token.usage", model, p => Equals(p["gen_ai.token.type"], "input") && p.Count == 3);
        var outputTokens = await PointAsync(stack, "gen_ai.client.token.usage", model, p => Equals(p["gen_ai.token.type"], "output") && p.Count == 3);
        Assert.Equal("{token}", inputTokens.Unit);
        Assert.Equal(input, inputTokens.Sum);
        Assert.Equal(output, outputTokens.Sum);
    }

    [Fact]
    public async Task WithObservabilityOff_ThereIsNoMetricsPage_AndNothingIsExported()
    {
        await using var stack = await TelemetryStack.StartAsync("--Observability:Enabled=false");

        using var metrics = await stack.Cairn.Http.GetAsync("/metrics");
        ChatCompletion local = await stack.Cairn.Chat(TelemetryStack.LocalModel()).CompleteChatAsync([new UserChatMessage("Hello")]);
        ChatCompletion proxied = await stack.Cairn.Chat(TelemetryStack.UpstreamModel("answer")).CompleteChatAsync([new UserChatMessage("Hello")]);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // three metric intervals, fifteen span batches
        await stack.StopCairnAsync();

        Assert.Equal(HttpStatusCode.NotFound, metrics.StatusCode);
        Assert.Equal("Hello", local.Content[0].Text);
        Assert.Equal("Hello from upstream", proxied.Content[0].Text);
        Assert.Empty(stack.Receiver.Bodies);
    }
}
