using Cairn.Storage;
using System.Globalization;
using Cairn.Access;
using Cairn.Dashboard.Access;
using Cairn.Export;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cairn.Dashboard.Pages;

/// <summary>
/// The list's current filter as a JSONL download (fine-tuning lines or raw stored objects), streamed from the store
/// a batch at a time by the exporter, so a download of millions starts at once and holds little memory. It exports
/// stored completions unless <c>objects=responses</c> (or <c>all</c>) says otherwise.
/// </summary>
internal sealed class ExportModel(StoreExporter exporter, IAccessStore access, TimeProvider clock) : PageModel
{
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        var viewer = DashboardViewer.Get(HttpContext);
        var query = ListQuery.Read(Request.Query);
        var format = Request.Query["format"].ToString() switch
        {
            "raw" => ExportFormat.Raw,
            "finetune" or "" => ExportFormat.FineTune,
            _ => (ExportFormat?)null,
        };
        var objects = Request.Query["objects"].ToString() switch
        {
            "completions" or "" => ExportObjects.Completions,
            "responses" => ExportObjects.Responses,
            "all" => ExportObjects.All,
            _ => (ExportObjects?)null,
        };
        long? projectId = viewer.ProjectId;
        var scope = viewer.Label;
        if (viewer.IsAdmin)
        {
            scope = "all";
            if (query.Project is { } name)
            {
                projectId = (await access.FindProjectAsync(name, cancellationToken))?.Id;
                scope = name;
                if (projectId is null)
                {
                    return Refuse($"There is no project named '{name}'.");
                }
            }
        }
        var (filter, problems) = (viewer.IsAdmin ? query : query with { Project = null }).ToFilter(projectId);
        if (format is null)
        {
            return Refuse("Unknown format: use format=finetune or format=raw.");
        }
        if (objects is null)
        {
            return Refuse("Unknown objects: use objects=completions, objects=responses or objects=all.");
        }
        if (filter is null)
        {
            return Refuse(string.Join(" ", problems));
        }
        if (filter.Text is not null)
        {
            return Refuse("Exports filter by project, model, metadata and time; remove the text search to export.");
        }
        var stamp = clock.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var kind = objects switch { ExportObjects.Responses => "responses-", ExportObjects.All => "all-", _ => "" };
        var file = $"cairn-{Safe(scope)}-{kind}{(format == ExportFormat.Raw ? "raw" : "finetune")}-{stamp}.jsonl";
        Response.ContentType = "application/jsonl; charset=utf-8";
        Response.Headers.ContentDisposition = $"attachment; filename=\"{file}\"";
        HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await exporter.WriteAsync(new ExportFilter(filter.ProjectId, filter.Model, filter.Metadata, filter.From, filter.To) { Objects = objects.Value }, format.Value,
            Response.Body, null, cancellationToken);
        return new EmptyResult();
    }

    private PageResult Refuse(string problem)
    {
        Problem = problem;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private static string Safe(string name) => new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
}
