using System.Globalization;

namespace Cairn.Models;

/// <summary>
/// A source's refusal before any output, answered as it is: a status, a JSON body (an upstream's own error, byte for
/// byte, or Cairn's envelope about it) and the wait it asks for.
/// </summary>
internal sealed class ChatRefusedException(int status, byte[] body, TimeSpan? retryAfter) : Exception("The model source refused the request.")
{
    public int Status { get; } = status;

    public async Task WriteAsync(HttpResponse response)
    {
        response.StatusCode = Status;
        response.ContentType = "application/json";
        if (retryAfter is { } wait)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body);
    }
}
