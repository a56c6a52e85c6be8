namespace Cairn.OpenAI.Responses;

/// <summary>One item of a response (input or output) in its stored shape: its id and its JSON.</summary>
internal sealed record ResponseItem(string Id, byte[] Json);
