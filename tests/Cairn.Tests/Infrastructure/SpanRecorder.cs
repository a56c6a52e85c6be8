using System.Collections.Concurrent;
using System.Diagnostics;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// Records the spans of Cairn's source whose names hold <c>marker</c> (tests run in parallel: each marks its own
/// models), and HttpClient's spans started under them (Cairn's upstream clients start none). While it listens, those
/// spans are created and recorded.
/// </summary>
public sealed class SpanRecorder : IDisposable
{
    private const string HttpSource = "System.Net.Http";
    private readonly ActivityListener listener;
    private readonly ConcurrentDictionary<ActivitySpanId, Activity> started = new();
    private readonly ConcurrentQueue<Activity> stopped = new();

    public SpanRecorder(string marker)
    {
        bool Mine(ActivitySource source, string name, ActivitySpanId parent) =>
            source.Name == "Cairn" ? name.Contains(marker, StringComparison.Ordinal) : source.Name == HttpSource && started.ContainsKey(parent);
        listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Cairn" or HttpSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                Mine(options.Source, options.Name, options.Parent.SpanId) ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None,
            ActivityStarted = activity =>
            {
                if (Mine(activity.Source, activity.OperationName, activity.ParentSpanId))
                {
                    started[activity.SpanId] = activity;
                }
            },
            ActivityStopped = activity =>
            {
                if (started.ContainsKey(activity.SpanId))
                {
                    stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
    }

    /// <summary>The span of the create whose model is <paramref name="model"/> (started, perhaps not ended yet).</summary>
    public Activity Create(string model) =>
        started.Values.Single(a => a.Source.Name == "Cairn" && a.Kind == ActivityKind.Internal && a.DisplayName == "chat " + model);

    /// <summary>The spans ended so far under <paramref name="parent"/>, in the order they started.</summary>
    public List<Activity> Children(Activity parent) =>
        [.. stopped.Where(a => a.ParentSpanId == parent.SpanId).OrderBy(a => a.StartTimeUtc)];

    public void Dispose() => listener.Dispose();
}
