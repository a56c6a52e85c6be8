using Cairn.Upstream;

namespace Cairn.Backends;

/// <summary>
/// A model as <c>GET /v1/models</c> lists it, with what answers for it: a backend in this process, or an upstream
/// <see cref="Route"/> that Cairn relays to.
/// </summary>
internal sealed record ModelCard(string Id, long Created, string OwnedBy, IChatBackend? Backend, ModelRoute? Route = null);
