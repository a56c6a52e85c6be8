namespace Cairn.Upstream;

/// <summary>Where a proxied completion came from, as its stored record tells it (no URL secrets, no key).</summary>
internal sealed record ProxyRecord(string Provider, string Deployment, string UpstreamModel);
