namespace Cairn.Completions;

/// <summary>Registers the create pipelines of both APIs (the endpoints themselves are mapped by their <c>MapXxx</c>).</summary>
internal static class CompletionsServiceCollectionExtensions
{
    public static IServiceCollection AddCairnCompletions(this IServiceCollection services) =>
        services.AddSingleton<CreateStages>().AddSingleton<GenAiTelemetry>().AddSingleton<CreatePipeline>().AddSingleton<Responses.ResponsePipeline>();
}
