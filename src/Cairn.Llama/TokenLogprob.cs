namespace Cairn.Llama;

/// <summary>A token with its log probability (natural log) and raw bytes, and its most likely alternatives.</summary>
internal sealed record TokenLogprob(string Token, float Logprob, byte[] Bytes, IReadOnlyList<TokenLogprob> TopLogprobs);
