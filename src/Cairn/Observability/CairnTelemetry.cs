using System.Diagnostics;
using System.Reflection;

namespace Cairn.Observability;

/// <summary>
/// Cairn's instrumentation: one <see cref="ActivitySource"/> and one meter, both named <see cref="Name"/>. Every
/// component that reports creates its instruments on <c>IMeterFactory.Create(CairnTelemetry.Name)</c> (one meter per
/// service provider) and starts its spans on <see cref="Source"/>; nothing costs more than a check while no listener
/// is attached (<c>Observability:Enabled=false</c>, or tracing without an OTLP endpoint).
/// </summary>
internal static class CairnTelemetry
{
    public const string Name = "Cairn";

    /// <summary>Cairn's version, as its resource and instrumentation scope report it.</summary>
    public static readonly string Version =
        typeof(CairnTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static readonly ActivitySource Source = new(Name, Version);

    /// <summary>Cairn's own attribute names (the GenAI conventions' are in <see cref="GenAi"/>).</summary>
    public const string ProjectAttribute = "cairn.project";

    /// <summary>Which API a request came by: <c>chat.completions</c> or <c>responses</c>.</summary>
    public const string ApiAttribute = "cairn.api";

    /// <summary>Which store a storage instrument reports on: <c>sqlite</c> or <c>postgresql</c>.</summary>
    public const string StoreAttribute = "cairn.store";
}

/// <summary>
/// Names from OpenTelemetry's semantic conventions for generative AI (<c>gen_ai.*</c>) and the general ones Cairn
/// reports beside them, with the histogram buckets the conventions advise.
/// </summary>
internal static class GenAi
{
    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string ResponseId = "gen_ai.response.id";
    public const string FinishReasons = "gen_ai.response.finish_reasons";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string TokenType = "gen_ai.token.type";
    public const string MaxTokens = "gen_ai.request.max_tokens";
    public const string Temperature = "gen_ai.request.temperature";
    public const string TopP = "gen_ai.request.top_p";
    public const string FrequencyPenalty = "gen_ai.request.frequency_penalty";
    public const string PresencePenalty = "gen_ai.request.presence_penalty";
    public const string Seed = "gen_ai.request.seed";
    public const string StopSequences = "gen_ai.request.stop_sequences";
    public const string ChoiceCount = "gen_ai.request.choice.count";
    public const string ConversationId = "gen_ai.conversation.id";
    public const string InputMessages = "gen_ai.input.messages";
    public const string OutputMessages = "gen_ai.output.messages";
    public const string SystemInstructions = "gen_ai.system_instructions";
    public const string ErrorType = "error.type";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";

    /// <summary>The operation Cairn serves on both APIs.</summary>
    public const string Chat = "chat";

    /// <summary>The setting (an environment variable or configuration key) that turns content capture on, as OpenTelemetry's GenAI instrumentations name it.</summary>
    public const string CaptureContentSetting = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

    /// <summary>Seconds, for <c>gen_ai.*.duration</c> and time to first token (the conventions' advice).</summary>
    public static readonly IReadOnlyList<double> DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    /// <summary>Seconds per output token.</summary>
    public static readonly IReadOnlyList<double> PerTokenBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];

    /// <summary>Tokens, for <c>gen_ai.client.token.usage</c>.</summary>
    public static readonly IReadOnlyList<long> TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
}
