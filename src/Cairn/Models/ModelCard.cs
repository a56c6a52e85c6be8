namespace Cairn.Models;

/// <summary>A model as <c>GET /v1/models</c> lists it, with the source that answers for it.</summary>
internal sealed record ModelCard(string Id, long Created, string OwnedBy, IChatSource Source)
{
    /// <summary>What answers its responses when its upstream speaks the Responses API itself; null when they go through <see cref="Source"/>.</summary>
    public IResponseSource? Responses { get; init; }

    /// <summary>Who answers, as the GenAI conventions' <c>gen_ai.provider.name</c> says it (<see cref="ProviderNames"/>).</summary>
    public string Provider { get; init; } = ProviderNames.Cairn;
}

/// <summary>The <c>gen_ai.provider.name</c> of each kind of model source: the conventions' own where they name one.</summary>
internal static class ProviderNames
{
    public const string Cairn = "cairn";

    public static string Of(string provider) => provider switch
    {
        ModelOptions.OpenAI => "openai",
        ModelOptions.Azure => "azure.ai.openai",
        ModelOptions.Llama => "llama.cpp",
        _ => Cairn,
    };
}
