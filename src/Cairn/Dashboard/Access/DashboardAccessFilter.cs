using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Cairn.Dashboard.Access;

/// <summary>
/// Runs before every dashboard page: finds the viewer, sends anyone without a session to the sign-in page, and
/// sets the headers that keep the pages to Cairn's own assets (no CDN, no network, no framing).
/// </summary>
internal sealed class DashboardAccessFilter(DashboardSessions sessions) : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var http = context.HttpContext;
        DashboardHeaders.Set(http.Response);
        var viewer = await sessions.FindAsync(http);
        if (viewer is not null)
        {
            DashboardViewer.Set(http, viewer);
        }
        else if (context.HandlerInstance is not Pages.SignInModel)
        {
            var back = http.Request.Path + http.Request.QueryString;
            context.Result = new RedirectResult("/dashboard/sign-in?return=" + Uri.EscapeDataString(back));
            return;
        }
        await next();
    }
}
