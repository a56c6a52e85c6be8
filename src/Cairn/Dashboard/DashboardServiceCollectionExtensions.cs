using Cairn.Dashboard.Access;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc.ApplicationParts;

namespace Cairn.Dashboard;

/// <summary>Registers the web dashboard: its pages and its session cookie (its reads, <c>IDashboardStore</c> and <c>IResponseDashboard</c>, come with the store).</summary>
internal static class DashboardServiceCollectionExtensions
{
    public const string CookieName = "cairn_dashboard";

    /// <param name="keyRing">The folder of the key ring that encrypts sessions and antiforgery tokens (<see cref="DashboardKeyRing"/>).</param>
    public static IServiceCollection AddCairnDashboard(this IServiceCollection services, string keyRing)
    {
        // A fixed application name, so instances installed in different folders that share the ring read each other's sessions.
        services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(keyRing)).SetApplicationName("Cairn");
        services.AddHostedService(sp => new DashboardKeyRing(keyRing, sp.GetRequiredService<ILogger<DashboardKeyRing>>()));
        services.AddSingleton<DashboardSessions>();
        services.AddSingleton<DashboardAccessFilter>();
        services.AddAuthentication().AddCookie(DashboardSessions.Scheme, options =>
        {
            options.Cookie.Name = CookieName;
            options.Cookie.Path = "/dashboard";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            // Secure whenever the dashboard is served over HTTPS; on plain loopback HTTP a Secure cookie would not be sent back.
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.ExpireTimeSpan = TimeSpan.FromHours(12);
            options.SlidingExpiration = true;
            options.LoginPath = "/dashboard/sign-in";
            options.Events = new CookieAuthenticationEvents
            {
                // Pages redirect to the sign-in page themselves (DashboardAccessFilter); the handler never answers for them.
                OnRedirectToLogin = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                },
            };
        });
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "cairn_antiforgery";
            options.Cookie.Path = "/dashboard";
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddRazorPages(options => options.RootDirectory = "/Dashboard/Pages")
            .AddMvcOptions(options => options.Filters.AddService<DashboardAccessFilter>())
            .ConfigureApplicationPartManager(parts =>
            {
                // The pages are found in the entry assembly, which is Cairn's only when Cairn is the program (not
                // when a test host or another program builds the app).
                var assembly = typeof(DashboardServiceCollectionExtensions).Assembly;
                if (!parts.ApplicationParts.OfType<AssemblyPart>().Any(p => p.Assembly == assembly))
                {
                    foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                    {
                        parts.ApplicationParts.Add(part);
                    }
                }
            });
        return services;
    }
}
