using System.Text.Json;
using Cairn.Access;
using Cairn.Dashboard.Access;
using Cairn.Observability;
using Cairn.OpenAI;
using Cairn.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cairn.Dashboard.Pages;

/// <summary>
/// One stored object's page (a completion, a response) in the viewer's project (any project for the admin; another
/// project's id is answered as an unknown one): its stored JSON parsed once, the metadata form, and the two writes
/// the page offers, metadata (replacing the whole map, in the stored object too) and deletion.
/// </summary>
internal abstract class StoredObjectModel(IAccessStore access, ObservabilityOptions observability) : PageModel
{
    public string Id { get; private set; } = "";

    /// <summary>The stored object.</summary>
    public JsonElement Body { get; private set; }

    public string? ProjectName { get; private set; }

    public DashboardViewer Viewer { get; private set; } = null!;

    public bool Saved { get; private set; }

    /// <summary>How much of the object's texts the page shows.</summary>
    public ShownText Shown { get; } = new();

    /// <summary>The metadata form: what was posted when it was refused, else what is stored.</summary>
    public MetadataForm Metadata { get; private set; } = new([]);

    /// <summary>The W3C trace id of the request that stored the object, when its trace was recorded.</summary>
    public abstract string? TraceId { get; }

    /// <summary>The trace in the operator's tracing UI (<c>Observability:TraceLink</c> with the id in it), when both are known.</summary>
    public string? TraceUrl => TraceId is { } id && observability.TraceLink is { Length: > 0 } link
        ? link.Replace("{traceId}", Uri.EscapeDataString(id), StringComparison.Ordinal)
        : null;

    /// <summary>The page of the object with this id (<c>/dashboard/…/{id}</c>).</summary>
    protected abstract string PagePath(string id);

    /// <summary>Where a deletion goes back to, with the deleted id.</summary>
    protected abstract string ListPath(string deletedId);

    /// <summary>Reads the object in the project (any for the admin): its project and stored JSON, or null when it is none of them.</summary>
    protected abstract Task<(long ProjectId, byte[] Body)?> ReadAsync(long? projectId, string id, CancellationToken cancellationToken);

    /// <summary>Replaces the metadata (the stored JSON's too); false when the object is gone.</summary>
    protected abstract Task<bool> UpdateMetadataAsync(long projectId, string id, IReadOnlyDictionary<string, string> metadata);

    protected abstract Task DeleteAsync(long projectId, string id);

    /// <summary>Parses, for the page, what it shows beyond the stored object (its messages, its chain's items).</summary>
    protected abstract void Show();

    /// <summary>Forgets what was read (the object went away meanwhile).</summary>
    protected abstract void Forget();

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
        return await ReadAsync(Viewer.ProjectId, id, cancellationToken) is { } found
            ? File(found.Body, "application/json; charset=utf-8")
            : NotFound();
    }

    public async Task<IActionResult> OnPostMetadataAsync(string id, [FromForm(Name = "key")] string[] keys, [FromForm(Name = "value")] string[] values)
    {
        if (await LoadAsync(id, HttpContext.RequestAborted) is not { } projectId)
        {
            return Page();
        }
        (var metadata, Metadata) = MetadataForm.Read(keys, values, Metadata);
        if (metadata is null)
        {
            return Page();
        }
        if (!await UpdateMetadataAsync(projectId, id, metadata))
        {
            Forget();
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        return Redirect(PagePath(id) + "?saved=1");
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id)
    {
        if (await LoadAsync(id, HttpContext.RequestAborted) is not { } projectId)
        {
            return Page();
        }
        await DeleteAsync(projectId, id);
        return Redirect(ListPath(id));
    }

    /// <summary>Reads the object for the page; its project, or null (and a 404) when it is unknown here.</summary>
    private async Task<long?> LoadAsync(string id, CancellationToken cancellationToken)
    {
        Viewer = DashboardViewer.Get(HttpContext);
        Id = id;
        if (await ReadAsync(Viewer.ProjectId, id, cancellationToken) is not { } found)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return null;
        }
        Body = Parse(found.Body);
        Metadata = MetadataForm.Of(Body);
        Show();
        if (Viewer.IsAdmin)
        {
            ProjectName = (await access.ListProjectsAsync(cancellationToken)).FirstOrDefault(p => p.Id == found.ProjectId)?.Name;
        }
        return found.ProjectId;
    }

    /// <summary>Parses stored JSON for the page, disposed with the response.</summary>
    protected JsonElement Parse(byte[] json)
    {
        var document = JsonDocument.Parse(json, JsonBody.Stored);
        Response.RegisterForDispose(document);
        return document.RootElement;
    }
}
