using System.CommandLine;
using Cairn.Configuration;
using Cairn.Http;

namespace Cairn.Commands;

/// <summary>
/// <c>cairn</c> and <c>cairn serve</c>: the server. Its options are listed for <c>--help</c>; the arguments themselves
/// go to ASP.NET Core's configuration unchanged (<see cref="CairnApp.Build"/>), so any <c>--Section:Key=value</c> works.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var serve = new Command("serve", "Serve the API and the dashboard (the default); takes --Section:Key=value settings too.");
        AddOptions(serve);
        return serve;
    }

    public static void AddOptions(Command command)
    {
        command.Options.Add(new Option<string>("--urls") { HelpName = "URL", Description = $"Where to listen (default {CairnApp.DefaultUrl}; port 0 picks a free one)." });
        command.Options.Add(StoreOptions.Db());
        command.Options.Add(StoreOptions.Postgres());
        command.Options.Add(new Option<string>("--models") { HelpName = "FILE", Description = "A JSON file with a Models list, read after appsettings.json." });
    }

    public static async Task<int> RunAsync(string[] args, TextWriter errors)
    {
        try
        {
            await CairnApp.Build(args).RunAsync();
            return 0;
        }
        catch (OptionsException e)
        {
            await errors.WriteLineAsync($"cairn: {e.Message}");
            return 2;
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await errors.WriteLineAsync($"cairn: {e.Message} Pass another with --urls.");
            return 2;
        }
    }
}
