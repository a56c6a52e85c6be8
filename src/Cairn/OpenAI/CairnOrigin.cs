using System.Text.Json.Serialization;

namespace Cairn.OpenAI;

/// <summary>The <c>cairn</c> object of a proxied completion: which provider and deployment answered, and where its usage came from.</summary>
internal sealed record CairnOrigin
{
    public required string Provider { get; init; }

    public required string Deployment { get; init; }

    public required string UpstreamModel { get; init; }

    /// <summary>The upstream's own completion id (Cairn serves its own).</summary>
    public string? UpstreamId { get; init; }

    /// <summary><see cref="UsageSources.Upstream"/> or <see cref="UsageSources.Counted"/>.</summary>
    public required string UsageSource { get; init; }

    /// <summary>The encoding Cairn counted usage with, when it counted.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UsageTokenizer { get; init; }
}

/// <summary>Where a proxied completion's usage came from.</summary>
internal static class UsageSources
{
    public const string Upstream = "upstream";

    public const string Counted = "counted";
}
