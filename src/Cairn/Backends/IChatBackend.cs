using Cairn.OpenAI;

namespace Cairn.Backends;

/// <summary>
/// What answers a chat request. A backend refuses what it cannot honour by throwing <see cref="OpenAIException"/>
/// before producing output (from <see cref="CompleteAsync"/>, or from <see cref="StreamAsync"/> before it returns).
/// </summary>
internal interface IChatBackend
{
    Task<ChatOutcome> CompleteAsync(ChatCompletionRequest request, CancellationToken cancellationToken);

    Task<ChatStream> StreamAsync(ChatCompletionRequest request, CancellationToken cancellationToken);
}
