using System.Text.Json;
using Cairn.Access;
using Cairn.Observability;
using Cairn.Storage;

namespace Cairn.Dashboard.Pages;

/// <summary>
/// One stored response: its chain as a conversation (the items of the responses it continued, its own input, its
/// output), its status, usage and request parameters; metadata editing and deletion.
/// </summary>
internal sealed class ResponseModel(IResponseDashboard dashboard, IResponseStore store, IAccessStore access, ObservabilityOptions observability)
    : StoredObjectModel(access, observability)
{
    public ResponseDetail? Detail { get; private set; }

    public override string? TraceId => Detail?.TraceId;

    /// <summary>The chain's items, oldest first, each parsed.</summary>
    public IReadOnlyList<(ChainItem Item, JsonElement Json)> Items { get; private set; } = [];

    protected override string PagePath(string id) => $"/dashboard/responses/{Uri.EscapeDataString(id)}";

    protected override string ListPath(string deletedId) => "/dashboard/responses?deleted=" + Uri.EscapeDataString(deletedId);

    protected override async Task<(long ProjectId, byte[] Body)?> ReadAsync(long? projectId, string id, CancellationToken cancellationToken)
    {
        Detail = await dashboard.GetAsync(projectId, id, cancellationToken);
        return Detail is null ? null : (Detail.ProjectId, Detail.Body);
    }

    protected override void Show() => Items = [.. Detail!.Items.Select(item => (item, Parse(item.Body)))];

    /// <summary>The stored object's metadata too, so <c>GET /v1/responses/{id}</c> answers with the new map.</summary>
    protected override async Task<bool> UpdateMetadataAsync(long projectId, string id, IReadOnlyDictionary<string, string> metadata) =>
        await store.UpdateMetadataAsync(projectId, id, metadata, stored => StoredCompletionWriter.WithMetadata(stored, metadata), CancellationToken.None)
            is not null;

    /// <summary>Deletes through the store, so the responses that continued this one keep their whole context.</summary>
    protected override Task DeleteAsync(long projectId, string id) => store.DeleteAsync(projectId, id, CancellationToken.None);

    protected override void Forget() => Detail = null;
}
