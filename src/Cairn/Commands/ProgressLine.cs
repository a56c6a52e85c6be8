using System.Diagnostics;
using System.Globalization;

namespace Cairn.Commands;

/// <summary>The commands' one progress bar (export, import, migrate), redrawn in place on one line of standard error, at most five times a second.</summary>
internal sealed class ProgressLine(string command, long? total, TextWriter errors)
{
    private const int Width = 30;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private TimeSpan drawn = TimeSpan.FromSeconds(-1);

    /// <summary>Shows <paramref name="done"/> of the total (when known) and a caller's text, such as counts and a rate.</summary>
    public void Show(long done, string detail)
    {
        if (clock.Elapsed - drawn >= TimeSpan.FromMilliseconds(200))
        {
            Draw(done, detail);
        }
    }

    public void Finish(long done, string detail)
    {
        Draw(done, detail);
        errors.WriteLine();
    }

    /// <summary>A count per second since the start, for the caller's text.</summary>
    public string Rate(long count) =>
        (count / Math.Max(clock.Elapsed.TotalSeconds, 0.001)).ToString("N0", CultureInfo.InvariantCulture) + "/s";

    private void Draw(long done, string detail)
    {
        drawn = clock.Elapsed;
        var bar = "";
        if (total is { } whole)
        {
            var fraction = whole <= 0 ? 1 : Math.Clamp((double)done / whole, 0, 1);
            var filled = (int)(fraction * Width);
            bar = string.Create(CultureInfo.InvariantCulture, $" [{new string('#', filled)}{new string('-', Width - filled)}] {fraction * 100,3:F0}%");
        }
        errors.Write($"\rcairn {command}{bar} {detail}   ");
        errors.Flush();
    }
}
