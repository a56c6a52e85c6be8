namespace Cairn.Upstream;

/// <summary>The deployments that serve one configured model id (or id pattern), in configuration order.</summary>
internal sealed class ModelRoute(string id, IReadOnlyList<UpstreamDeployment> deployments)
{
    public string Id { get; } = id;

    public IReadOnlyList<UpstreamDeployment> Deployments { get; } = deployments;
}
