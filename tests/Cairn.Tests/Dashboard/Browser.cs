using Microsoft.Playwright;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// Headless Chromium from Debian's packages (<c>apt-get install chromium</c>), driven by Playwright; nothing is
/// downloaded. Screenshots go to the folder in <c>CAIRN_DASHBOARD_SCREENSHOTS</c> when it is set (docs/ for the README).
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? playwright;

    public IBrowser Chromium { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"The browser tests need Debian's Chromium at {ChromiumPath}: apt-get install chromium (.ci/run installs it).");
        }
        playwright = await Playwright.CreateAsync();
        Chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // As root (CI) Chromium runs only without its sandbox; /dev/shm may be small in containers.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    public async Task<IPage> NewPageAsync(Uri baseUrl)
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = 1360, Height = 900 },
            AcceptDownloads = true,
        });
        // Generous: CI runs the browser beside the whole suite on two cores.
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    /// <summary>Clicks something that loads a new page and waits for that page (a URL check alone can match the old one).</summary>
    public static Task ClickToNavigateAsync(IPage page, string selector) => ClickToNavigateAsync(page, page.Locator(selector));

    /// <inheritdoc cref="ClickToNavigateAsync(IPage, string)"/>
    public static Task ClickToNavigateAsync(IPage page, ILocator target) =>
        // Playwright's own wait after a click ("waiting for scheduled navigations") can stall on a form's POST (it did
        // once in CI); the mark below is what tells that the new page has loaded. The option is marked obsolete only
        // because it is to become the default.
#pragma warning disable CS0612
        NavigateAsync(page, () => target.ClickAsync(new LocatorClickOptions { NoWaitAfter = true }));
#pragma warning restore CS0612

    /// <summary>Marks the current document, acts, and waits until a document without the mark has loaded.</summary>
    public static async Task NavigateAsync(IPage page, Func<Task> act)
    {
        await page.EvaluateAsync("() => { window.cairnOldPage = true; }");
        await act();
        await page.WaitForFunctionAsync("() => window.cairnOldPage === undefined && document.readyState !== 'loading'");
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("CAIRN_DASHBOARD_SCREENSHOTS") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"dashboard-{name}.png"), FullPage = true });
        }
    }

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.DisposeAsync();
        }
        playwright?.Dispose();
    }
}
