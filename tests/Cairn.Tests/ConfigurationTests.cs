using System.Diagnostics;
using System.Net;
using Cairn.Configuration;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Cairn.Tests;

/// <summary>Start-up contract: the command-line flags, settings from the environment, and bad settings refused.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task DbFlag_CreatesTheDatabaseThere_AndHealthIsOk()
    {
        var database = Path.Combine(folder.Path, "nested", "store.db");
        using var server = await CairnProcess.StartAsync(database);
        using var http = new HttpClient { BaseAddress = server.BaseUrl };

        using var health = await http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(File.Exists(database));
    }

    [Fact]
    public async Task ABadSetting_StopsTheServer_WithOneLineNamingTheKey()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Cairn.dll"), "--urls", "http://127.0.0.1:0", "--db", folder.File("x.db") },
        };
        start.Environment["Storage__Synchronous"] = "SOMETIMES";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("Storage:Synchronous", (await stderr).Trim(), StringComparison.Ordinal);
        Assert.Single((await stderr).Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--Models:0:Provider=openai|--Models:0:BaseUrl=http://127.0.0.1:9/v1", "Models:0:Id is required")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=vllm", "Models:0:Provider must be openai, azure, echo or llama")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=not a url", "Models:0:BaseUrl must be an absolute http or https URL")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=http://h/v1|--Models:0:ApiKey=sk-123", "Models:0:ApiKey is not allowed")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=http://h/v1|--Models:0:ApiKeyEnv=CAIRN_TEST_UNSET_VARIABLE", "Models:0:ApiKeyEnv names the environment variable CAIRN_TEST_UNSET_VARIABLE")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=http://h/v1|--Models:0:TimeoutSeconds=0", "Models:0:TimeoutSeconds must be above 0")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=http://h/v1|--Models:0:Weight=0", "at least one deployment of 'm' needs a weight above 0")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=http://h/v1|--Models:0:MaxRetries=lots", "Models:0")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=http://h/v1|--Models:0:Headers:Bad Name=x", "Models:0:Headers has an invalid header name")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=http://h/v1|--Models:0:MaxAnswerBytes=100", "Models:0:MaxAnswerBytes must be between 1024 and")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=http://h/v1|--Models:0:MaxEventBytes=0", "Models:0:MaxEventBytes must be between 1024 and")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=http://h/v1|--Models:0:ResponsesApi=responses", "Models:0:ResponsesApi must be chat or native, not 'responses'")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=echo|--Models:0:ResponsesApi=native", "Models:0:ResponsesApi can be native only for an upstream (openai or azure)")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=llama|--Models:0:ModelPath=x.gguf|--Models:0:ResponsesApi=native", "Models:0:ResponsesApi can be native only for an upstream")]
    [InlineData("--Models:0:Id=m|--Models:0:Provider=openai|--Models:0:BaseUrl=http://h/v1|--Models:0:ResponsesApi=native|--Models:1:Id=m|--Models:1:Provider=azure|--Models:1:BaseUrl=http://a", "Models:1:ResponsesApi: every deployment of 'm' must use the same ResponsesApi")]
    [InlineData("--Api:StreamSendTimeoutSeconds=0", "Api:StreamSendTimeoutSeconds must be above 0")]
    [InlineData("--Storage:WriteCacheKib=-1", "Storage:WriteCacheKib must be between 0 and 4194304, not -1")]
    [InlineData("--Observability:MetricsUrl=https://0.0.0.0:9464/", "Observability:MetricsUrl must be an http address without a path")]
    [InlineData("--Observability:MetricsUrl=http://0.0.0.0:9464/metrics", "Observability:MetricsUrl must be an http address without a path")]
    [InlineData("--Observability:TraceLink=http://jaeger:16686/trace/", "Observability:TraceLink must be an http(s) address containing {traceId}")]
    [InlineData("--Observability:TraceLink=javascript:alert({traceId})", "Observability:TraceLink must be an http(s) address containing {traceId}")]
    [InlineData("--Observability:Enabled=maybe", "Observability")]
    [InlineData("--models=/nonexistent/models.json", "--models: the file")]
    public void ABadModelList_StopsTheStart_WithTheEntryAndKey(string args, string expected)
    {
        var error = Assert.Throws<OptionsException>(() =>
            CairnApp.Build(["--urls", "http://127.0.0.1:0", "--db", folder.File("m.db"), .. args.Split('|')]));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-123", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SettingsFiles_AreReadOnceAtStart_SoNothingWatchesTheFolderAStoreMayLieIn()
    {
        var app = CairnApp.Build(["--urls", "http://127.0.0.1:0", "--db", folder.File("once.db")]);
        try
        {
            var files = ((IConfigurationRoot)app.Configuration).Providers.OfType<FileConfigurationProvider>().ToList();

            Assert.Contains(files, file => file.Source.Path == "appsettings.json");
            Assert.All(files, file => Assert.False(file.Source.ReloadOnChange, file.Source.Path));
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task AModelsFile_IsReadAtStart_AndItsModelsAreListed()
    {
        var file = folder.File("models.json");
        await File.WriteAllTextAsync(file, """
            {"Models": [
              {"Id": "gpt-4o-mini", "Provider": "openai", "BaseUrl": "http://127.0.0.1:9/v1"},
              {"Id": "local-*", "Provider": "openai", "BaseUrl": "http://127.0.0.1:9/v1"},
              {"Id": "house-echo", "Provider": "echo"}
            ]}
            """);
        var server = await CairnServer.StartAsync("--models", file);
        List<(string, string)> models;
        global::OpenAI.Models.OpenAIModel pattern;
        try
        {
            models = [.. (await server.Models().GetModelsAsync()).Value.Select(m => (m.Id, m.OwnedBy))];
            pattern = (await server.Models().GetModelAsync("local-llama")).Value;
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.Equal([("echo", "cairn"), ("gpt-4o-mini", "openai"), ("house-echo", "cairn")], models);
        Assert.Equal("local-llama", pattern.Id);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Port=1;Database=cairn;Username=cairn;Password=hunter2-secret;Timeout=3", "cannot use the PostgreSQL database")]
    [InlineData("Hots=127.0.0.1;Password=hunter2-secret", "not a valid PostgreSQL connection string")]
    public async Task AnUnusablePostgresConnectionString_StopsTheServer_WithOneLine_AndNoPassword(string connectionString, string expected)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Cairn.dll"), "--urls", "http://127.0.0.1:0", "--postgres", connectionString },
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var line = (await stderr).Trim();

        Assert.Equal(2, process.ExitCode);
        Assert.Single(line.Split('\n'));
        Assert.Contains("Storage:Postgres", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", line + await stdout, StringComparison.Ordinal);
    }

    public void Dispose() => folder.Dispose();
}
