namespace Cairn.Models;

/// <summary>A model as <c>GET /v1/models</c> lists it, with the source that answers for it.</summary>
internal sealed record ModelCard(string Id, long Created, string OwnedBy, IChatSource Source)
{
    /// <summary>What answers its responses when its upstream speaks the Responses API itself; null when they go through <see cref="Source"/>.</summary>
    public IResponseSource? Responses { get; init; }
}
