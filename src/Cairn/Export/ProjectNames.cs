using Cairn.Storage;

namespace Cairn.Export;

/// <summary>Project names by id, for raw lines: read once per export, and again when a project made since is met.</summary>
internal sealed class ProjectNames(IAccessStore access)
{
    private Dictionary<long, string> names = [];

    public async ValueTask<string> GetAsync(long projectId, CancellationToken cancellationToken)
    {
        if (!names.TryGetValue(projectId, out var name))
        {
            names = (await access.ListProjectsAsync(cancellationToken)).ToDictionary(p => p.Id, p => p.Name);
            name = names.GetValueOrDefault(projectId) ?? throw new InvalidOperationException($"Stored objects refer to project {projectId}, which does not exist.");
        }
        return name;
    }
}
