using Cairn;
using Cairn.Access;
using Cairn.Backends;
using Cairn.Commands;
using Cairn.Dashboard;
using Cairn.Export;
using Cairn.Http;
using Cairn.OpenAI;
using Cairn.Storage;
using Cairn.Upstream;

return await CairnCommands.InvokeAsync(args);

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

            var storage = AddStore(builder.Services, builder.Configuration, storeHolder);
            var api = Bind<ApiOptions>(builder.Configuration, ApiOptions.Section, o => o.Validate());
            var echo = Bind<EchoOptions>(builder.Configuration, EchoOptions.Section, o => o.Validate());
            builder.Services.AddSingleton(api);
            var models = builder.Services.AddCairnUpstreams(builder.Configuration, Environment.GetEnvironmentVariable);
            builder.Services.AddCairnBackends(models, echo);
            builder.Services.AddCairnHealth();
            builder.Services.AddCairnDashboard(storage.KeyRingFolder());
            // Data protection warns, for every new key, that it is stored unencrypted; DashboardKeyRing says where it is instead.
            builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error);

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

        /// <summary>
        /// The store and what works on it (access, export): the server's part that the commands share, registered in
        /// their generic host too. Returns the store's settings.
        /// </summary>
        public static StorageOptions AddStore(IServiceCollection services, IConfiguration configuration, string? storeHolder)
        {
            var storage = Bind<StorageOptions>(configuration, StorageOptions.Section, o => o.Validate());
            var auth = Bind<AuthOptions>(configuration, AuthOptions.Section, o => o.Validate(Environment.GetEnvironmentVariable));
            services.AddSingleton(TimeProvider.System);
            services.AddCairnStorage(storage, storeHolder);
            services.AddCairnAccess(auth);
            services.AddCairnExport();
            return storage;
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
