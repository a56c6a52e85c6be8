using System.Globalization;
using Cairn.Access;
using Cairn.Dashboard.Access;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cairn.Dashboard.Pages;

/// <summary>The sign-in form: an API key shows its project, the admin key every project.</summary>
internal sealed class SignInModel(DashboardSessions sessions, FailedAuthThrottle throttle) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "return")]
    public string? ReturnTo { get; set; }

    [BindProperty]
    public string? Key { get; set; }

    public string? Error { get; private set; }

    public IActionResult OnGet() =>
        // With authentication off (no keys yet) there is nothing to sign in to; the dashboard shows the default project.
        // A signed-in viewer goes on to the dashboard too.
        DashboardViewer.Find(HttpContext) is null ? Page() : Redirect(SafeReturn());

    public async Task<IActionResult> OnPostAsync()
    {
        var key = Key?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            Error = "Enter an API key or the admin key.";
            return Page();
        }
        if (throttle.Blocked(HttpContext) is { } wait)
        {
            // Answered before the key is looked at, so a right guess among the refused ones tells nothing.
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = wait.ToString(CultureInfo.InvariantCulture);
            Error = $"Too many wrong keys were tried from your address. Try again in {wait.ToString(CultureInfo.InvariantCulture)} s.";
            Key = null;
            return Page();
        }
        if (!await sessions.SignInAsync(HttpContext, key))
        {
            throttle.Failed(HttpContext);
            Error = "That key is not a valid API key or the admin key. It may have been revoked.";
            Key = null;
            return Page();
        }
        return Redirect(SafeReturn());
    }

    public async Task<IActionResult> OnPostSignOutAsync()
    {
        await DashboardSessions.SignOutAsync(HttpContext);
        return Redirect("/dashboard/sign-in");
    }

    /// <summary>
    /// Only a path of this dashboard, written in plain printable ASCII (it goes into a Location header): never another
    /// site (an open redirect), never a path that leaves the dashboard, and anything else goes to the dashboard's home.
    /// </summary>
    internal static string SafeReturn(string? path) =>
        path is { Length: > 0 and <= MaxReturnLength }
            && (path == "/dashboard" || path.StartsWith("/dashboard/", StringComparison.Ordinal) || path.StartsWith("/dashboard?", StringComparison.Ordinal))
            && !path.StartsWith("/dashboard/sign-in", StringComparison.Ordinal)
            && path.All(c => c is > ' ' and < '\x7f' and not '\\')
            && !path.Contains("//", StringComparison.Ordinal)
            && !path.Contains("/.", StringComparison.Ordinal)
            && !path.Contains("%2e", StringComparison.OrdinalIgnoreCase)
            && !path.Contains("%2f", StringComparison.OrdinalIgnoreCase)
            && !path.Contains("%5c", StringComparison.OrdinalIgnoreCase)
            ? path
            : "/dashboard";

    private const int MaxReturnLength = 2048;

    private string SafeReturn() => SafeReturn(ReturnTo);
}
