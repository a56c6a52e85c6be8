using Cairn;
using Cairn.Backends;
using Cairn.Http;
using Cairn.OpenAI;
using Cairn.Storage;
using Cairn.Storage.Postgres;

try
{
    if (args is ["migrate", .. var migrateArgs])
    {
        return await MigrateCommand.RunAsync(migrateArgs);
    }
    CairnApp.Build(args).Run();
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

        public static WebApplication Build(string[] args)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
            builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--db"] = "Storage:Path", ["--postgres"] = "Storage:Postgres" });
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
            builder.Services.AddSingleton(api);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddCairnStorage(storage);
            builder.Services.AddCairnBackends();

            var app = builder.Build();
            app.UseMiddleware<OpenAIMiddleware>();
            app.MapHealth();
            app.MapChatCompletions();
            app.MapStoredCompletions();
            app.MapModels();
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
