namespace Cairn.Upstream;

/// <summary>
/// Chooses the order a request tries a route's deployments in: a weighted random draw among those with weight, then
/// the rest of them by further draws, then the weight-0 fallbacks in configuration order.
/// </summary>
internal sealed class DeploymentChoice(Random random)
{
    public List<UpstreamDeployment> Order(ModelRoute route)
    {
        var deployments = route.Deployments;
        if (deployments.Count == 1)
        {
            return [deployments[0]];
        }
        var weighted = deployments.Where(d => d.Options.Weight > 0).ToList();
        var order = new List<UpstreamDeployment>(deployments.Count);
        while (weighted.Count > 0)
        {
            var total = weighted.Sum(d => d.Options.Weight);
            var draw = random.NextDouble() * total;
            var pick = weighted.Count - 1;
            for (var i = 0; i < weighted.Count; i++)
            {
                draw -= weighted[i].Options.Weight;
                if (draw < 0)
                {
                    pick = i;
                    break;
                }
            }
            order.Add(weighted[pick]);
            weighted.RemoveAt(pick);
        }
        order.AddRange(deployments.Where(d => d.Options.Weight <= 0));
        return order;
    }
}
