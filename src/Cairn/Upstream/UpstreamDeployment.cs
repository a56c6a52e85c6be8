using System.Net.Http.Headers;

using Cairn.Models;

namespace Cairn.Upstream;

/// <summary>
/// One upstream that serves a model: where to send a request (to its Chat Completions or its Responses API), how to
/// sign it, and how patient to be. Its <see cref="ClientName"/> names the pooled <see cref="HttpClient"/> (with its
/// retry pipeline) that talks to it.
/// </summary>
internal sealed class UpstreamDeployment
{
    private readonly string? apiKey;
    private readonly string baseUrl;

    public UpstreamDeployment(string name, ModelOptions options, Func<string, string?> environment)
    {
        Name = name;
        Options = options;
        ClientName = "cairn-upstream:" + name;
        apiKey = options.ApiKeyEnv is { } variable ? environment(variable) : null;
        baseUrl = options.BaseUrl!.TrimEnd('/');
        Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        Host = new Uri(baseUrl).Authority;
    }

    /// <summary>Where the entry sits in configuration, e.g. <c>Models:2</c>.</summary>
    public string Name { get; }

    public ModelOptions Options { get; }

    public string ClientName { get; }

    public TimeSpan Timeout { get; }

    /// <summary>The upstream's host and port, for logs and the stored record (never its key).</summary>
    public string Host { get; }

    public string Provider => Options.Provider!;

    /// <summary>The model name sent upstream for a request that named <paramref name="requested"/>.</summary>
    public string UpstreamModel(string requested) => Options.UpstreamModel ?? requested;

    /// <summary>The model name sent to <paramref name="api"/>: Azure's Responses API takes the deployment's name.</summary>
    public string UpstreamModel(UpstreamApi api, string requested) =>
        api == UpstreamApi.Responses && Provider == ModelOptions.Azure ? Options.Deployment ?? UpstreamModel(requested) : UpstreamModel(requested);

    public HttpRequestMessage CreateRequest(UpstreamApi api, string upstreamModel, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Url(api, upstreamModel))
        {
            Content = new ByteArrayContent(body),
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (apiKey is not null)
        {
            if (Provider == ModelOptions.Azure)
            {
                request.Headers.TryAddWithoutValidation("api-key", apiKey);
            }
            else
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            }
        }
        foreach (var (header, value) in Options.Headers)
        {
            if (!request.Headers.TryAddWithoutValidation(header, value))
            {
                request.Content.Headers.TryAddWithoutValidation(header, value);
            }
        }
        return request;
    }

    /// <summary>
    /// OpenAI-compatible servers take <c>{base}/chat/completions</c> and <c>{base}/responses</c>. Azure's
    /// deployment-style URL names the deployment and the API version; Azure's v1 root (no <c>ApiVersion</c>) is called
    /// like OpenAI's. Azure's Responses API is only under its v1 root (<c>{resource}/openai/v1/responses</c>), which
    /// takes no API version.
    /// </summary>
    private Uri Url(UpstreamApi api, string upstreamModel)
    {
        if (api == UpstreamApi.Responses)
        {
            var v1 = Provider == ModelOptions.Azure && !baseUrl.EndsWith("/openai/v1", StringComparison.OrdinalIgnoreCase) ? "/openai/v1" : "";
            return new Uri($"{baseUrl}{v1}/responses");
        }
        if (Provider == ModelOptions.Azure && Options.ApiVersion is { } version)
        {
            var deployment = Uri.EscapeDataString(Options.Deployment ?? upstreamModel);
            return new Uri($"{baseUrl}/openai/deployments/{deployment}/chat/completions?api-version={Uri.EscapeDataString(version)}");
        }
        return new Uri(baseUrl + "/chat/completions");
    }
}
