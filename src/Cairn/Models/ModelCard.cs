namespace Cairn.Models;

/// <summary>A model as <c>GET /v1/models</c> lists it, with the source that answers for it.</summary>
internal sealed record ModelCard(string Id, long Created, string OwnedBy, IChatSource Source);
