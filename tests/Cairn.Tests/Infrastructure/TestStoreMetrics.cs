using System.Diagnostics.Metrics;
using Cairn.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests.Infrastructure;

/// <summary>Store instruments for a writer a test builds itself, on a meter factory of their own, as a host would give.</summary>
internal static class TestStoreMetrics
{
    public static StoreMetrics Sqlite() => new(NewFactory(), StoreMetrics.Sqlite);

    public static StoreMetrics Postgres() => new(NewFactory(), StoreMetrics.Postgres);

    /// <summary>A meter factory of its own, so that a listener filtering on it sees only what one test made.</summary>
    public static IMeterFactory NewFactory() => new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
}
