namespace Cairn.Storage;

/// <summary>Projects own stored completions and API keys; a key picks its project, and a request without a key (authentication off) uses the default.</summary>
internal static class Projects
{
    public const long Default = 1;

    /// <summary>The default project's name as the schema creates it.</summary>
    public const string DefaultName = "Default project";
}
