using System.Buffers;
using Cairn.OpenAI;
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

    /// <summary>The answer as a typed completion (what <see cref="ToStored"/> stores), for an API that writes its own shape.</summary>
    ChatCompletion ToCompletion(string requestId);

    /// <summary>The answering model, finish reasons and usage, for telemetry; cheap (nothing is counted or written).</summary>
    AnswerSummary Summarize();

    void WriteBody(IBufferWriter<byte> output);
}
