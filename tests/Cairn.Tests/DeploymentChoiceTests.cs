using Cairn.Models;
using Cairn.Upstream;

namespace Cairn.Tests;

/// <summary>The order a request tries a model's deployments in, drawn from the injected random source.</summary>
public sealed class DeploymentChoiceTests
{
    private static UpstreamDeployment Deployment(int index, double weight) =>
        new($"Models:{index}", new ModelOptions { Id = "m", Provider = "openai", BaseUrl = $"http://127.0.0.{index + 1}/v1", Weight = weight }, _ => null);

    /// <summary>A source whose every draw is the same fraction of the total weight.</summary>
    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }

    [Theory]
    [InlineData(0.0, "Models:0")]
    [InlineData(0.24, "Models:0")]
    [InlineData(0.26, "Models:1")]
    [InlineData(0.99, "Models:1")]
    internal void Order_DrawsTheFirstDeploymentByWeight_AndKeepsFallbacksLast(double draw, string first)
    {
        var route = new ModelRoute("m", [Deployment(0, 1), Deployment(1, 3), Deployment(2, 0)]);

        var order = new DeploymentChoice(new FixedRandom(draw)).Order(route);

        Assert.Equal(first, order[0].Name);
        Assert.Equal(["Models:0", "Models:1", "Models:2"], order.Select(d => d.Name).Order(StringComparer.Ordinal));
        Assert.Equal("Models:2", order[^1].Name);
    }

    [Fact]
    internal void Order_WithOneDeployment_IsThatDeployment()
    {
        var route = new ModelRoute("m", [Deployment(0, 1)]);

        Assert.Equal(["Models:0"], new DeploymentChoice(new FixedRandom(0.5)).Order(route).Select(d => d.Name));
    }
}
