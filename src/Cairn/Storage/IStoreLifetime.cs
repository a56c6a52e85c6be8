namespace Cairn.Storage;

/// <summary>The hosted service that opens a store and drains its writes: commands that use the store without serving run just these.</summary>
internal interface IStoreLifetime : IHostedLifecycleService;
