using System.Buffers;
using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Backends;

/// <summary>A local backend's whole answer.</summary>
internal sealed class LocalAnswer(ChatCall call, ChatOutcome outcome) : IChatAnswer
{
    public int CompletionTokens => outcome.Usage.CompletionTokens;

    public StoredCompletion ToStored(long projectId, string requestId) =>
        StoredCompletionWriter.Build(projectId, call.Id, requestId, call.Created, call.Request, outcome);

    public ChatCompletion ToCompletion(string requestId) => ChatCompletionMapper.FromOutcome(call.Id, requestId, call.Created, call.Request, outcome);

    public AnswerSummary Summarize() =>
        new(outcome.Model, [.. outcome.Choices.Select(choice => choice.FinishReason)], outcome.Usage.PromptTokens, outcome.Usage.CompletionTokens);

    public void WriteBody(IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, JsonWriting.Options);
        ChatCompletionWriter.WriteCompletion(writer, call.Id, call.Created, outcome);
    }

    public void Dispose()
    {
    }
}
