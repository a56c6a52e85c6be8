using System.ClientModel;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// A real Cairn (real Kestrel on 127.0.0.1, a real SQLite file in a temporary folder) for one test class,
/// with the official OpenAI client and a raw HttpClient pointed at it. Subclasses choose another store.
/// </summary>
public class CairnServer : IAsyncLifetime
{
    private WebApplication? app;

    /// <summary>More command-line settings (e.g. <c>--Models:0:Id=x</c>), for tests that configure the server.</summary>
    public IReadOnlyList<string> MoreArgs { get; init; } = [];

    /// <summary>A server started with more command-line settings.</summary>
    public static async Task<CairnServer> StartAsync(params string[] moreArgs)
    {
        var server = new CairnServer { MoreArgs = moreArgs };
        await server.InitializeAsync();
        return server;
    }

    private readonly TempFolder folder = new();

    public string DatabasePath => folder.File("cairn.db");

    public Uri BaseUrl { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The server's services, for tests that drive the store directly.</summary>
    public IServiceProvider Services => app!.Services;

    /// <summary>The command-line arguments that choose the store.</summary>
    protected virtual Task<string[]> StorageArgsAsync() => Task.FromResult<string[]>(["--db", DatabasePath]);

    /// <summary>Further settings, e.g. <c>--Storage:RetentionDays=1</c>.</summary>
    protected virtual string[] ExtraArgs => [];

    public async Task InitializeAsync()
    {
        app = CairnApp.Build(["--urls", "http://127.0.0.1:0", .. await StorageArgsAsync(), "--Logging:LogLevel:Default=Warning", .. ExtraArgs, .. MoreArgs]);
        await app.StartAsync();
        BaseUrl = new Uri(app.Urls.First());
        Http = new HttpClient { BaseAddress = BaseUrl };
    }

    public ChatClient Chat(string model = "echo") => new(model, new ApiKeyCredential("sk-test"), Options());

#pragma warning disable OPENAI001 // The Responses client is marked for evaluation in OpenAI 2.15.
    public global::OpenAI.Responses.ResponsesClient Responses() =>
        new(new ApiKeyCredential("sk-test"), new global::OpenAI.Responses.ResponsesClientOptions { Endpoint = new Uri(BaseUrl, "/v1") });
#pragma warning restore OPENAI001

    public OpenAIModelClient Models() => new(new ApiKeyCredential("sk-test"), Options());

    private OpenAIClientOptions Options() => new() { Endpoint = new Uri(BaseUrl, "/v1") };

    /// <summary>POSTs a raw JSON body, as a client that does not use an SDK would.</summary>
    public Task<HttpResponseMessage> PostJsonAsync(string path, string json)
    {
        var content = new StringContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return Http.PostAsync(path, content);
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        folder.Dispose();
    }
}
