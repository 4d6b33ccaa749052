using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Warren.WebConsole.Tests;

/// <summary>Every page, at 1280 px and 390 px, light and dark: no serious or critical accessibility violation (axe-core),
/// no request for any host but Warren's, and a screenshot (written to docs/ui/ when WARREN_UI_SCREENSHOTS=1).</summary>
public sealed class PagesTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    /// <summary>(file name, path, signed in).</summary>
    public static readonly (string Name, string Path, bool SignedIn)[] Pages =
    [
        ("signin", "/ui/signin", false),
        ("overview", "/ui", true),
        ("modules", "/ui/modules?q=github.com", true),
        ("module", "/ui/modules/github.com/pkg/errors", true),
        ("version", "/ui/modules/github.com/pkg/errors/@v/v0.9.1", true),
        ("not-found", "/ui/modules/github.com/no/such", true),
    ];

    [Fact]
    public async Task EveryPage_IsAccessible_LoadsNothingFromElsewhere_AndIsPhotographed()
    {
        // Some traffic and an error for the overview's charts and error list.
        await fixture.Server.GetAsync("github.com/pkg/errors/@v/v0.9.1.info", bearer: fixture.Server.AdminToken);
        await fixture.Server.GetAsync("github.com/pkg/errors/@v/v0.0.0-nosuch.info", bearer: fixture.Server.AdminToken);

        var outDir = Environment.GetEnvironmentVariable("WARREN_UI_SCREENSHOTS") == "1"
            ? Path.Combine(TestPaths.RepoRoot, "docs", "ui")
            : TestPaths.NewTempDir("screenshots");
        Directory.CreateDirectory(outDir);
        var problems = new List<string>();
        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            foreach (var phone in new[] { false, true })
            {
                var page = await fixture.NewPageAsync(javaScript: true, phone: phone, scheme: scheme);
                var requested = new List<string>();
                page.Request += (_, r) => requested.Add(r.Url);
                await ConsoleFixture.SignInAsync(page, fixture.Server.AdminToken);
                await page.Context.ClearCookiesAsync();
                foreach (var (name, path, signedIn) in Pages)
                {
                    if (signedIn && await ConsoleFixture.SessionCookieAsync(page) is null)
                    {
                        await ConsoleFixture.SignInAsync(page, fixture.Server.AdminToken);
                    }

                    var response = await page.GotoAsync(path);
                    Assert.Equal(name == "not-found" ? 404 : 200, response!.Status);
                    if (!phone)
                    {
                        // Every rule in the light scheme; only contrast differs in the dark one (and nothing between widths).
                        var options = new AxeRunOptions { ResultTypes = [ResultType.Violations] };
                        if (scheme == ColorScheme.Dark)
                        {
                            options.RunOnly = new RunOnlyOptions { Type = "rule", Values = ["color-contrast"] };
                        }

                        var axe = await page.RunAxe(options);
                        foreach (var v in axe.Violations.Where(v => v.Impact is "serious" or "critical"))
                        {
                            problems.Add($"{name} ({scheme}): {v.Impact} {v.Id}: {v.Help} — {string.Join("; ", v.Nodes.Take(3).Select(n => n.Html))}");
                        }
                    }

                    var file = Path.Combine(outDir, $"{name}-{(phone ? "390" : "1280")}-{scheme.ToString().ToLowerInvariant()}.png");
                    await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = false });
                    Assert.True(new FileInfo(file).Length > 1000, file + " is empty");
                }

                var elsewhere = requested.Where(u => !u.StartsWith("data:", StringComparison.Ordinal) && new Uri(u).Authority != fixture.Server.Authority).ToList();
                Assert.True(elsewhere.Count == 0, "requests for other hosts: " + string.Join(", ", elsewhere));
                Assert.Contains(requested, u => u.Contains("/ui/static/console.css", StringComparison.Ordinal));
                await page.Context.CloseAsync();
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
