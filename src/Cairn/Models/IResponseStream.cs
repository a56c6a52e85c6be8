using Cairn.OpenAI;
using Cairn.OpenAI.Responses;

namespace Cairn.Models;

/// <summary>A response being streamed by its upstream: the source relays the events, the pipeline everything around them.</summary>
internal interface IResponseStream : IAsyncDisposable
{
    /// <summary>
    /// Relays the events to <paramref name="sse"/>, flushing as they come, up to the one that ends the response, which
    /// it returns unwritten (whole: <c>event:</c>, <c>data:</c>, blank line) with the response: the caller writes it
    /// once the response is stored. Throws <see cref="StreamFailedException"/> or <see cref="OpenAIException"/> when the
    /// stream fails before its end; stops when <see cref="SseResponse.Token"/> is cancelled.
    /// </summary>
    Task<(FinishedResponse Response, byte[] LastEvent)> RelayAsync(SseResponse sse);

    /// <summary>The <c>sequence_number</c> the next event takes: where an event Cairn adds (<c>response.failed</c>) continues the count.</summary>
    int NextSequence { get; }
}
