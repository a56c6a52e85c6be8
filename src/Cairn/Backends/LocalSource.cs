using Cairn.Models;

namespace Cairn.Backends;

/// <summary>A backend in this process as a model source: its typed answers, whole or as deltas.</summary>
internal sealed class LocalSource(IChatBackend backend) : IChatSource
{
    public async Task<IChatAnswer> CompleteAsync(ChatCall call, CancellationToken cancellationToken) =>
        new LocalAnswer(call, await backend.CompleteAsync(call.Request, cancellationToken));

    public async Task<IChatStream> StreamAsync(ChatCall call, CancellationToken cancellationToken) =>
        new LocalStream(call, await backend.StreamAsync(call.Request, cancellationToken));
}
