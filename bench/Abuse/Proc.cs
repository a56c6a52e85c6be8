using System.Globalization;

namespace Abuse;

/// <summary>What Linux says about a process: CPU time, resident memory and its peak, and TCP connection states.</summary>
internal static class Proc
{
    // /proc/PID/stat counts CPU time in clock ticks; USER_HZ is 100 on every Linux this runs on.
    private const double TicksPerSecond = 100;

    /// <summary>User plus system CPU seconds of every thread of the process (utime + stime), or null once it is gone.</summary>
    public static double? CpuSeconds(int pid)
    {
        var stat = Read($"/proc/{pid}/stat");
        if (stat is null)
        {
            return null;
        }
        // The command name (field 2) may hold spaces; the fields after its closing parenthesis start at field 3.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>A line of /proc/PID/status in MiB (VmRSS, VmHWM, RssAnon), or null once the process is gone.</summary>
    public static double? Mib(int pid, string key)
    {
        var status = Read($"/proc/{pid}/status");
        if (status is null)
        {
            return null;
        }
        foreach (var line in status.Split('\n'))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                var kb = line[(key.Length + 1)..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        return null;
    }

    /// <summary>Sets the process's peak resident size (VmHWM) back to its current size, so the next peak is one case's.</summary>
    public static bool ResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>How many TCP connections on loopback the server side (local port <paramref name="serverPort"/>) still
    /// holds open (ESTABLISHED) to the given client ports. A server that closed or aborted one has it in another state or gone.</summary>
    public static int EstablishedTo(int serverPort, IReadOnlySet<int> clientPorts)
    {
        var table = Read("/proc/net/tcp");
        if (table is null)
        {
            return -1;
        }
        var count = 0;
        foreach (var line in table.Split('\n').Skip(1))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 4)
            {
                continue;
            }
            if (Port(parts[1]) == serverPort && clientPorts.Contains(Port(parts[2])) && parts[3] == "01")
            {
                count++;
            }
        }
        return count;
    }

    private static int Port(string address) => int.Parse(address[(address.IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
