namespace Cairn.Storage;

/// <summary>
/// The hosted service that opens a store (<see cref="IHostedLifecycleService.StartingAsync"/>) and drains its writes
/// (<see cref="IHostedLifecycleService.StoppedAsync"/>): commands that use the store without serving run just these.
/// The other steps of the host's life have nothing to do for a store.
/// </summary>
internal interface IStoreLifetime : IHostedLifecycleService
{
    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
