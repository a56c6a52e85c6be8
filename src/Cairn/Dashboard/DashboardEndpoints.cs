using System.Reflection;
using Cairn.Dashboard.Access;

namespace Cairn.Dashboard;

/// <summary>Maps the dashboard's pages under <c>/dashboard</c> and its stylesheet and icon, served from the assembly (it has no script).</summary>
internal static class DashboardEndpoints
{
    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseAuthentication();
        app.MapRazorPages();
        app.MapGet("/dashboard/assets/{name}", Asset);
        return app;
    }

    private static readonly Dictionary<string, (byte[] Bytes, string Type)> Assets = Load();

    private static IResult Asset(string name, HttpResponse response)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            return Results.NotFound();
        }
        response.Headers.CacheControl = "public, max-age=300";
        DashboardHeaders.Set(response);
        return Results.Bytes(asset.Bytes, asset.Type);
    }

    private static Dictionary<string, (byte[], string)> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        const string Prefix = "Cairn.Dashboard.Assets.";
        var assets = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var name = resource[Prefix.Length..];
            var type = name.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8"
                : name.EndsWith(".svg", StringComparison.Ordinal) ? "image/svg+xml" : "application/octet-stream";
            assets[name] = (copy.ToArray(), type);
        }
        return assets;
    }
}
