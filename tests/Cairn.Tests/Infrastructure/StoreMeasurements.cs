using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// Every measurement of the store's instruments (<c>cairn.store.*</c>) made on one meter factory while this listens:
/// one server's or one test's own, so tests running beside it never mix in.
/// </summary>
internal sealed class StoreMeasurements : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentQueue<Measured> seen = new();

    public StoreMeasurements(IMeterFactory factory)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name.StartsWith("cairn.store.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.Start();
    }

    /// <summary>The measurements of one instrument so far, oldest first.</summary>
    public List<Measured> Of(string name) => [.. seen.Where(m => m.Name == name)];

    /// <summary>The sum of one instrument's measurements whose tags include <paramref name="tag"/>, if given.</summary>
    public double Sum(string name, (string Key, string Value)? tag = null) =>
        Of(name).Where(m => tag is not { } t || Equals(m.Tags.GetValueOrDefault(t.Key), t.Value)).Sum(m => m.Value);

    /// <summary>Reads the observable instruments now (the queue depth).</summary>
    public void Observe() => listener.RecordObservableInstruments();

    /// <summary>Waits until <paramref name="done"/> holds, failing with <paramref name="what"/> after 20 seconds.</summary>
    public static async Task UntilAsync(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copied = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copied[tag.Key] = tag.Value;
        }
        seen.Enqueue(new Measured(instrument.Name, value, copied));
    }

    public void Dispose() => listener.Dispose();
}

/// <summary>One measurement: the instrument's name, the value and its tags.</summary>
internal sealed record Measured(string Name, double Value, Dictionary<string, object?> Tags);
