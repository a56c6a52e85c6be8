using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cairn.Storage;

/// <summary>Healthy while the store answers a trivial query.</summary>
internal sealed class StoreHealthCheck(ICompletionStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await store.PingAsync(cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("the store does not answer");
        }
        catch (System.Data.Common.DbException e)
        {
            return HealthCheckResult.Unhealthy("the store does not answer", e);
        }
    }
}
