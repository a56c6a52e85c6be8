using Cairn.OpenAI.Responses;

namespace Cairn.Models;

/// <summary>
/// One create request as an <see cref="IResponseSource"/> sees it: the parsed request, the id Cairn gives the response,
/// and the stored items of the chain it continues (oldest first; empty for a first turn).
/// </summary>
internal sealed record ResponseCall(ResponseRequest Request, string Id, IReadOnlyList<ReadOnlyMemory<byte>> Context);
