namespace Cairn.Models;

/// <summary>Loads the tokenizer's vocabulary in the background at start, so the first request does not wait for it.</summary>
internal sealed class TokenizerWarmup(TokenCounter tokens) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(tokens.Warm, stoppingToken);
}
