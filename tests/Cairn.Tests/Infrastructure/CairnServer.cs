using System.ClientModel;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// A real Cairn (real Kestrel on 127.0.0.1, a real SQLite file in a temporary folder) for one test class,
/// with the official OpenAI client and a raw HttpClient pointed at it.
/// </summary>
public sealed class CairnServer : IAsyncLifetime
{
    private readonly string[] extraArgs = [];
    private WebApplication? app;

    public CairnServer()
    {
    }

    private CairnServer(string[] extraArgs) => this.extraArgs = extraArgs;

    /// <summary>A server started with more command-line settings (e.g. <c>--Models:0:Id=x</c>), for tests that configure it.</summary>
    public static async Task<CairnServer> StartAsync(params string[] extraArgs)
    {
        var server = new CairnServer(extraArgs);
        await server.InitializeAsync();
        return server;
    }

    private readonly TempFolder folder = new();

    public string DatabasePath => folder.File("cairn.db");

    public Uri BaseUrl { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        app = CairnApp.Build(["--urls", "http://127.0.0.1:0", "--db", DatabasePath, "--Logging:LogLevel:Default=Warning", .. extraArgs]);
        await app.StartAsync();
        BaseUrl = new Uri(app.Urls.First());
        Http = new HttpClient { BaseAddress = BaseUrl };
    }

    public ChatClient Chat(string model = "echo") => new(model, new ApiKeyCredential("sk-test"), Options());

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
