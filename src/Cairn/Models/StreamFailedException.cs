namespace Cairn.Models;

/// <summary>A stream that failed after it began: <see cref="Event"/> is the error event it ends with (OpenAI's envelope, or an upstream's own event as it came).</summary>
internal sealed class StreamFailedException(byte[] errorEvent) : Exception("The answer's stream failed.")
{
    public byte[] Event { get; } = errorEvent;
}
