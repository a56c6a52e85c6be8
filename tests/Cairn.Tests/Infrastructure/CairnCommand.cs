using System.Diagnostics;

namespace Cairn.Tests.Infrastructure;

/// <summary>Runs a <c>cairn</c> command (the built Cairn.dll under <c>dotnet</c>) as its own process, as an operator would.</summary>
public static class CairnCommand
{
    public sealed record Outcome(int Exit, string Stdout, string Stderr);

    public static Task<Outcome> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    /// <summary>Runs the command with <paramref name="input"/> as its standard input (none: an empty one).</summary>
    public static Task<Outcome> RunWithInputAsync(string? input, params string[] args) => RunWithAsync(input, new Dictionary<string, string>(), args);

    /// <summary>Runs the command with these environment variables set; a command still running after <paramref name="timeout"/> is killed.</summary>
    public static async Task<Outcome> RunWithAsync(
        string? input, IReadOnlyDictionary<string, string> environment, string[] args, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Cairn.dll"), .. args])
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(input ?? "");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new Outcome(process.ExitCode, await stdout, await stderr);
    }
}
