namespace Cairn.Storage;

/// <summary>Projects own stored completions. Until API keys pick one per request, every request uses the default.</summary>
internal static class Projects
{
    public const long Default = 1;
}
