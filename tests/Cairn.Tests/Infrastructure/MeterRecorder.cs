using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// Records what one server's instruments measure: a <see cref="MeterListener"/> on the meters made by that server's
/// <see cref="IMeterFactory"/> only, so servers of tests running beside it never mix in. Observable instruments are
/// read by <see cref="Observe"/>.
/// </summary>
public sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentQueue<Measured> measured = new();
    private readonly ConcurrentQueue<Measured> observed = new();

    public sealed record Measured(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
    {
        /// <summary>Whether every given tag has the given value.</summary>
        public bool Has(params (string Key, object Value)[] tags) => tags.All(t => Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value));
    }

    /// <summary>The store's instruments (<c>cairn.store.*</c>).</summary>
    public static bool StoreInstruments(string name) => name.StartsWith("cairn.store.", StringComparison.Ordinal);

    public MeterRecorder(IServiceProvider services, params string[] instruments)
        : this(services.GetRequiredService<IMeterFactory>(), instruments.Contains)
    {
    }

    /// <summary>Records the instruments named as <paramref name="records"/> says, of the meters <paramref name="scope"/> made.</summary>
    public MeterRecorder(IMeterFactory scope, Func<string, bool> records)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == scope && records(instrument.Name))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, v) in tags)
        {
            copy[key] = v;
        }
        (instrument.IsObservable ? observed : measured).Enqueue(new Measured(instrument.Name, value, copy));
    }

    /// <summary>What <paramref name="instrument"/> measured since the recorder started, with those tags.</summary>
    public List<Measured> Of(string instrument, params (string Key, object Value)[] tags) =>
        [.. measured.Where(m => m.Instrument == instrument && m.Has(tags))];

    /// <summary>The sum of what <paramref name="instrument"/> measured with those tags.</summary>
    public double Sum(string instrument, params (string Key, object Value)[] tags) => Of(instrument, tags).Sum(m => m.Value);

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

    /// <summary>Reads the observable instruments now; returns what <paramref name="instrument"/> gave, with those tags.</summary>
    public List<Measured> Observe(string instrument, params (string Key, object Value)[] tags)
    {
        observed.Clear();
        listener.RecordObservableInstruments();
        return [.. observed.Where(m => m.Instrument == instrument && m.Has(tags))];
    }

    public void Dispose() => listener.Dispose();
}
