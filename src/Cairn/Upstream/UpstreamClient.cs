using System.Net;
using System.Text;
using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;
using Polly.Timeout;

namespace Cairn.Upstream;

/// <summary>
/// Sends a request (a chat request, or a response relayed as it is) to a model's deployments: each through its pooled
/// client, whose resilience pipeline retries what is worth retrying; a deployment that still fails hands over to the
/// next. Returns the first successful response (headers read, body not yet) or the error the client should see.
/// </summary>
internal sealed partial class UpstreamClient(IHttpClientFactory clients, DeploymentChoice choice, TimeProvider clock, ILogger<UpstreamClient> logger)
{
    public Task<UpstreamResult> SendAsync(ModelRoute route, ChatCompletionRequest request, CancellationToken cancellationToken) =>
        SendAsync(route, new UpstreamCall(UpstreamApi.ChatCompletions, request.Model, request.Stream,
            (deployment, model) => UpstreamBody.Write(request, model, deployment.Options)), cancellationToken);

    public async Task<UpstreamResult> SendAsync(ModelRoute route, UpstreamCall call, CancellationToken cancellationToken)
    {
        UpstreamResult.Failed? last = null;
        foreach (var deployment in choice.Order(route))
        {
            var model = deployment.UpstreamModel(call.Api, call.Model);
            var body = call.Body(deployment, model);
            HttpResponseMessage response;
            UpstreamAttempts attempts;
            using (var message = deployment.CreateRequest(call.Api, model, body))
            {
                // A whole answer is read inside the retry pipeline (a body cut off is retried like a failed
                // connect); a stream is handed over at its headers.
                message.Options.Set(UpstreamBuffering.Key, !call.Stream);
                attempts = UpstreamAttempts.Track(message, deployment, model, call.Api, cancellationToken);
                try
                {
                    response = await clients.CreateClient(deployment.ClientName)
                        .SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception e) when (e is TimeoutRejectedException or OperationCanceledException)
                {
                    LogTimeout(logger, deployment.Name, deployment.Host, deployment.Timeout.TotalSeconds, attempts.Retries + 1);
                    last = Fail(UpstreamError.Timeout, UpstreamErrors.Timeout(deployment));
                    continue;
                }
                catch (UpstreamAnswerTooLargeException e)
                {
                    // Another deployment of the same model would most likely answer as much: the client hears it now.
                    LogTooLarge(logger, deployment.Name, deployment.Host, e.Limit);
                    return Fail(UpstreamError.TooLarge, UpstreamErrors.TooLarge(deployment, "an answer"));
                }
                catch (HttpRequestException e)
                {
                    LogUnreachable(logger, deployment.Name, deployment.Host, e.HttpRequestError, attempts.Retries + 1);
                    last = Fail(UpstreamError.Unreachable, UpstreamErrors.Unreachable(deployment));
                    continue;
                }
            }
            if (response.IsSuccessStatusCode)
            {
                if (attempts.Retries > 0)
                {
                    LogRecovered(logger, deployment.Name, deployment.Host, attempts.Retries, attempts.LastFailure!);
                }
                return new UpstreamResult.Answered(deployment, model, response);
            }
            using (response)
            {
                var failure = await UpstreamFailure.ReadAsync(response, deployment, clock, cancellationToken);
                if (!UpstreamRetry.IsTransient(response.StatusCode))
                {
                    // The request itself was refused (bad input, unknown model, wrong key): another deployment of
                    // the same model would refuse it too, so the client hears it now, as the upstream said it.
                    LogRefused(logger, deployment.Name, deployment.Host, (int)response.StatusCode);
                    return new UpstreamResult.Failed(UpstreamError.Refused, failure);
                }
                LogFailed(logger, deployment.Name, deployment.Host, (int)response.StatusCode, attempts.Retries + 1);
                last = new UpstreamResult.Failed(UpstreamError.Exhausted, failure);
            }
        }
        return last ?? Fail(UpstreamError.NoDeployment, UpstreamErrors.NoDeployment(route.Id));
    }

    private static UpstreamResult.Failed Fail(UpstreamError error, OpenAIError envelope) => new(error, UpstreamFailure.From(envelope));

    // One line per deployment tried, whatever the retries: Polly's own log is off (see AddCairnUpstreams).
    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Upstream {Deployment} ({Host}) did not answer within {Seconds} s ({Attempts} attempts).")]
    private static partial void LogTimeout(ILogger logger, string deployment, string host, double seconds, int attempts);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Upstream {Deployment} ({Host}) could not be reached: {Error} ({Attempts} attempts).")]
    private static partial void LogUnreachable(ILogger logger, string deployment, string host, HttpRequestError error, int attempts);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Upstream {Deployment} ({Host}) answered {Status} ({Attempts} attempts).")]
    private static partial void LogFailed(ILogger logger, string deployment, string host, int status, int attempts);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Upstream {Deployment} ({Host}) answered after {Retries} failed attempts (the last: {Failure}).")]
    private static partial void LogRecovered(ILogger logger, string deployment, string host, int retries, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Deployment} ({Host}) sent an answer larger than its MaxAnswerBytes ({Limit} bytes).")]
    private static partial void LogTooLarge(ILogger logger, string deployment, string host, long limit);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upstream {Deployment} ({Host}) answered {Status}.")]
    private static partial void LogRefused(ILogger logger, string deployment, string host, int status);
}

/// <summary>
/// An upstream's error answer, relayed to the client: a JSON body as it came (OpenAI's envelope, or the server's
/// own), anything else wrapped in OpenAI's envelope with the upstream's status.
/// </summary>
internal sealed record UpstreamFailure(int Status, byte[] Body, TimeSpan? RetryAfter)
{
    /// <summary>Cairn's own error about an upstream, answered the same way.</summary>
    public static UpstreamFailure From(OpenAIError error) => new(error.Status, error.ToUtf8(), null);

    public static async Task<UpstreamFailure> ReadAsync(HttpResponseMessage response, UpstreamDeployment deployment, TimeProvider clock, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        byte[] bytes;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(deployment.Timeout);
            bytes = await ReadBoundedAsync(response.Content, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            bytes = [];
        }
        var retryAfter = UpstreamRetry.RetryAfter(response, clock);
        if (IsJson(bytes))
        {
            return new UpstreamFailure(status, bytes, retryAfter);
        }
        var text = Encoding.UTF8.GetString(bytes).Trim();
        if (text.Length > 500)
        {
            text = text[..500] + "…";
        }
        var message = text.Length == 0
            ? $"The upstream model server answered {status} {response.ReasonPhrase}."
            : $"The upstream model server answered {status} {response.ReasonPhrase}: {text}";
        var error = new OpenAIError(status, message, status >= 500 ? "server_error" : OpenAIError.InvalidRequestType, null, "upstream_error");
        return new UpstreamFailure(status, error.ToUtf8(), retryAfter);
    }

    /// <summary>The refusal the create endpoint answers with.</summary>
    public ChatRefusedException ToException() => new(Status, Body, RetryAfter);

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while (buffer.Length < MaxBytes && (read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, (int)Math.Min(read, MaxBytes - buffer.Length));
        }
        return buffer.ToArray();
    }

    /// <summary>The most of an upstream's error body Cairn reads and relays.</summary>
    private const int MaxBytes = 1 << 20;

    private static bool IsJson(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return false;
        }
        var reader = new Utf8JsonReader(bytes);
        try
        {
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>Cairn's own errors about upstreams, in OpenAI's envelope.</summary>
internal static class UpstreamErrors
{
    public static OpenAIError Timeout(UpstreamDeployment deployment) =>
        new(StatusCodes.Status504GatewayTimeout,
            $"The upstream model server did not answer within {deployment.Timeout.TotalSeconds:0.###} s.", "server_error", null, "upstream_timeout");

    public static OpenAIError Unreachable(UpstreamDeployment deployment) =>
        new(StatusCodes.Status502BadGateway, "The upstream model server could not be reached.", "server_error", null, "upstream_unreachable");

    public static OpenAIError Malformed(string what) =>
        new(StatusCodes.Status502BadGateway, $"The upstream model server sent {what}.", "server_error", null, "upstream_malformed");

    /// <summary><paramref name="what"/> (an answer, a stream's answer) was larger than the deployment's <c>MaxAnswerBytes</c>.</summary>
    public static OpenAIError TooLarge(UpstreamDeployment deployment, string what) =>
        new(StatusCodes.Status502BadGateway,
            $"The upstream model server sent {what} larger than the {deployment.Options.MaxAnswerBytes} bytes Cairn takes ({deployment.Name}:MaxAnswerBytes).",
            "server_error", null, "upstream_too_large");

    /// <summary>A stream event (or one line of it) was larger than the deployment's <c>MaxEventBytes</c>.</summary>
    public static OpenAIError EventTooLarge(UpstreamDeployment deployment) =>
        new(StatusCodes.Status502BadGateway,
            $"The upstream model server sent a stream event larger than the {deployment.Options.MaxEventBytes} bytes Cairn takes ({deployment.Name}:MaxEventBytes).",
            "server_error", null, "upstream_too_large");

    public static OpenAIError BrokenStream() =>
        new(StatusCodes.Status502BadGateway, "The upstream model server's stream broke off before it finished.", "server_error", null, "upstream_stream_broken");

    public static OpenAIError NoDeployment(string model) =>
        new(StatusCodes.Status503ServiceUnavailable, $"No deployment of '{model}' is available.", "server_error", null, "service_unavailable");
}

/// <summary>Which upstream answers are worth another try, and how long the upstream asks Cairn to wait.</summary>
internal static class UpstreamRetry
{
    public static bool IsTransient(HttpStatusCode status) => (int)status is 408 or 429 or 500 or 502 or 503 or 504;

    /// <summary><c>retry-after-ms</c> (OpenAI's, precise) or <c>Retry-After</c> in seconds or as a date.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider clock)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var values)
            && double.TryParse(values.FirstOrDefault(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ms)
            && ms >= 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }
        if (response.Headers.RetryAfter is { } header)
        {
            if (header.Delta is { } delta)
            {
                return delta;
            }
            if (header.Date is { } date)
            {
                var wait = date - clock.GetUtcNow();
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }
        return null;
    }
}
