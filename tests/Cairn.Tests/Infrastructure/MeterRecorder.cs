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

    public MeterRecorder(IServiceProvider services, params string[] instruments)
    {
        var scope = services.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == scope && instruments.Contains(instrument.Name))
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

    /// <summary>Reads the observable instruments now; returns what <paramref name="instrument"/> gave, with those tags.</summary>
    public List<Measured> Observe(string instrument, params (string Key, object Value)[] tags)
    {
        observed.Clear();
        listener.RecordObservableInstruments();
        return [.. observed.Where(m => m.Instrument == instrument && m.Has(tags))];
    }

    public void Dispose() => listener.Dispose();
}
