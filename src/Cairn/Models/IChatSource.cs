namespace Cairn.Models;

/// <summary>
/// What answers chat requests for a model: a backend in this process or an upstream relay (in the spirit of
/// Microsoft.Extensions.AI's <c>IChatClient</c>). It is the one place where model sources differ; everything around
/// an answer (rate limits, storing, headers, SSE framing and <c>[DONE]</c>) is the create endpoint's, once for all.
/// A source refuses before any output by throwing <see cref="OpenAI.OpenAIException"/> or <see cref="ChatRefusedException"/>.
/// </summary>
internal interface IChatSource
{
    /// <summary>Answers whole.</summary>
    Task<IChatAnswer> CompleteAsync(ChatCall call, CancellationToken cancellationToken);

    /// <summary>Starts answering as a stream; its events are written once the stream's headers are sent.</summary>
    Task<IChatStream> StreamAsync(ChatCall call, CancellationToken cancellationToken);
}
