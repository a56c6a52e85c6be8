using Cairn;
using Cairn.Access;
using Cairn.Backends;
using Cairn.Completions;
using Cairn.Dashboard;
using Cairn.Export;
using Cairn.Http;
using Cairn.Models;
using Cairn.Storage;
using Cairn.Storage.Postgres;
using Cairn.Upstream;

try
{
    if (args is ["migrate", .. var migrateArgs])
    {
        return await MigrateCommand.RunAsync(migrateArgs);
    }
    if (args is ["export", .. var exportArgs])
    {
        return await ExportCommand.RunAsync(exportArgs, Console.Error);
    }
    if (args is ["import", .. var importArgs])
    {
        return await ImportCommand.RunAsync(importArgs, Console.Error);
    }
    if (args is [("keys" or "projects") and var noun, .. var rest])
    {
        return await AccessCommands.RunAsync(noun, rest, Console.Out, Console.Error);
    }
    await CairnApp.Build(args).RunAsync();
}
catch (OptionsException e)
{
    Console.Error.WriteLine($"cairn: {e.Message}");
    return 2;
}
catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    Console.Error.WriteLine($"cairn: {e.Message} Pass another with --urls.");
    return 2;
}
return 0;

namespace Cairn
{
    /// <summary>Wires Cairn's features; the only place that reads configuration.</summary>
    internal static class CairnApp
    {
        public const string DefaultUrl = "http://127.0.0.1:8080";

        /// <summary>Cairn's own short flags and the settings they set.</summary>
        private static readonly Dictionary<string, string> CommandLineFlags = new()
        {
            ["--db"] = "Storage:Path",
            ["--postgres"] = "Storage:Postgres",
            ["--models"] = "ModelsFile",
        };

        /// <param name="storeHolder">Who holds a SQLite file's lock (<c>cairn serve</c>, <c>cairn import</c>); null takes none (<see cref="StorageServiceCollectionExtensions.AddCairnStorage"/>).</param>
        public static WebApplication Build(string[] args, string? storeHolder = "cairn serve")
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
            builder.Configuration.AddCommandLine(args, CommandLineFlags);
            if (builder.Configuration["ModelsFile"] is { Length: > 0 } modelsFile)
            {
                // A model list kept apart from the rest of the settings; it is read after them, so it wins. The
                // command line is read again last, so single settings given there still win over both files.
                var path = Path.GetFullPath(modelsFile, Environment.CurrentDirectory);
                if (!File.Exists(path))
                {
                    throw new OptionsException($"--models: the file {path} does not exist.");
                }
                try
                {
                    builder.Configuration.AddJsonFile(path, optional: false, reloadOnChange: false);
                }
                catch (InvalidDataException e)
                {
                    throw new OptionsException($"--models: {path} is not valid JSON ({e.InnerException?.Message ?? e.Message}).");
                }
                builder.Configuration.AddCommandLine(args, CommandLineFlags);
            }
            if (string.IsNullOrEmpty(builder.Configuration["urls"]))
            {
                builder.WebHost.UseUrls(DefaultUrl);
            }
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                kestrel.Limits.MaxRequestBodySize = null; // Api:MaxRequestBodyBytes is enforced with an OpenAI-style 413.
            });

            var storage = Bind<StorageOptions>(builder.Configuration, StorageOptions.Section, o => o.Validate());
            var api = Bind<ApiOptions>(builder.Configuration, ApiOptions.Section, o => o.Validate());
            var echo = Bind<EchoOptions>(builder.Configuration, EchoOptions.Section, o => o.Validate());
            var auth = Bind<AuthOptions>(builder.Configuration, AuthOptions.Section, o => o.Validate(Environment.GetEnvironmentVariable));
            builder.Services.AddSingleton(api);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddSingleton(Random.Shared);
            builder.Services.AddCairnStorage(storage, storeHolder);
            builder.Services.AddCairnAccess(auth);
            var models = ModelList.Read(builder.Configuration, Environment.GetEnvironmentVariable);
            builder.Services.AddCairnModels(models);
            builder.Services.AddCairnUpstreams(models, Environment.GetEnvironmentVariable);
            builder.Services.AddCairnBackends(models, echo);
            builder.Services.AddCairnCompletions();
            builder.Services.AddCairnDashboard(storage.KeyRingFolder());
            // Data protection warns, for every new key, that it is stored unencrypted; DashboardKeyRing says where it is instead.
            builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error);
            builder.Services.AddCairnExport();

            var app = builder.Build();
            app.UseMiddleware<OpenAIMiddleware>();
            app.UseMiddleware<AuthMiddleware>();
            app.MapHealth();
            app.MapChatCompletions();
            app.MapStoredCompletions();
            app.MapModels();
            app.MapAdmin();
            app.MapDashboard();
            return app;
        }

        private static T Bind<T>(IConfiguration configuration, string section, Func<T, IEnumerable<string>> validate)
            where T : new()
        {
            T options;
            try
            {
                options = configuration.GetSection(section).Get<T>() ?? new T();
            }
            catch (InvalidOperationException e)
            {
                throw new OptionsException($"configuration section '{section}': {e.Message}");
            }
            var problems = validate(options).ToList();
            return problems.Count == 0 ? options : throw new OptionsException(string.Join(" ", problems));
        }
    }
}
