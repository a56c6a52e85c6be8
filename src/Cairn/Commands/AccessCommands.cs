using System.Globalization;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Access;

/// <summary>
/// <c>cairn keys …</c> and <c>cairn projects …</c>: manage keys and projects in the store named by the usual
/// settings (<c>--db</c>, <c>--postgres</c>), with or without a server running on it. A new key's secret goes to
/// standard output alone (so <c>KEY=$(cairn keys create --project p)</c> works); everything else to standard error.
/// </summary>
internal static class AccessCommands
{
    public const string Usage = """
        usage:
          cairn keys create --project NAME [--name LABEL] [--models a,b]   create a key; prints its secret once
          cairn keys list [--project NAME]                                 list keys (never their secrets)
          cairn keys revoke KEY_ID                                         revoke a key
          cairn projects list                                              list projects and their limits
          cairn projects set NAME [--rpm N|none] [--tpm N|none]            create a project or change its limits
        Store settings as for the server: --db PATH (SQLite, the default) or --postgres "CONNECTION STRING".
        """;

    public static async Task<int> RunAsync(string noun, string[] args, TextWriter output, TextWriter errors)
    {
        var (verb, positional, options, rest) = Parse(args);
        if (verb is null)
        {
            await errors.WriteLineAsync(Usage);
            return 2;
        }
        // Keys and projects are written through SQLite's own locking, beside a running server: no store lock.
        var app = CairnApp.Build([.. rest, "--Logging:LogLevel:Default=Warning"], storeHolder: null);
        var lifetimes = app.Services.GetServices<IHostedService>().OfType<IStoreLifetime>().ToList();
        foreach (var lifetime in lifetimes)
        {
            await lifetime.StartingAsync(CancellationToken.None);
        }
        try
        {
            var store = app.Services.GetRequiredService<IAccessStore>();
            var access = app.Services.GetRequiredService<AccessService>();
            return (noun, verb) switch
            {
                ("keys", "create") => await CreateAsync(access, positional, options, output, errors),
                ("keys", "list") => await ListKeysAsync(store, options, output, errors),
                ("keys", "revoke") => await RevokeAsync(access, positional, errors),
                ("projects", "list") => await ListProjectsAsync(store, output),
                ("projects", "set") => await SetProjectAsync(access, store, positional, options, output, errors),
                _ => await UsageAsync(errors, $"unknown command: cairn {noun} {verb}"),
            };
        }
        catch (OpenAIException e)
        {
            await errors.WriteLineAsync($"cairn: {(e.Error.Param is { } param ? $"--{param.Replace('_', '-')}: " : "")}{e.Error.Message}");
            return 2;
        }
        finally
        {
            foreach (var lifetime in lifetimes)
            {
                await lifetime.StoppedAsync(CancellationToken.None);
            }
            await app.DisposeAsync();
        }
    }

    private static async Task<int> CreateAsync(AccessService access, List<string> positional, Dictionary<string, string> options, TextWriter output, TextWriter errors)
    {
        if (!options.TryGetValue("project", out var project) || positional.Count > 0)
        {
            return await UsageAsync(errors, "cairn keys create needs --project NAME");
        }
        var models = options.TryGetValue("models", out var list)
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()
            : null;
        var (key, secret, _) = await access.CreateKeyAsync(project, options.GetValueOrDefault("name"), models, CancellationToken.None);
        await errors.WriteLineAsync($"Created {key.Id} in project '{project}'{(key.Models is { } m ? $" for models {string.Join(", ", m)}" : "")}. " +
            "Its secret follows; it is shown this once and cannot be recovered:");
        await output.WriteLineAsync(secret);
        return 0;
    }

    private static async Task<int> ListKeysAsync(IAccessStore store, Dictionary<string, string> options, TextWriter output, TextWriter errors)
    {
        var projects = (await store.ListProjectsAsync(CancellationToken.None)).ToDictionary(p => p.Id);
        long? projectId = null;
        if (options.TryGetValue("project", out var name))
        {
            projectId = projects.Values.FirstOrDefault(p => p.Name == name)?.Id;
            if (projectId is null)
            {
                await errors.WriteLineAsync($"cairn: no project named '{name}'");
                return 1;
            }
        }
        var keys = await store.ListKeysAsync(projectId, CancellationToken.None);
        await output.WriteLineAsync($"{"ID",-21} {"PROJECT",-16} {"NAME",-16} {"KEY",-26} {"MODELS",-20} {"CREATED",-20} REVOKED");
        foreach (var key in keys)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{key.Id,-21} {projects[key.ProjectId].Name,-16} {key.Name,-16} {key.Redacted,-26} {(key.Models is { } m ? string.Join(',', m) : "*"),-20} {Time(key.Created),-20} {(key.Revoked is { } r ? Time(r) : "-")}"));
        }
        return 0;
    }

    private static async Task<int> RevokeAsync(AccessService access, List<string> positional, TextWriter errors)
    {
        if (positional.Count != 1)
        {
            return await UsageAsync(errors, "cairn keys revoke needs one KEY_ID");
        }
        if (!await access.RevokeAsync(positional[0], CancellationToken.None))
        {
            await errors.WriteLineAsync($"cairn: no active key with id '{positional[0]}'");
            return 1;
        }
        await errors.WriteLineAsync($"Revoked {positional[0]}. Servers stop accepting it within Auth:CacheSeconds.");
        return 0;
    }

    private static async Task<int> ListProjectsAsync(IAccessStore store, TextWriter output)
    {
        await output.WriteLineAsync($"{"NAME",-24} {"REQUESTS/MIN",-14} {"TOKENS/MIN",-14} CREATED");
        foreach (var project in await store.ListProjectsAsync(CancellationToken.None))
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{project.Name,-24} {Limit(project.RequestsPerMinute),-14} {Limit(project.TokensPerMinute),-14} {Time(project.Created)}"));
        }
        return 0;
    }

    private static async Task<int> SetProjectAsync(
        AccessService access, IAccessStore store, List<string> positional, Dictionary<string, string> options, TextWriter output, TextWriter errors)
    {
        if (positional.Count != 1)
        {
            return await UsageAsync(errors, "cairn projects set needs one NAME");
        }
        var existing = await store.FindProjectAsync(positional[0], CancellationToken.None);
        if (!TryLimit(options, "rpm", existing?.RequestsPerMinute, out var rpm) || !TryLimit(options, "tpm", existing?.TokensPerMinute, out var tpm))
        {
            return await UsageAsync(errors, "--rpm and --tpm take a whole number or 'none'");
        }
        var project = await access.SetProjectAsync(positional[0], rpm, tpm, CancellationToken.None);
        await output.WriteLineAsync($"{project.Name}: {Limit(project.RequestsPerMinute)} requests/min, {Limit(project.TokensPerMinute)} tokens/min");
        return 0;
    }

    private static bool TryLimit(Dictionary<string, string> options, string name, long? current, out long? value)
    {
        value = current;
        if (!options.TryGetValue(name, out var given))
        {
            return true;
        }
        if (given == "none")
        {
            value = null;
            return true;
        }
        var ok = long.TryParse(given, NumberStyles.None, CultureInfo.InvariantCulture, out var number);
        value = number;
        return ok;
    }

    private static string Limit(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "none";

    private static string Time(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + "Z";

    private static async Task<int> UsageAsync(TextWriter errors, string problem)
    {
        await errors.WriteLineAsync($"cairn: {problem}");
        await errors.WriteLineAsync(Usage);
        return 2;
    }

    /// <summary>The verb, positional arguments, this command's options, and everything else (store settings) for the app.</summary>
    private static (string? Verb, List<string> Positional, Dictionary<string, string> Options, List<string> Others) Parse(string[] args)
    {
        string[] own = ["project", "name", "models", "rpm", "tpm"];
        var positional = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = new List<string>();
        string? verb = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                var name = arg[2..];
                string? value = null;
                if (name.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0)
                {
                    (name, value) = (name[..eq], name[(eq + 1)..]);
                }
                if (own.Contains(name))
                {
                    options[name] = value ?? (i + 1 < args.Length ? args[++i] : "");
                }
                else
                {
                    rest.Add(arg);
                    if (value is null && i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    {
                        rest.Add(args[++i]);
                    }
                }
            }
            else if (verb is null)
            {
                verb = arg;
            }
            else
            {
                positional.Add(arg);
            }
        }
        return (verb, positional, options, rest);
    }
}
