namespace Cairn.OpenAI;

/// <summary>Where a proxied completion came from, as its stored record tells it (no URL secrets, no key).</summary>
internal sealed record ProxyRecord(string Provider, string Deployment, string UpstreamModel)
{
    /// <summary>The encoding Cairn counted usage with, when the upstream gave none.</summary>
    public string? Tokenizer { get; init; }
}
