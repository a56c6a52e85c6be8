namespace Cairn.Models;

/// <summary>
/// One entry of the model list (configuration section <c>Models</c>, an array). Entries that share an
/// <see cref="Id"/> are deployments of one model: Cairn spreads requests over them by <see cref="Weight"/> and falls
/// back from one that fails to the next.
/// </summary>
internal sealed record ModelOptions
{
    public const string Section = "Models";

    /// <summary>The model name clients send. <c>*</c> matches any run of characters (<c>llama-*</c>, or <c>*</c> alone for every name).</summary>
    public string? Id { get; init; }

    /// <summary><c>openai</c> (any OpenAI-compatible server), <c>azure</c>, or <c>echo</c> (the built-in model under another name).</summary>
    public string? Provider { get; init; }

    /// <summary>The name sent upstream; by default the name the client sent.</summary>
    public string? UpstreamModel { get; init; }

    /// <summary>
    /// <c>openai</c>: the API root, e.g. <c>https://api.openai.com/v1</c> or <c>http://127.0.0.1:11434/v1</c>.
    /// <c>azure</c>: the resource, <c>https://NAME.openai.azure.com</c> with <see cref="ApiVersion"/>, or its v1 root
    /// <c>https://NAME.openai.azure.com/openai/v1</c> without.
    /// </summary>
    public string? BaseUrl { get; init; }

    /// <summary>The environment variable that holds the upstream's API key; the key itself never goes in a file.</summary>
    public string? ApiKeyEnv { get; init; }

    /// <summary>Refused when set: a key in a configuration file leaks with it. Use <see cref="ApiKeyEnv"/>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Azure's deployment name (in deployment-style URLs, and as the model of a native Responses request); by default the upstream model name.</summary>
    public string? Deployment { get; init; }

    /// <summary>Azure's <c>api-version</c>; when set, Cairn calls <c>/openai/deployments/{deployment}/chat/completions</c>.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>Headers added to every upstream request (e.g. an organization or a gateway's routing header).</summary>
    public Dictionary<string, string> Headers { get; init; } = [];

    /// <summary>Seconds an upstream has per attempt: to answer whole (non-streaming) or to send each stream event.</summary>
    public double TimeoutSeconds { get; init; } = 600;

    /// <summary>Retries of one deployment (connect errors, timeouts, 408, 429, 500, 502, 503, 504) before falling back.</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>The longest wait before a retry, <c>Retry-After</c> included; an upstream asking for longer is not retried.</summary>
    public double MaxRetryDelaySeconds { get; init; } = 10;

    /// <summary>Share of requests among deployments of the same id; 0 makes it a fallback only.</summary>
    public double Weight { get; init; } = 1;

    /// <summary>Whether <c>store</c> and <c>metadata</c> go upstream too (OpenAI then stores its own copy). Default: no.</summary>
    public bool ForwardStore { get; init; }

    /// <summary>
    /// How a response (<c>POST /v1/responses</c>) is asked of this upstream: <c>chat</c> (the default) translates it into
    /// the upstream's Chat Completions; <c>native</c> relays it to the upstream's own Responses API (OpenAI's
    /// <c>/responses</c>, Azure's <c>/openai/v1/responses</c>). Either way Cairn keeps the chain and stores the response.
    /// </summary>
    public string ResponsesApi { get; init; } = ChatApi;

    /// <summary>
    /// Whether a stream is asked for usage upstream (<c>stream_options.include_usage</c>) even when the client did not
    /// ask, so the stored record has the upstream's counts; the extra chunk is not relayed. Default: yes.
    /// </summary>
    public bool StreamUsage { get; init; } = true;

    /// <summary>Open connections to this upstream, at most.</summary>
    public int MaxConnections { get; init; } = 256;

    /// <summary>
    /// The largest answer taken from this upstream, in bytes: a whole answer's body, or the completion assembled from a
    /// stream. A larger one is refused with 502 (or, in a stream, an error event) and not stored.
    /// </summary>
    public long MaxAnswerBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>The largest stream event (its data lines together, or one line) taken from this upstream, in bytes.</summary>
    public long MaxEventBytes { get; init; } = 1024 * 1024;

    /// <summary><c>llama</c>: the GGUF file to load (relative paths from the working directory).</summary>
    public string? ModelPath { get; init; }

    /// <summary><c>llama</c>: tokens each request may hold, prompt and answer together.</summary>
    public int ContextSize { get; init; } = 4096;

    /// <summary><c>llama</c>: CPU threads llama.cpp decodes with.</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary><c>llama</c>: sequences decoded together (concurrent requests and choices of <c>n</c>).</summary>
    public int ParallelSequences { get; init; } = 4;

    /// <summary><c>llama</c>: sequences that may wait for a free one; beyond that requests get 503.</summary>
    public int MaxQueue { get; init; } = 64;

    /// <summary><c>llama</c>: a llama.cpp built-in chat template (<c>chatml</c>, <c>llama3</c>, …); by default the model's own.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary><c>llama</c>: the temperature when a request gives none.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary><c>llama</c>: the top_p when a request gives none.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>The most <see cref="MaxAnswerBytes"/> and <see cref="MaxEventBytes"/> may be (1 GiB): one buffer holds it.</summary>
    private const long MaxBytesLimit = 1L << 30;

    public const string OpenAI = "openai";
    public const string Llama = "llama";
    public const string Azure = "azure";
    public const string Echo = "echo";

    public const string ChatApi = "chat";
    public const string NativeApi = "native";

    private IEnumerable<string> ValidateLlama(string name)
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
        {
            yield return $"{name}:ModelPath is required for a llama model (the path of a GGUF file).";
        }
        if (Id?.Contains('*', StringComparison.Ordinal) == true)
        {
            yield return $"{name}:Id must be a plain name for a llama model, not a pattern.";
        }
        if (ContextSize is < 16 or > 1_048_576)
        {
            yield return $"{name}:ContextSize must be between 16 and 1048576, not {ContextSize}.";
        }
        if (Threads is < 1 or > 512)
        {
            yield return $"{name}:Threads must be between 1 and 512, not {Threads}.";
        }
        if (ParallelSequences is < 1 or > 256)
        {
            yield return $"{name}:ParallelSequences must be between 1 and 256, not {ParallelSequences}.";
        }
        if (MaxQueue is < 0 or > 100_000)
        {
            yield return $"{name}:MaxQueue must be between 0 and 100000, not {MaxQueue}.";
        }
        if (ChatTemplate is not null && string.IsNullOrWhiteSpace(ChatTemplate))
        {
            yield return $"{name}:ChatTemplate must not be empty.";
        }
        if (Temperature is < 0 or > 2 || double.IsNaN(Temperature))
        {
            yield return $"{name}:Temperature must be between 0 and 2, not {Temperature}.";
        }
        if (TopP is <= 0 or > 1 || double.IsNaN(TopP))
        {
            yield return $"{name}:TopP must be above 0 and at most 1, not {TopP}.";
        }
    }

    /// <summary>Problems with this entry, each naming <paramref name="name"/> (e.g. <c>Models:2</c>) and the key.</summary>
    public IEnumerable<string> Validate(string name, Func<string, string?> environment)
    {
        if (string.IsNullOrWhiteSpace(Id))
        {
            yield return $"{name}:Id is required (the model name clients send).";
        }
        if (Provider is not (OpenAI or Azure or Echo or Llama))
        {
            yield return $"{name}:Provider must be openai, azure, echo or llama, not '{Provider}'.";
            yield break;
        }
        if (ResponsesApi is not (ChatApi or NativeApi))
        {
            yield return $"{name}:ResponsesApi must be chat or native, not '{ResponsesApi}'.";
        }
        else if (ResponsesApi == NativeApi && Provider is Echo or Llama)
        {
            yield return $"{name}:ResponsesApi can be native only for an upstream (openai or azure); Cairn answers responses of a {Provider} model itself.";
        }
        if (Provider == Llama)
        {
            foreach (var problem in ValidateLlama(name))
            {
                yield return problem;
            }
            yield break;
        }
        if (ApiKey is not null)
        {
            yield return $"{name}:ApiKey is not allowed: put the key in an environment variable and name it in {name}:ApiKeyEnv.";
        }
        if (Provider == Echo)
        {
            yield break;
        }
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.Query))
        {
            yield return $"{name}:BaseUrl must be an absolute http or https URL without a query, not '{BaseUrl}'.";
        }
        if (ApiKeyEnv is not null && string.IsNullOrEmpty(environment(ApiKeyEnv)))
        {
            yield return $"{name}:ApiKeyEnv names the environment variable {ApiKeyEnv}, which is not set.";
        }
        if (Provider == Azure && ApiVersion is not null && string.IsNullOrWhiteSpace(ApiVersion))
        {
            yield return $"{name}:ApiVersion must not be empty.";
        }
        if (TimeoutSeconds is <= 0 or > 86_400 || double.IsNaN(TimeoutSeconds))
        {
            yield return $"{name}:TimeoutSeconds must be above 0 and at most 86400, not {TimeoutSeconds}.";
        }
        if (MaxRetries is < 0 or > 10)
        {
            yield return $"{name}:MaxRetries must be between 0 and 10, not {MaxRetries}.";
        }
        if (MaxRetryDelaySeconds is < 0 or > 600 || double.IsNaN(MaxRetryDelaySeconds))
        {
            yield return $"{name}:MaxRetryDelaySeconds must be between 0 and 600, not {MaxRetryDelaySeconds}.";
        }
        if (Weight is < 0 || double.IsNaN(Weight) || double.IsInfinity(Weight))
        {
            yield return $"{name}:Weight must be 0 or more, not {Weight}.";
        }
        if (MaxConnections is < 1 or > 65_536)
        {
            yield return $"{name}:MaxConnections must be between 1 and 65536, not {MaxConnections}.";
        }
        if (MaxAnswerBytes is < 1024 or > MaxBytesLimit)
        {
            yield return $"{name}:MaxAnswerBytes must be between 1024 and {MaxBytesLimit}, not {MaxAnswerBytes}.";
        }
        if (MaxEventBytes is < 1024 or > MaxBytesLimit)
        {
            yield return $"{name}:MaxEventBytes must be between 1024 and {MaxBytesLimit}, not {MaxEventBytes}.";
        }
        foreach (var header in Headers.Keys)
        {
            if (header.Length == 0 || header.Any(c => c <= ' ' || c >= 127 || c == ':'))
            {
                yield return $"{name}:Headers has an invalid header name '{header}'.";
            }
        }
    }
}
