using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace Warren.WebConsole.Tests;

/// <summary>One Warren with the console (see <see cref="ConsoleServer"/>) and one headless Chromium for a whole test
/// class. Each test opens its own browser context (cookies, JavaScript on or off, viewport, colour scheme) with
/// <see cref="NewPageAsync"/>; every request a page makes is recorded so tests can check nothing left for another host.</summary>
public class ConsoleFixture : IAsyncLifetime
{
    /// <summary>The modules of the corpus stored: a public one (pkg/errors), private ones (golang.org/x, no grant for the reader).</summary>
    public static readonly string[] Modules =
    [
        "github.com/pkg/errors", "github.com/pkg/sftp", "github.com/google/go-cmp", "gopkg.in/yaml.v2",
        "golang.org/x/text", "golang.org/x/mod",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private ConsoleServer? _server;

    public ConsoleServer Server => _server ?? throw new InvalidOperationException("not started");

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("not started");

    /// <summary>Every URL requested by pages of this fixture's contexts.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Debian's Chromium: CHROMIUM_PATH, else chromium on the PATH. Missing is a failure that says how to get it.</summary>
    public static string ChromiumPath()
    {
        if (Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path && File.Exists(path))
        {
            return path;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "chromium");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("Chromium not found: run scripts/test.sh (it installs Debian's chromium with shared/services/chromium.sh) or set CHROMIUM_PATH");
    }

    public async Task InitializeAsync()
    {
        var server = StartServerAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(),
            Headless = true,
            // No component updates, no safe-browsing or other calls home: the air-gap test would see them.
            Args = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        _server = await server;
    }

    /// <summary>The Warren under test (started while the browser starts).</summary>
    protected virtual Task<ConsoleServer> StartServerAsync() => ConsoleServer.StartAsync(Modules);

    /// <summary>A page in a new context. Desktop is 1280×800, phone 390×844.</summary>
    public async Task<IPage> NewPageAsync(bool javaScript = true, bool phone = false, ColorScheme scheme = ColorScheme.Light)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.Url,
            JavaScriptEnabled = javaScript,
            ViewportSize = phone ? new ViewportSize { Width = 390, Height = 844 } : new ViewportSize { Width = 1280, Height = 800 },
            IsMobile = phone,
            ColorScheme = scheme,
            ReducedMotion = ReducedMotion.Reduce,
        });
        context.Request += (_, request) => Requests.Enqueue(request.Url);
        var page = await context.NewPageAsync();
        // Generous: on 2 cores shared with the other test projects, a navigation in one of several browsers can take
        // well over the usual few seconds; a real failure still fails, only later.
        page.SetDefaultTimeout(45_000);
        page.SetDefaultNavigationTimeout(45_000);
        Assertions.SetDefaultExpectTimeout(45_000);
        return page;
    }

    /// <summary>Signs in through the form; the page ends on where the sign-in sends it (the overview by default).</summary>
    public static async Task SignInAsync(IPage page, string token, string? returnTo = null)
    {
        await page.GotoAsync("/ui/signin" + (returnTo is null ? "" : "?return=" + Uri.EscapeDataString(returnTo)));
        await page.GetByLabel("Token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
    }

    /// <summary>The session cookie of a page's context ("warren_session=ID"), or null.</summary>
    public static async Task<string?> SessionCookieAsync(IPage page)
    {
        var cookies = await page.Context.CookiesAsync();
        return cookies.FirstOrDefault(c => c.Name == ConsoleSessionsCookie) is { } c ? c.Name + "=" + c.Value : null;
    }

    public const string ConsoleSessionsCookie = Sessions.ConsoleSessions.CookieName;

    public virtual async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
