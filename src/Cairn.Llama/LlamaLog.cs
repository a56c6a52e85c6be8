using Microsoft.Extensions.Logging;

namespace Cairn.Llama;

/// <summary>The engine's log lines. Prompt and completion text never appear in them.</summary>
internal static partial class LlamaLog
{
    [LoggerMessage(EventId = 7001, Message = "llama.cpp: {Message}")]
    public static partial void Native(ILogger logger, LogLevel level, string message);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Loaded {Path}: {Parameters} parameters, context {ContextSize} tokens x {Sequences} sequences, {Threads} threads, chat template {Template}")]
    public static partial void Loaded(ILogger logger, string path, ulong parameters, int contextSize, int sequences, int threads, string template);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Error, Message = "The scheduling loop of {Path} failed; its requests were ended with an error")]
    public static partial void LoopFailed(ILogger logger, string path, Exception exception);
}
