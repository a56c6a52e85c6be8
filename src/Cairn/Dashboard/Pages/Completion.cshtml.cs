using System.Text.Json;
using Cairn.Access;
using Cairn.Dashboard.Access;
using Cairn.Observability;
using Cairn.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Cairn.Dashboard.Pages;

/// <summary>One stored completion: the conversation, the answer, request parameters and usage; metadata editing and deletion.</summary>
internal sealed class CompletionModel(IDashboardStore dashboard, ICompletionStore store, IAccessStore access, ObservabilityOptions observability)
    : StoredObjectModel(access, observability)
{
    public CompletionDetail? Detail { get; private set; }

    public override string? TraceId => Detail?.TraceId;

    public IReadOnlyList<JsonElement> Messages { get; private set; } = [];

    /// <summary>The stored input messages whole, as a JSON array, isolated as <see cref="StoredObjectModel.OnGetJsonAsync"/>.</summary>
    public async Task<IActionResult> OnGetMessagesAsync(string id, CancellationToken cancellationToken)
    {
        if (await ReadAsync(DashboardViewer.Get(HttpContext).ProjectId, id, cancellationToken) is null)
        {
            return NotFound();
        }
        var json = new MemoryStream();
        json.WriteByte((byte)'[');
        for (var i = 0; i < Detail!.Messages.Count; i++)
        {
            if (i > 0)
            {
                json.WriteByte((byte)',');
            }
            json.Write(Detail.Messages[i]);
        }
        json.WriteByte((byte)']');
        json.Position = 0;
        return File(json, "application/json; charset=utf-8");
    }

    protected override string PagePath(string id) => $"/dashboard/completions/{Uri.EscapeDataString(id)}";

    protected override string ListPath(string deletedId) => "/dashboard?deleted=" + Uri.EscapeDataString(deletedId);

    protected override async Task<(long ProjectId, byte[] Body)?> ReadAsync(long? projectId, string id, CancellationToken cancellationToken)
    {
        Detail = await dashboard.GetAsync(projectId, id, cancellationToken);
        return Detail is null ? null : (Detail.ProjectId, Detail.Body);
    }

    protected override void Show() => Messages = [.. Detail!.Messages.Select(Parse)];

    protected override async Task<bool> UpdateMetadataAsync(long projectId, string id, IReadOnlyDictionary<string, string> metadata) =>
        await store.UpdateMetadataAsync(projectId, id, metadata, stored => StoredCompletionWriter.WithMetadata(stored, metadata), CancellationToken.None)
            is not null;

    protected override Task DeleteAsync(long projectId, string id) => store.DeleteAsync(projectId, id, CancellationToken.None);

    protected override void Forget() => Detail = null;
}
