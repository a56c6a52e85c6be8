using System.Buffers;
using Cairn.Storage;

namespace Cairn.Models;

/// <summary>
/// A whole answer, however it was produced: what the rate limit settles, the record that is stored, and the
/// <c>chat.completion</c> body a non-streaming client receives.
/// </summary>
internal interface IChatAnswer : IDisposable
{
    /// <summary>Completion tokens the answer used (0 when its source did not say).</summary>
    int CompletionTokens { get; }

    StoredCompletion ToStored(long projectId, string requestId);

    void WriteBody(IBufferWriter<byte> output);
}
