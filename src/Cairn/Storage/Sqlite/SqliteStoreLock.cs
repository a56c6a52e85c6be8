using System.Globalization;
using System.Runtime.InteropServices;
using Cairn.Configuration;

namespace Cairn.Storage.Sqlite;

/// <summary>
/// Keeps a SQLite file to one writing process (a server or <c>cairn import</c>): that process hands out storage
/// order itself, so a second writer's rows would collide with its next ones. The lock is an operating-system lock
/// on <c>&lt;db&gt;.lock</c>, held for the process's life and let go by the kernel however the process ends (a
/// SIGKILL included); the file names its holder (<c>PID command</c>) so a refused process can say who it is. On
/// Linux it is an open-file-description lock (<c>F_OFD_SETLK</c>), which a second open in the same process also
/// meets and which lets the holder's line be read; elsewhere the file is opened without sharing.
/// </summary>
internal sealed partial class SqliteStoreLock(string databasePath) : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private FileStream? held;

    public string Path { get; } = databasePath + ".lock";

    /// <summary>Whether this process holds the lock (it is the store's one writer).</summary>
    public bool Held => held is not null;

    /// <summary>Takes the lock for <paramref name="command"/> (e.g. <c>cairn serve</c>), or throws naming the process that holds it.</summary>
    public void Acquire(string command)
    {
        if (held is not null)
        {
            return;
        }
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = OperatingSystem.IsLinux() ? FileShare.ReadWrite | FileShare.Delete : FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }
        FileStream stream;
        try
        {
            stream = new FileStream(Path, options);
        }
        catch (IOException) when (!OperatingSystem.IsLinux())
        {
            throw InUse(null);
        }
        if (OperatingSystem.IsLinux() && !TryLock(stream))
        {
            var holder = ReadHolder(stream);
            stream.Dispose();
            throw InUse(holder);
        }
        // Written over the last holder's line and then cut to length, so the file is never seen empty once it has named
        // a holder.
        var line = System.Text.Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId} {command}\n"));
        stream.Write(line);
        stream.SetLength(line.Length);
        stream.Flush(flushToDisk: true);
        held = stream;
    }

    private OptionsException InUse(string? holder)
    {
        var database = Path[..^".lock".Length];
        var who = holder?.Split(' ', 2) is [var pid, var command] ? $"process {pid} ({command.Trim()})" : "another process";
        return new OptionsException($"{database} is in use by {who}. Stop it first, or use another --db; its lock is {Path}.");
    }

    /// <summary>
    /// The holder's line, the file's first. A holder that has just taken the lock of a new file writes its line a moment
    /// later, so a file without a whole line is read again, for up to a second.
    /// </summary>
    private static string? ReadHolder(FileStream stream)
    {
        var buffer = new byte[256];
        for (var attempt = 1; ; attempt++)
        {
            stream.Position = 0;
            var read = stream.Read(buffer);
            var end = Array.IndexOf(buffer, (byte)'\n', 0, read);
            if (end >= 0 || attempt == 20)
            {
                var text = System.Text.Encoding.UTF8.GetString(buffer, 0, end >= 0 ? end : read).Trim();
                return text.Length > 0 ? text : null;
            }
            Thread.Sleep(50);
        }
    }

    private static bool TryLock(FileStream stream)
    {
        var whole = new Flock { Type = WriteLock, Whence = 0, Start = 0, Length = 0 };
        if (Fcntl((int)stream.SafeFileHandle.DangerousGetHandle(), OfdSetLock, ref whole) == 0)
        {
            return true;
        }
        var error = Marshal.GetLastPInvokeError();
        return error is EAgain or EAccess
            ? false
            : throw new IOException($"cannot lock {stream.Name}: {Marshal.GetPInvokeErrorMessage(error)}");
    }

    private const int OfdSetLock = 37; // F_OFD_SETLK
    private const short WriteLock = 1; // F_WRLCK
    private const int EAccess = 13;
    private const int EAgain = 11;

    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fcntl(int descriptor, int command, ref Flock flock);

    public void Dispose()
    {
        // Closing the descriptor lets the lock go; the file stays, naming the last holder, for the next one to reuse.
        held?.Dispose();
        held = null;
    }
}
