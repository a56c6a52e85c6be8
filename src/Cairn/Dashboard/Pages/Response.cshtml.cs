using System.Text.Json;
using Cairn.Dashboard.Access;
using Cairn.OpenAI;
using Cairn.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cairn.Dashboard.Pages;

/// <summary>
/// One stored response: its chain as a conversation (the items of the responses it continued, its own input, its
/// output), its status, usage and request parameters; metadata editing and deletion.
/// </summary>
internal sealed class ResponseModel(IResponseDashboard dashboard, IResponseStore store, IAccessStore access) : PageModel
{
    public string Id { get; private set; } = "";

    public ResponseDetail? Detail { get; private set; }

    /// <summary>The stored object.</summary>
    public JsonElement Body { get; private set; }

    /// <summary>The chain's items, oldest first, each parsed.</summary>
    public IReadOnlyList<(ChainItem Item, JsonElement Json)> Items { get; private set; } = [];

    public string? ProjectName { get; private set; }

    public DashboardViewer Viewer { get; private set; } = null!;

    public bool Saved { get; private set; }

    /// <summary>How much of the response's texts the page shows.</summary>
    public ShownText Shown { get; } = new();

    /// <summary>The metadata form: what was posted when it was refused, else what is stored.</summary>
    public MetadataForm Metadata { get; private set; } = new([]);

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        Saved = Request.Query.ContainsKey("saved");
        await LoadAsync(id, cancellationToken);
        return Page();
    }

    /// <summary>The stored object whole, as JSON (the page shows texts cut), with the page's isolation: another project's id is unknown.</summary>
    public async Task<IActionResult> OnGetJsonAsync(string id, CancellationToken cancellationToken)
    {
        Viewer = DashboardViewer.Get(HttpContext);
        return await dashboard.GetAsync(Viewer.ProjectId, id, cancellationToken) is { } detail
            ? File(detail.Body, "application/json; charset=utf-8")
            : NotFound();
    }

    public async Task<IActionResult> OnPostMetadataAsync(string id, [FromForm(Name = "key")] string[] keys, [FromForm(Name = "value")] string[] values)
    {
        if (!await LoadAsync(id, HttpContext.RequestAborted))
        {
            return Page();
        }
        (var metadata, Metadata) = MetadataForm.Read(keys, values, Metadata);
        if (metadata is null)
        {
            return Page();
        }
        // The stored object's metadata too, so GET /v1/responses/{id} answers with the new map.
        var updated = await store.UpdateMetadataAsync(Detail!.ProjectId, id, metadata, stored => StoredCompletionWriter.WithMetadata(stored, metadata), CancellationToken.None);
        if (updated is null)
        {
            Detail = null;
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        return Redirect($"/dashboard/responses/{Uri.EscapeDataString(id)}?saved=1");
    }

    /// <summary>Deletes through the store, so the responses that continued this one keep their whole context.</summary>
    public async Task<IActionResult> OnPostDeleteAsync(string id)
    {
        if (!await LoadAsync(id, HttpContext.RequestAborted))
        {
            return Page();
        }
        await store.DeleteAsync(Detail!.ProjectId, id, CancellationToken.None);
        return Redirect("/dashboard/responses?deleted=" + Uri.EscapeDataString(id));
    }

    /// <summary>Finds the response in the viewer's project (any project for the admin); another project's id is answered as an unknown one.</summary>
    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        Viewer = DashboardViewer.Get(HttpContext);
        Id = id;
        Detail = await dashboard.GetAsync(Viewer.ProjectId, id, cancellationToken);
        if (Detail is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return false;
        }
        Body = Parse(Detail.Body);
        Items = [.. Detail.Items.Select(item => (item, Parse(item.Body)))];
        Metadata = MetadataForm.Of(Body);
        if (Viewer.IsAdmin)
        {
            ProjectName = (await access.ListProjectsAsync(cancellationToken)).FirstOrDefault(p => p.Id == Detail.ProjectId)?.Name;
        }
        return true;
    }

    private JsonElement Parse(byte[] json)
    {
        var document = JsonDocument.Parse(json, JsonBody.Stored);
        Response.RegisterForDispose(document);
        return document.RootElement;
    }
}
