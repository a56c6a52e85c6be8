using Cairn.OpenAI.Responses;

namespace Cairn.Models;

/// <summary>
/// What answers responses for a model whose upstream speaks the Responses API itself (<c>ResponsesApi: native</c>):
/// the request goes there as the client sent it, the chain Cairn holds spelled out in its input, and the answer comes
/// back as the upstream wrote it, with Cairn's response id. Everything around the answer (the chain, rate limits,
/// storing, SSE framing, the failures Cairn reports) is the Responses pipeline's, as with an <see cref="IChatSource"/>.
/// A source refuses before any output by throwing <see cref="OpenAI.OpenAIException"/> or <see cref="ChatRefusedException"/>.
/// </summary>
internal interface IResponseSource
{
    /// <summary>Answers whole.</summary>
    Task<FinishedResponse> CompleteAsync(ResponseCall call, CancellationToken cancellationToken);

    /// <summary>Starts answering as a stream; its events are relayed once the stream's headers are sent.</summary>
    Task<IResponseStream> StreamAsync(ResponseCall call, CancellationToken cancellationToken);
}
