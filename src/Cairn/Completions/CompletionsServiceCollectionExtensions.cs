namespace Cairn.Completions;

/// <summary>Registers the create pipeline (the endpoints themselves are mapped by their <c>MapXxx</c>).</summary>
internal static class CompletionsServiceCollectionExtensions
{
    public static IServiceCollection AddCairnCompletions(this IServiceCollection services) => services.AddSingleton<CreatePipeline>();
}
