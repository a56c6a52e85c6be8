using System.Diagnostics;

namespace Cairn.Storage.Postgres;

/// <summary>A one-line progress bar on stderr, redrawn at most a few times a second.</summary>
internal sealed class ProgressBar(long total, long done)
{
    private const int Width = 30;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly long startedAt = done;
    private long done = done;
    private TimeSpan drawn = TimeSpan.FromSeconds(-1);

    public void Advance(long count)
    {
        done += count;
        if (clock.Elapsed - drawn >= TimeSpan.FromMilliseconds(200))
        {
            Draw();
        }
    }

    public void Finish()
    {
        Draw();
        Console.Error.WriteLine();
    }

    private void Draw()
    {
        drawn = clock.Elapsed;
        var fraction = total == 0 ? 1 : Math.Min(1, (double)done / total);
        var filled = (int)(fraction * Width);
        var rate = (done - startedAt) / Math.Max(clock.Elapsed.TotalSeconds, 0.001);
        Console.Error.Write($"\rcairn migrate [{new string('#', filled)}{new string('-', Width - filled)}] {fraction * 100,3:F0}% {done:N0} / {total:N0} completions, {rate:N0}/s   ");
    }
}
