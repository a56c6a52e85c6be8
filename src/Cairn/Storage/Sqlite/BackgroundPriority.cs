using System.Runtime.InteropServices;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// Lowers the scheduling priority of the calling thread, for work that may wait while requests run: the kernel then
/// gives the core to a request's thread that wakes, instead of sharing it evenly with a burst of background work.
/// </summary>
/// <remarks>
/// Linux only, where a thread's nice value is its own (<c>setpriority</c> on its thread id); raising it needs no
/// privilege. Elsewhere, or when refused, the thread keeps the priority it had; one already lower is left lower.
/// </remarks>
internal static class BackgroundPriority
{
    /// <summary>
    /// Nice 5: about a third of a request thread's share of a busy core (CFS/EEVDF weights 335 against 1,024), so the
    /// work still moves on a saturated server rather than starving behind it.
    /// </summary>
    internal const int Nice = 5;

    public static void LowerCurrentThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        try
        {
            var thread = GetThreadId();
            // Never raised: a server started at a lower priority than this keeps it for its background work too.
            if (GetPriority(ProcessWho, thread) < Nice)
            {
                _ = SetPriority(ProcessWho, thread, Nice);
            }
        }
        catch (EntryPointNotFoundException)
        {
            // A C library without gettid (glibc before 2.30): the thread keeps its priority.
        }
    }

    internal static int CurrentNice() => OperatingSystem.IsLinux() ? GetPriority(ProcessWho, GetThreadId()) : 0;

    private const int ProcessWho = 0; // PRIO_PROCESS: on Linux, with a thread id, that one thread

    [DllImport("libc", EntryPoint = "gettid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetThreadId();

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetPriority(int which, int who, int priority);

    [DllImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetPriority(int which, int who);
}
