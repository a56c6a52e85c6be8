using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server of a test run: the one named by <c>CAIRN_TEST_POSTGRES</c> (a connection string of a role
/// that may create databases), or else a throwaway server this class starts itself (initdb into a temporary folder,
/// a free loopback port, run as an unprivileged user because PostgreSQL refuses root). It starts on first use, once
/// per run, and stops when the test process exits. Each caller gets a fresh database. With no server to be had the
/// PostgreSQL tests fail, saying why; they never skip.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<Task<PostgresServer>> Shared = new(() => Task.Run(StartAsync));
    private readonly string adminConnectionString;
    private readonly System.Collections.Concurrent.ConcurrentBag<string> created = [];

    private PostgresServer(string adminConnectionString) => this.adminConnectionString = adminConnectionString;

    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>Creates an empty database and returns a connection string for it.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"cairn_test_{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}_{Guid.NewGuid().ToString("N")[..12]}";
        await using (var connection = new NpgsqlConnection(adminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        created.Add(name);
        return new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    private static async Task<PostgresServer> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("CAIRN_TEST_POSTGRES") is { Length: > 0 } given)
        {
            var external = new PostgresServer(given);
            await external.DropDatabasesOfEarlierRunsAsync();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => external.DropDatabases(external.created);
            return external;
        }
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "PostgreSQL tests need a server: install PostgreSQL's server binaries (apt-get install postgresql; initdb and pg_ctl " +
            "are looked for in /usr/lib/postgresql/*/bin and on PATH) or set CAIRN_TEST_POSTGRES to a connection string.");
        RemoveStaleFolders();
        var folder = Directory.CreateTempSubdirectory("cairn-pg-").FullName;
        var data = Path.Combine(folder, "data");
        var user = Environment.IsPrivilegedProcess ? UnprivilegedUser() : null;
        if (user is not null)
        {
            await RunAsync(null, "chown", user, folder);
        }
        await RunAsync(user, Path.Combine(bin, "initdb"), "-D", data, "-U", "cairn", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync");
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var settings = $"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c full_page_writes=off";
            try
            {
                await RunAsync(user, Path.Combine(bin, "pg_ctl"), "-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "-o", settings, "start");
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                continue; // The port was taken between choosing it and binding it.
            }
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(user, bin, data, folder);
            // A connection may wait 60 s to be made (Npgsql's default is 15): with the whole suite on two cores, a CI run
            // once failed to connect to this server within 15 s while it logged nothing amiss (ResponseMigrateTests).
            return new PostgresServer($"Host=127.0.0.1;Port={port};Username=cairn;Database=postgres;Pooling=false;Timeout=60");
        }
    }

    /// <summary>Folders of earlier runs whose server is gone (an exiting test host may not finish removing one).</summary>
    private static void RemoveStaleFolders()
    {
        foreach (var stale in Directory.GetDirectories(Path.GetTempPath(), "cairn-pg-*"))
        {
            if (!File.Exists(Path.Combine(stale, "data", "postmaster.pid")) && Directory.GetCreationTimeUtc(stale) < DateTime.UtcNow.AddMinutes(-10))
            {
                try
                {
                    Directory.Delete(stale, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another run's, still in use.
                }
            }
        }
    }

    /// <summary>Databases an earlier run made over an hour ago and did not get to drop (its test host was cut short).</summary>
    private async Task DropDatabasesOfEarlierRunsAsync()
    {
        var stale = new List<string>();
        await using (var connection = new NpgsqlConnection(adminConnectionString))
        {
            await connection.OpenAsync();
            await using var list = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE 'cairn\\_test\\_%'", connection);
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var parts = reader.GetString(0).Split('_');
                if (parts.Length == 4 && long.TryParse(parts[2], out var made) && made < DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds())
                {
                    stale.Add(reader.GetString(0));
                }
            }
        }
        DropDatabases(stale);
    }

    /// <summary>Leaves a server that is not ours as it was found.</summary>
    private void DropDatabases(IEnumerable<string> names)
    {
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(adminConnectionString);
        connection.Open();
        foreach (var name in names)
        {
            using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
            try
            {
                drop.ExecuteNonQuery();
            }
            catch (PostgresException)
            {
                // Still in use by a process that outlived the run; harmless.
            }
        }
    }

    private static string? FindBinaries()
    {
        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return installed.Concat(onPath).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    /// <summary>PostgreSQL's own user where the packages made one, else nobody.</summary>
    private static string UnprivilegedUser() =>
        File.ReadLines("/etc/passwd").Any(line => line.StartsWith("postgres:", StringComparison.Ordinal)) ? "postgres" : "nobody";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Stop(string? user, string bin, string data, string folder)
    {
        try
        {
            RunAsync(user, Path.Combine(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop").GetAwaiter().GetResult();
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            // A server or folder left behind in /tmp is harmless to the next run, which makes its own.
        }
    }

    /// <summary>Runs a program (as <paramref name="user"/> when given) and throws with its output when it fails.</summary>
    private static async Task RunAsync(string? user, string program, params string[] args)
    {
        var start = new ProcessStartInfo(user is null ? program : "runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in user is null ? args : ["-u", user, "--", program, .. args])
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} exited with {process.ExitCode}: {await error}{await output}");
        }
    }
}
