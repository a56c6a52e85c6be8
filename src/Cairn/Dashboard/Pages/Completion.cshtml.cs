using System.Text.Json;
using Cairn.Dashboard.Access;
using Cairn.OpenAI;
using Cairn.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cairn.Dashboard.Pages;

/// <summary>One stored completion: the conversation, the answer, request parameters and usage; metadata editing and deletion.</summary>
internal sealed class CompletionModel(IDashboardStore dashboard, ICompletionStore store, IAccessStore access) : PageModel
{
    public string Id { get; private set; } = "";

    public CompletionDetail? Detail { get; private set; }

    /// <summary>The stored object.</summary>
    public JsonElement Body { get; private set; }

    public IReadOnlyList<JsonElement> Messages { get; private set; } = [];

    public string? ProjectName { get; private set; }

    public DashboardViewer Viewer { get; private set; } = null!;

    public bool Saved { get; private set; }

    /// <summary>How much of the completion's texts the page shows.</summary>
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

    /// <summary>The stored input messages whole, as a JSON array, isolated as <see cref="OnGetJsonAsync"/>.</summary>
    public async Task<IActionResult> OnGetMessagesAsync(string id, CancellationToken cancellationToken)
    {
        Viewer = DashboardViewer.Get(HttpContext);
        if (await dashboard.GetAsync(Viewer.ProjectId, id, cancellationToken) is not { } detail)
        {
            return NotFound();
        }
        var json = new MemoryStream();
        json.WriteByte((byte)'[');
        for (var i = 0; i < detail.Messages.Count; i++)
        {
            if (i > 0)
            {
                json.WriteByte((byte)',');
            }
            json.Write(detail.Messages[i]);
        }
        json.WriteByte((byte)']');
        json.Position = 0;
        return File(json, "application/json; charset=utf-8");
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
        var updated = await store.UpdateMetadataAsync(Detail!.ProjectId, id, metadata, stored => StoredCompletionWriter.WithMetadata(stored, metadata), CancellationToken.None);
        if (updated is null)
        {
            Detail = null;
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        return Redirect($"/dashboard/completions/{Uri.EscapeDataString(id)}?saved=1");
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id)
    {
        if (!await LoadAsync(id, HttpContext.RequestAborted))
        {
            return Page();
        }
        await store.DeleteAsync(Detail!.ProjectId, id, CancellationToken.None);
        return Redirect("/dashboard?deleted=" + Uri.EscapeDataString(id));
    }

    /// <summary>Finds the completion in the viewer's project (any project for the admin); another project's id is answered as an unknown one.</summary>
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
        var body = JsonDocument.Parse(Detail.Body, JsonBody.Stored);
        Response.RegisterForDispose(body);
        Body = body.RootElement;
        var messages = new List<JsonElement>(Detail.Messages.Count);
        foreach (var item in Detail.Messages)
        {
            var message = JsonDocument.Parse(item, JsonBody.Stored);
            Response.RegisterForDispose(message);
            messages.Add(message.RootElement);
        }
        Messages = messages;
        Metadata = MetadataForm.Of(Body);
        if (Viewer.IsAdmin)
        {
            ProjectName = (await access.ListProjectsAsync(cancellationToken)).FirstOrDefault(p => p.Id == Detail.ProjectId)?.Name;
        }
        return true;
    }
}
