using System.Buffers;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// A response streamed as the Responses API's events (<c>event: type</c> / <c>data: json</c>, <c>sequence_number</c>
/// from 0, no <c>[DONE]</c>), in the order openai-node's <c>responses.stream()</c> checks. Writes only; the caller flushes.
/// </summary>
internal sealed class ResponseEvents(IBufferWriter<byte> output, ResponseObject response, string messageId)
{
    // Stub fields so the contract compiles until the writer lands.
    private readonly IBufferWriter<byte> output = output;
    private readonly ResponseObject response = response;
    private readonly string messageId = messageId;

    /// <summary><c>response.created</c> and <c>response.in_progress</c>.</summary>
    public void Start() => throw new NotImplementedException();

    /// <summary>A piece of the answer's text; the first opens the message item (<paramref name="messageId"/>) and its part.</summary>
    public void Text(string delta) => throw new NotImplementedException();

    /// <summary>
    /// After <see cref="ResponseObject.Complete"/>: closes the message, writes each function call (added, arguments,
    /// done), then <c>response.completed</c> or <c>response.incomplete</c>.
    /// </summary>
    public void Finish() => throw new NotImplementedException();

    /// <summary>After <see cref="ResponseObject.Fail"/>: <c>response.failed</c>.</summary>
    public void Failed() => throw new NotImplementedException();
}
