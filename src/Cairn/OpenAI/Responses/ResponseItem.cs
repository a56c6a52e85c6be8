using System.Text.Json;

namespace Cairn.OpenAI.Responses;

/// <summary>One item of a response (input or output) in its stored shape: its id and its JSON.</summary>
internal sealed record ResponseItem(string Id, byte[] Json)
{
    /// <summary>
    /// For an input item, the client's element it was made from (valid while its request lives): what the model is
    /// sent, image URLs and file data intact, where <see cref="Json"/> keeps only what OpenAI keeps. Null otherwise.
    /// </summary>
    public JsonElement? Sent { get; init; }
}
