using System.Diagnostics;
using Cairn.OpenAI;

namespace Cairn.Http;

/// <summary>
/// Gives every response an <c>x-request-id</c> and <c>openai-processing-ms</c>, and turns every failure into the
/// OpenAI error envelope: never a stack trace, never an empty 404 or 405, never a 500 for a client's mistake.
/// </summary>
internal sealed partial class OpenAIMiddleware(RequestDelegate next, ILogger<OpenAIMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var requestId = Ids.Request();
        // The platform's per-request id: logging scopes carry it, and AuthMiddleware puts it in the request's Exchange.
        context.TraceIdentifier = requestId;
        var response = context.Response;
        response.Headers["x-request-id"] = requestId;
        response.Headers["openai-version"] = "2020-10-01";
        response.OnStarting(() =>
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            response.Headers["openai-processing-ms"] = ((long)elapsed.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        if (!IsRoutable(context))
        {
            // Routing ignores an empty last segment, so /v1/chat/completions/ (an SDK's retrieve('')) would be served as
            // the list: such a path, or one holding control characters, is no route (a 404, after authentication).
            context.SetEndpoint(null);
        }
        try
        {
            await next(context);
            if (!response.HasStarted && response.StatusCode is 404 or 405 && IsApi(context))
            {
                var error = response.StatusCode == 404
                    ? OpenAIError.UnknownRoute(context.Request.Method, context.Request.Path)
                    : OpenAIError.MethodNotAllowed(context.Request.Method, context.Request.Path);
                await error.WriteAsync(response);
            }
        }
        catch (OpenAIException e) when (!response.HasStarted)
        {
            await e.Error.WriteAsync(response);
        }
        catch (BadHttpRequestException e) when (!response.HasStarted)
        {
            var status = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? 413 : 400;
            await new OpenAIError(status, $"The HTTP request could not be read: {e.Message}", OpenAIError.InvalidRequestType, null, null)
                .WriteAsync(response);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (Exception e)
        {
            LogUnhandled(logger, context.Request.Method, context.Request.Path, requestId, e);
            if (!response.HasStarted)
            {
                response.Clear();
                response.Headers["x-request-id"] = requestId;
                await OpenAIError.Internal().WriteAsync(response);
            }
        }
    }

    private static bool IsRoutable(HttpContext context) =>
        context.Request.Path.Value is not { } path
        || (!path.Any(char.IsControl) && (!IsApi(context) || (!path.EndsWith('/') && !path.Contains("//", StringComparison.Ordinal))));

    private static bool IsApi(HttpContext context) => context.Request.Path.StartsWithSegments("/v1");

    [LoggerMessage(EventId = 1000, Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path} (request {RequestId})")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, string requestId, Exception exception);
}
