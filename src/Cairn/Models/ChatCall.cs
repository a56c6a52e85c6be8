using Cairn.OpenAI;

namespace Cairn.Models;

/// <summary>One create request as a source sees it: the parsed request, and the id and creation time Cairn gives its answer.</summary>
internal sealed record ChatCall(ChatCompletionRequest Request, string Id, long Created);
