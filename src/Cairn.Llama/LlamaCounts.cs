namespace Cairn.Llama;

/// <summary>
/// A model's engine at one moment: sequences holding a slot (<see cref="Active"/>) and queued for one
/// (<see cref="Waiting"/>); prompt tokens decoded and answer tokens generated since it was loaded (only ever grow).
/// </summary>
internal readonly record struct LlamaCounts(int Active, int Waiting, long PromptTokens, long GeneratedTokens);
