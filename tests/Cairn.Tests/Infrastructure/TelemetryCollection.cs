namespace Cairn.Tests.Infrastructure;

/// <summary>
/// Tests that read what OpenTelemetry exports run alone: its listeners are process-wide, so spans and instruments of
/// other test servers running beside them would reach their server's exporters too.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}
