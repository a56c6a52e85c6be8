using Cairn.Storage;

namespace Cairn.Access;

/// <summary>Who is calling: the project a request acts in and, with authentication on, the key's grant.</summary>
internal sealed record Caller(long ProjectId, KeyGrant? Grant)
{
    /// <summary>With authentication off, everyone acts in the default project.</summary>
    public static readonly Caller Anonymous = new(Projects.Default, null);

    /// <summary>Whether the key may use a model (a key without a model list may use every model).</summary>
    public bool Allows(string model) => Grant?.Models is not { } models || models.Contains(model, StringComparer.Ordinal);
}
