using Cairn.OpenAI;

namespace Cairn.Models;

/// <summary>An answer being streamed: its source writes the events, the create endpoint everything around them.</summary>
internal interface IChatStream : IAsyncDisposable
{
    /// <summary>
    /// Writes the answer's events (never <c>[DONE]</c>) to <paramref name="sse"/>, flushing as they come, and returns
    /// the whole answer. Throws <see cref="StreamFailedException"/> or <see cref="OpenAIException"/> to end the stream
    /// with an error event instead; stops when <see cref="SseResponse.Token"/> is cancelled.
    /// </summary>
    Task<IChatAnswer> WriteEventsAsync(SseResponse sse);

    /// <summary>
    /// Reads the answer without writing chat events, for an API that writes its own (the Responses API): each piece
    /// of the first choice's text goes to <paramref name="onText"/> as it comes, and <paramref name="sse"/> is flushed
    /// as <see cref="WriteEventsAsync"/> would flush it. Returns the whole answer; fails and stops as it does.
    /// </summary>
    Task<IChatAnswer> ReadTextAsync(SseResponse sse, Action<string> onText);
}
