using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Microsoft.Win32.SafeHandles;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// Flushes SQLite's write-ahead log to the disk on behalf of the writer. With <c>synchronous=FULL</c> SQLite would
/// sync the log inside every COMMIT, and the single writer would wait for the disk before it could begin the next
/// batch. Instead the writer commits at <c>NORMAL</c> (the frames are in the log, so a killed process loses nothing)
/// and its callers are told only after <see cref="Flush"/> has returned: the promise of FULL, that an acknowledged
/// write survives power loss, is kept, while the writer works on the next batch as the disk syncs the last.
/// </summary>
/// <remarks>
/// Linux only (<c>fdatasync</c>, the call SQLite itself makes there); elsewhere SQLite syncs inside COMMIT as before.
/// The log's file stays the same file while the writer's connection is open: SQLite deletes it only when the last
/// connection closes, and restarting it after a checkpoint writes over it from the start.
/// </remarks>
internal sealed class SqliteWalSync : IDisposable
{
    private readonly SafeFileHandle log;

    private SqliteWalSync(SafeFileHandle log) => this.log = log;

    /// <summary>
    /// Takes over the syncing of <paramref name="connection"/>'s log when <paramref name="synchronous"/> is FULL and
    /// this is Linux: sets the connection to NORMAL and returns the sync; otherwise null, and SQLite keeps syncing.
    /// </summary>
    public static SqliteWalSync? TakeOver(SqliteConnection connection, string synchronous)
    {
        if (synchronous != "FULL" || !OperatingSystem.IsLinux() || string.IsNullOrEmpty(connection.DataSource))
        {
            return null;
        }
        var path = Path.GetFullPath(connection.DataSource) + "-wal";
        if (!File.Exists(path))
        {
            return null;
        }
        var log = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            var sync = new SqliteWalSync(log);
            // The log may have been made by this start without its folder's entry reaching the disk; SQLite syncs
            // that folder after creating a log only at FULL. Once here, before the first acknowledgement.
            SyncFolder(Path.GetDirectoryName(path)!);
            sync.Flush();
            SqliteSchema.Execute(connection, "PRAGMA synchronous = NORMAL");
            return sync;
        }
        catch
        {
            log.Dispose();
            throw;
        }
    }

    /// <summary>Returns once every frame written to the log so far is on the disk.</summary>
    public void Flush()
    {
        if (DataSync(log) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            throw new IOException($"fdatasync of SQLite's write-ahead log failed: {Marshal.GetPInvokeErrorMessage(error)}");
        }
    }

    /// <summary>Syncs <paramref name="folder"/>'s entries (a file made in it is then found after a power loss).</summary>
    public static void SyncFolder(string folder)
    {
        var descriptor = Open(folder, ReadOnly);
        if (descriptor < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot open {folder} to sync it: {Marshal.GetPInvokeErrorMessage(error)}");
        }
        try
        {
            if (FileSync(descriptor) != 0)
            {
                var error = Marshal.GetLastPInvokeError();
                throw new IOException($"fsync of {folder} failed: {Marshal.GetPInvokeErrorMessage(error)}");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    public void Dispose() => log.Dispose();

    private const int ReadOnly = 0; // O_RDONLY, which opens a folder as well

    [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int DataSync(SafeFileHandle handle);

    [DllImport("libc", EntryPoint = "open", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open(string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int FileSync(int descriptor);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int descriptor);
}
