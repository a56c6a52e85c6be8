using System.CommandLine;
using System.Globalization;
using Cairn.Access;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Commands;

/// <summary>
/// <c>cairn keys …</c> and <c>cairn projects …</c>: manage keys and projects in the store named by the usual
/// settings (<c>--db</c>, <c>--postgres</c>), with or without a server running on it. A new key's secret goes to
/// standard output alone (so <c>KEY=$(cairn keys create --project p)</c> works); everything else to standard error.
/// </summary>
internal static class AccessCommands
{
    /// <summary>Runs <c>cairn keys …</c> or <c>cairn projects …</c> with these writers (tests call it in process).</summary>
    public static Task<int> RunAsync(string noun, string[] args, TextWriter output, TextWriter errors) =>
        CairnCommands.InvokeAsync([noun, .. args], output, errors);

    public static Command CreateKeys(IReadOnlyList<string> settings)
    {
        var project = new Option<string>("--project") { HelpName = "NAME", Description = "The key's project (created if missing)." };
        var name = new Option<string>("--name") { HelpName = "LABEL", Description = "A label shown in lists." };
        var models = new Option<string>("--models") { HelpName = "a,b", Description = "The only models the key may use (default: every model)." };
        var create = new Command("create", "Create a key; prints its secret once, alone on standard output.") { project, name, models };
        Run(create, settings, (access, _, result, output, errors) => CreateAsync(
            access, result.GetValue(project), result.GetValue(name), result.GetValue(models), output, errors));

        var listProject = new Option<string>("--project") { HelpName = "NAME", Description = "Only this project's keys." };
        var list = new Command("list", "List keys (never their secrets).") { listProject };
        Run(list, settings, (_, store, result, output, errors) => ListKeysAsync(store, result.GetValue(listProject), output, errors));

        var id = new Argument<string>("KEY_ID") { Description = "The key's id, as 'cairn keys list' shows it." };
        var revoke = new Command("revoke", "Revoke a key; servers stop accepting it within Auth:CacheSeconds.") { id };
        Run(revoke, settings, (access, _, result, _, errors) => RevokeAsync(access, result.GetValue(id)!, errors));

        return new Command("keys", "Manage API keys in the store, with or without a server running on it.") { create, list, revoke };
    }

    public static Command CreateProjects(IReadOnlyList<string> settings)
    {
        var list = new Command("list", "List projects and their limits.");
        Run(list, settings, (_, store, _, output, _) => ListProjectsAsync(store, output));

        var name = new Argument<string>("NAME") { Description = "The project." };
        var rpm = new Option<string>("--rpm") { HelpName = "N|none", Description = "Requests per minute; 'none' removes the limit." };
        var tpm = new Option<string>("--tpm") { HelpName = "N|none", Description = "Tokens per minute; 'none' removes the limit." };
        var set = new Command("set", "Create a project or change its limits.") { name, rpm, tpm };
        Run(set, settings, (access, store, result, output, errors) => SetProjectAsync(
            access, store, result.GetValue(name)!, result.GetValue(rpm), result.GetValue(tpm), output, errors));

        return new Command("projects", "Manage projects and their rate limits in the store.") { list, set };
    }

    /// <summary>Makes <paramref name="run"/> the command's action, on the store its settings name.</summary>
    private static void Run(
        Command command, IReadOnlyList<string> settings, Func<AccessService, IAccessStore, ParseResult, TextWriter, TextWriter, Task<int>> run)
    {
        StoreOptions.AddTo(command);
        command.SetAction(async (result, _) =>
        {
            var (output, errors) = (result.InvocationConfiguration.Output, result.InvocationConfiguration.Error);
            // Keys and projects are written through SQLite's own locking, beside a running server: no store lock.
            await using var store = await CommandStore.OpenAsync(StoreOptions.Settings(result, settings), _ => { }, holder: null);
            try
            {
                return await run(
                    store.Services.GetRequiredService<AccessService>(), store.Services.GetRequiredService<IAccessStore>(), result, output, errors);
            }
            catch (OpenAIException e)
            {
                await errors.WriteLineAsync($"cairn: {(e.Error.Param is { } param ? $"--{param.Replace('_', '-')}: " : "")}{e.Error.Message}");
                return 2;
            }
        });
    }

    private static async Task<int> CreateAsync(AccessService access, string? project, string? name, string? modelList, TextWriter output, TextWriter errors)
    {
        if (project is null)
        {
            return await UsageAsync(errors, "cairn keys create needs --project NAME");
        }
        var models = modelList?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var (key, secret, _) = await access.CreateKeyAsync(project, name, models, CancellationToken.None);
        await errors.WriteLineAsync($"Created {key.Id} in project '{project}'{(key.Models is { } m ? $" for models {string.Join(", ", m)}" : "")}. " +
            "Its secret follows; it is shown this once and cannot be recovered:");
        await output.WriteLineAsync(secret);
        return 0;
    }

    private static async Task<int> ListKeysAsync(IAccessStore store, string? name, TextWriter output, TextWriter errors)
    {
        var projects = (await store.ListProjectsAsync(CancellationToken.None)).ToDictionary(p => p.Id);
        long? projectId = null;
        if (name is not null)
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

    private static async Task<int> RevokeAsync(AccessService access, string id, TextWriter errors)
    {
        if (!await access.RevokeAsync(id, CancellationToken.None))
        {
            await errors.WriteLineAsync($"cairn: no active key with id '{id}'");
            return 1;
        }
        await errors.WriteLineAsync($"Revoked {id}. Servers stop accepting it within Auth:CacheSeconds.");
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
        AccessService access, IAccessStore store, string name, string? rpmText, string? tpmText, TextWriter output, TextWriter errors)
    {
        var existing = await store.FindProjectAsync(name, CancellationToken.None);
        if (!TryLimit(rpmText, existing?.RequestsPerMinute, out var rpm) || !TryLimit(tpmText, existing?.TokensPerMinute, out var tpm))
        {
            return await UsageAsync(errors, "--rpm and --tpm take a whole number or 'none'");
        }
        var project = await access.SetProjectAsync(name, rpm, tpm, CancellationToken.None);
        await output.WriteLineAsync($"{project.Name}: {Limit(project.RequestsPerMinute)} requests/min, {Limit(project.TokensPerMinute)} tokens/min");
        return 0;
    }

    private static bool TryLimit(string? given, long? current, out long? value)
    {
        value = current;
        if (given is null)
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
        return 2;
    }
}
