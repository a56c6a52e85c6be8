using System.Buffers;
using System.IO.Pipelines;
using Cairn.OpenAI;
using Microsoft.Net.Http.Headers;

namespace Cairn.Http;

/// <summary>Reads a JSON request body whole, refusing other media types and bodies over the configured limit.</summary>
internal static class RequestBody
{
    public static async Task<ReadOnlyMemory<byte>> ReadJsonAsync(HttpContext context, ApiOptions options)
    {
        var request = context.Request;
        // Required, not assumed: a page of another origin can send a body without Content-Type (or as text/plain)
        // without a CORS preflight, and must not be able to post completions to a server without keys.
        if (request.ContentType is not { } contentType || !IsJson(contentType))
        {
            throw new OpenAIException(new OpenAIError(StatusCodes.Status415UnsupportedMediaType,
                request.ContentType is null
                    ? "Missing Content-Type. Send the body as JSON with Content-Type: application/json."
                    : $"Unsupported Content-Type '{request.ContentType}'. Send the body as JSON with Content-Type: application/json.",
                OpenAIError.InvalidRequestType, null, "unsupported_media_type"));
        }
        var limit = options.MaxRequestBodyBytes;
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(context.RequestAborted);
            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw TooLarge(limit);
            }
            if (result.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                if (body.Length == 0)
                {
                    throw OpenAIException.InvalidRequest(null,
                        "The request body is empty. Send a JSON object with Content-Type: application/json.", "invalid_json");
                }
                return body;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool IsJson(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) &&
        (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
         media.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static OpenAIException TooLarge(long limit) =>
        new(new OpenAIError(StatusCodes.Status413PayloadTooLarge,
            $"The request body is larger than this server accepts ({limit} bytes; see Api:MaxRequestBodyBytes).",
            OpenAIError.InvalidRequestType, null, "request_too_large"));
}
