using Cairn.Access;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Completions;

/// <summary>
/// The stages every create shares before its answer, whichever API it came by (Chat Completions or Responses): the
/// model source the caller may use, and the rate-limit reservation made from the chat request that will be answered.
/// </summary>
internal sealed class CreateStages(ModelCatalog models, RateLimits limits)
{
    /// <summary>A model the key may not use is answered as OpenAI does: as if it did not exist.</summary>
    public IChatSource Resolve(Caller caller, string model) =>
        (caller.Allows(model) ? models.Find(model) : null)?.Source ?? throw new OpenAIException(OpenAIError.ModelNotFound(model));

    public RateReservation Reserve(IHeaderDictionary headers, Caller caller, ChatCompletionRequest request)
    {
        if (caller.Grant is not { } grant)
        {
            return RateReservation.None;
        }
        // The prompt is estimated from its characters, not tokenized: a request refused costs no tokenizer time.
        var reserved = (request.MaxCompletionTokens ?? 0) * request.N;
        return limits.Reserve(headers, grant.Project, () => TokenCounter.EstimatePrompt(request.Messages, request.Tools?.GetRawText()) + reserved, reserved);
    }
}
