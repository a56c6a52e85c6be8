using Cairn;
using Cairn.Access;
using Cairn.Backends;
using Cairn.Commands;
using Cairn.Completions;
using Cairn.Configuration;
using Cairn.Dashboard;
using Cairn.Export;
using Cairn.Http;
using Cairn.Models;
using Cairn.Observability;
using Cairn.Responses;
using Cairn.Storage;
using Cairn.Upstream;
using Microsoft.Extensions.Options;

return await CairnCommands.InvokeAsync(args);

namespace Cairn
{
    /// <summary>Wires Cairn's features; the only place that reads configuration.</summary>
    internal static class CairnApp
    {
        public const string DefaultUrl = "http://127.0.0.1:8080";

        /// <summary>
        /// Settings are read once, at start. Reloading them when a file changes would watch the content root (Cairn's
        /// own folder) and every folder beneath it, so a store kept there (<c>cd /app &amp;&amp; ./Cairn</c>, the default
        /// <c>cairn.db</c>) woke that watcher on each write: ~9% of a core at 1,000 stored requests/s.
        /// </summary>
        internal const string ReadSettingsOnce = "--hostBuilder:reloadConfigOnChange=false";

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
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [ReadSettingsOnce, .. args], ContentRootPath = AppContext.BaseDirectory });
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
            AddOptions<ApiOptions>(builder.Services, builder.Configuration, ApiOptions.Section, o => o.Validate());
            builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<ApiOptions>>().Value);
            var echo = AddOptions<EchoOptions>(builder.Services, builder.Configuration, EchoOptions.Section, o => o.Validate());
            builder.Services.AddSingleton(Random.Shared);
            var models = ModelList.Read(builder.Configuration, Environment.GetEnvironmentVariable);
            builder.Services.AddCairnModels(models);
            builder.Services.AddCairnUpstreams(models, Environment.GetEnvironmentVariable);
            builder.Services.AddCairnBackends(models, echo);
            var observability = AddOptions<ObservabilityOptions>(builder.Services, builder.Configuration, ObservabilityOptions.Section, o => o.Validate());
            builder.Services.AddCairnObservability(builder.Configuration, observability);
            builder.Services.AddCairnCompletions();
            builder.Services.AddCairnHealth().AddCheck<StoreHealthCheck>("store");
            builder.Services.AddCairnDashboard(storage.KeyRingFolder());
            // Data protection warns, for every new key, that it is stored unencrypted; DashboardKeyRing says where it is instead.
            builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error);

            var app = builder.Build();
            try
            {
                ValidateOptions(app.Services);
            }
            catch (OptionsException)
            {
                ((IDisposable)app).Dispose();
                throw;
            }
            app.UseMiddleware<OpenAIMiddleware>();
            app.UseMiddleware<AuthMiddleware>();
            app.MapHealth();
            app.MapMetrics();
            app.MapChatCompletions();
            app.MapStoredCompletions();
            app.MapResponses();
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
            var storage = AddOptions<StorageOptions>(services, configuration, StorageOptions.Section, o => o.Validate());
            var auth = AddOptions<AuthOptions>(services, configuration, AuthOptions.Section, o => o.Validate(Environment.GetEnvironmentVariable));
            services.AddSingleton(TimeProvider.System);
            services.AddCairnStorage(storage, storeHolder);
            services.AddCairnAccess(auth);
            services.AddCairnExport();
            return storage;
        }

        /// <summary>
        /// Runs the options pattern's validation on start now, so that a bad setting stops Cairn with one line naming the
        /// key before anything is opened or listens (and <see cref="Build"/> itself throws, as tests expect).
        /// </summary>
        public static void ValidateOptions(IServiceProvider services)
        {
            try
            {
                services.GetService<IStartupValidator>()?.Validate();
            }
            catch (OptionsValidationException e)
            {
                throw new OptionsException(string.Join(" ", e.Failures));
            }
            catch (AggregateException e) when (e.InnerExceptions.All(inner => inner is OptionsValidationException))
            {
                throw new OptionsException(string.Join(" ", e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(inner => inner.Failures)));
            }
        }

        /// <summary>
        /// Registers a section through the options pattern (bound, and validated on start by the type's own rules), and
        /// returns its value checked by the same rules now, for the registrations that depend on it (which store, which
        /// backends). A value that cannot be bound is refused here, naming the section.
        /// </summary>
        private static T AddOptions<T>(IServiceCollection services, IConfiguration configuration, string section, Func<T, IEnumerable<string>> rules)
            where T : class, new()
        {
            var validator = new RulesValidator<T>(rules);
            services.AddSingleton<IValidateOptions<T>>(validator);
            services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
            T options;
            try
            {
                options = configuration.GetSection(section).Get<T>() ?? new T();
            }
            catch (InvalidOperationException e)
            {
                throw new OptionsException($"configuration section '{section}': {e.Message}");
            }
            return validator.Validate(null, options) is { Failed: true, Failures: { } failures } ? throw new OptionsException(string.Join(" ", failures)) : options;
        }
    }
}
