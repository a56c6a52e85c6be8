namespace Cairn.Models;

/// <summary>
/// A model id (or pattern) from the model list with its entries, in configuration order: one for a local model
/// (<c>echo</c>, <c>llama</c>), one per deployment for an upstream (<c>openai</c>, <c>azure</c>).
/// </summary>
internal sealed record ConfiguredModel(string Id, IReadOnlyList<ModelEntry> Entries)
{
    /// <summary>The first entry's name (e.g. <c>Models:2</c>): the key its <see cref="IChatSource"/> is registered under.</summary>
    public string Entry => Entries[0].Name;

    public string Provider => Entries[0].Options.Provider!;

    public bool IsUpstream => Provider is ModelOptions.OpenAI or ModelOptions.Azure;

    /// <summary>Whether responses go to the upstream's own Responses API (<c>ResponsesApi: native</c>) rather than through its chat.</summary>
    public bool RelaysResponses => IsUpstream && Entries[0].Options.ResponsesApi == ModelOptions.NativeApi;
}

/// <summary>One entry of the model list: where it sits (e.g. <c>Models:2</c>) and what it says.</summary>
internal sealed record ModelEntry(string Name, ModelOptions Options);
