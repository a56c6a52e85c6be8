using Cairn.Access;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Completions;

/// <summary>
/// The stages every create shares before its answer, whichever API it came by (Chat Completions or Responses): the
/// model source the caller may use, and the rate-limit reservation made from the request that will be answered.
/// </summary>
internal sealed class CreateStages(ModelCatalog models, RateLimits limits)
{
    /// <summary>A model the key may not use is answered as OpenAI does: as if it did not exist.</summary>
    public ModelCard Find(Caller caller, string model) =>
        (caller.Allows(model) ? models.Find(model) : null) ?? throw new OpenAIException(OpenAIError.ModelNotFound(model));

    public IChatSource Resolve(Caller caller, string model) => Find(caller, model).Source;

    public RateReservation Reserve(IHeaderDictionary headers, Caller caller, ChatCompletionRequest request) =>
        // The prompt is estimated from its characters, not tokenized: a request refused costs no tokenizer time.
        Reserve(headers, caller, (request.MaxCompletionTokens ?? 0) * request.N, () => TokenCounter.EstimatePrompt(request.Messages, request.Tools?.GetRawText()));

    /// <summary>The reservation of a request whose prompt <paramref name="estimatePrompt"/> estimates (without a tokenizer), with <paramref name="reserved"/> completion tokens.</summary>
    public RateReservation Reserve(IHeaderDictionary headers, Caller caller, int reserved, Func<int> estimatePrompt) =>
        caller.Grant is { } grant ? limits.Reserve(headers, grant.Project, () => estimatePrompt() + reserved, reserved) : RateReservation.None;
}
