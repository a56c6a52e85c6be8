using System.Text.Json;

namespace Cairn.OpenAI;

/// <summary>An error in OpenAI's envelope, with the HTTP status it is sent with.</summary>
internal sealed record OpenAIError(int Status, string Message, string Type, string? Param, string? Code)
{
    public const string InvalidRequestType = "invalid_request_error";

    /// <summary>Sent as <c>Retry-After</c> (whole seconds) when set: how long a rate-limited client should wait.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static OpenAIError InvalidRequest(string? param, string message, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, InvalidRequestType, param, code);

    public static OpenAIError CompletionNotFound(string id) =>
        new(StatusCodes.Status404NotFound, $"Completion {id} not found", InvalidRequestType, "completion_id", "not_found");

    /// <summary>An unknown, deleted, unstored or other project's response, as OpenAI words it (no param, no code).</summary>
    public static OpenAIError ResponseNotFound(string id) =>
        new(StatusCodes.Status404NotFound, $"Response with id '{id}' not found.", InvalidRequestType, null, null);

    public static OpenAIError PreviousResponseNotFound(string id) =>
        new(StatusCodes.Status400BadRequest, $"Previous response with id '{id}' not found.", InvalidRequestType, "previous_response_id",
            "previous_response_not_found");

    public static OpenAIError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, $"The model `{model}` does not exist or you do not have access to it.",
            InvalidRequestType, "model", "model_not_found");

    public static OpenAIError UnknownRoute(string method, string path) =>
        new(StatusCodes.Status404NotFound, $"Invalid URL ({method} {path})", InvalidRequestType, null, "unknown_url");

    public static OpenAIError MethodNotAllowed(string method, string path) =>
        new(StatusCodes.Status405MethodNotAllowed, $"Method {method} is not allowed for {path}.", InvalidRequestType, null, "method_not_allowed");

    public static OpenAIError Internal() =>
        new(StatusCodes.Status500InternalServerError,
            "The server had an error while processing your request. The error has been logged; the request id is in the x-request-id header.",
            "server_error", null, null);

    public static OpenAIError Unavailable(string message) =>
        new(StatusCodes.Status503ServiceUnavailable, message, "server_error", null, "service_unavailable");

    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error"u8);
        writer.WriteString("message"u8, Message);
        writer.WriteString("type"u8, Type);
        WriteNullable(writer, "param"u8, Param);
        WriteNullable(writer, "code"u8, Code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public byte[] ToUtf8() => JsonWriting.ToUtf8(WriteTo);

    public Task WriteAsync(HttpResponse response)
    {
        response.StatusCode = Status;
        response.ContentType = "application/json";
        if (RetryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var body = ToUtf8();
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body).AsTask();
    }

    private static void WriteNullable(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
