using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Warren.Server.ConsoleData;

namespace Warren.WebConsole.Tests;

/// <summary>The advisories, policy, sync and admin pages in a real browser: a token created in the page works with
/// the go client and once revoked gets 401 (with and without JavaScript); a reader gets no admin page and never sees
/// a module it has no grant for; axe finds nothing serious; no request leaves for another host; forms without their
/// anti-forgery token and hostile filters are refused with a 4xx; screenshots at 1280 and 390 px, light and dark.</summary>
public sealed class ConsolePagesTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    /// <summary>The new pages (path, what names them in screenshots).</summary>
    public static readonly (string Path, string Name)[] Pages =
    [
        ("/ui/advisories", "advisories"), ("/ui/policy", "policy"), ("/ui/sync", "sync"),
        ("/ui/admin", "admin-tokens"), ("/ui/admin/audit", "admin-audit"), ("/ui/admin/config", "admin-config"),
    ];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ATokenCreatedInThePage_WorksWithTheGoClient_ShownOnce_AndOnceRevokedGets401(bool javaScript)
    {
        var name = javaScript ? "ci-page" : "ci-nojs";
        var page = await fixture.NewPageAsync(javaScript);
        await ConsoleFixture.SignInAsync(page, fixture.Server.AdminToken, "/ui/admin");
        Assert.EndsWith("/ui/admin", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Admin" })).ToHaveAttributeAsync("aria-current", "page");

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Grants").FillAsync("github.com, gopkg.in");
        await page.GetByLabel("Expires").FillAsync("30d");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Token “{name}” created" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("it is shown this once and never again")).ToBeVisibleAsync();
        var secret = await page.GetByLabel("Token of " + name).InputValueAsync();
        Assert.StartsWith("wrn_", secret, StringComparison.Ordinal);
        var row = page.Locator("#tokens tr", new() { HasText = name });
        await Assertions.Expect(row).ToContainTextAsync("github.com, gopkg.in");

        // Never again: not on the next visit of the page, not in the API's list.
        await page.GotoAsync("/ui/admin");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, (await fixture.Server.GetAsync("/api/admin/tokens", bearer: fixture.Server.AdminToken)).Body, StringComparison.Ordinal);

        // The go client downloads with it.
        await using var front = TlsFront.Start(fixture.Server.Url);
        var go = front.Go(secret);
        var work = TestPaths.NewTempDir("gowork");
        await File.WriteAllTextAsync(Path.Combine(work, "go.mod"), "module example.com/consumer\n\ngo 1.19\n");
        var download = await go.RunAsync(work, "mod", "download", "-json", "github.com/pkg/errors@v0.9.1");
        Assert.True(download.ExitCode == 0, download.ToString());
        Assert.Contains("\"Zip\"", download.Stdout, StringComparison.Ordinal);

        // Revoked through the confirmation page.
        await page.GetByRole(AriaRole.Link, new() { Name = "Revoke " + name }).ClickAsync();
        await page.WaitForURLAsync("**/ui/admin/revoke?name=" + name);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Revoke token “{name}”");
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke " + name }).ClickAsync();
        await page.WaitForURLAsync("**/ui/admin?revoked=" + name);
        await Assertions.Expect(page.Locator("#revoked-notice")).ToContainTextAsync($"Token “{name}” is revoked");
        await Assertions.Expect(page.Locator("#tokens tr", new() { HasText = name })).ToHaveCountAsync(0);

        var refused = await go.RunAsync(work, "mod", "download", "-json", "github.com/pkg/errors@v0.8.1");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("401", refused.Stdout + refused.Stderr, StringComparison.Ordinal);

        // Both changes are in the audit log, made by the admin who signed in.
        await page.GotoAsync("/ui/admin/audit?kind=token&principal=ops");
        var events = page.Locator("#events tbody tr", new() { HasText = name });
        await Assertions.Expect(events).ToHaveCountAsync(2);
        await Assertions.Expect(events.First).ToContainTextAsync("revoked");
        await Assertions.Expect(events.Last).ToContainTextAsync("created");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AReader_GetsNoAdminPage_AndNeverSeesAModuleWithoutAGrant()
    {
        var denials = fixture.Server.Services.GetRequiredService<PolicyDenials>();
        denials.Add("dev", "golang.org/x/text", "v0.3.7", "deny[0]", "hidden-reason-private");
        denials.Add("dev", "github.com/pkg/errors", "v0.8.1", "deny[1]", "visible-reason-public");

        var page = await fixture.NewPageAsync(javaScript: false);
        await ConsoleFixture.SignInAsync(page, fixture.Server.ReaderToken, "/ui/policy");
        Assert.EndsWith("/ui/policy", page.Url, StringComparison.Ordinal);
        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });
        await Assertions.Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Policy" })).ToBeVisibleAsync();
        await Assertions.Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Admin" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#denials")).ToContainTextAsync("visible-reason-public");

        foreach (var (path, _) in Pages.Take(3))
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(200, response!.Status);
            var html = await page.ContentAsync();
            Assert.DoesNotContain("golang.org/x", html, StringComparison.Ordinal);
            Assert.DoesNotContain("hidden-reason-private", html, StringComparison.Ordinal);
            await Assertions.Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Admin" })).ToHaveCountAsync(0);
        }

        foreach (var path in Pages.Skip(3).Select(p => p.Path).Append("/ui/admin/revoke?name=ops"))
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(403, response!.Status);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Forbidden" })).ToBeVisibleAsync();
            Assert.DoesNotContain("Create a token", await page.ContentAsync(), StringComparison.Ordinal);
        }

        // Not signed in: the admin pages send to the sign-in page. An admin sees both denials.
        var (anonymous, _, redirect) = await fixture.Server.GetAsync("/ui/admin/config");
        Assert.Equal(302, anonymous);
        Assert.Contains("/ui/signin?return=", redirect.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var (status, body, _) = await fixture.Server.GetAsync("/ui/policy", bearer: fixture.Server.AdminToken);
        Assert.Equal(200, status);
        Assert.Contains("hidden-reason-private", body, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task EveryNewPage_HasNoSeriousAxeViolation_AndLoadsNothingFromAnotherHost()
    {
        var page = await fixture.NewPageAsync();
        await ConsoleFixture.SignInAsync(page, fixture.Server.AdminToken, "/ui/sync");
        var requests = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Request += (_, request) => requests.Enqueue(request.Url);
        foreach (var path in Pages.Select(p => p.Path).Append("/ui/admin/revoke?name=dev"))
        {
            requests.Clear();
            var response = await page.GotoAsync(path, new() { WaitUntil = WaitUntilState.NetworkIdle });
            Assert.Equal(200, response!.Status);
            Assert.NotEmpty(requests);
            Assert.All(requests, url => Assert.StartsWith(fixture.Server.Url + "/", url, StringComparison.Ordinal));

            var axe = await page.RunAxe();
            var bad = axe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{path}: {v.Id} ({v.Impact}) {v.Help}").ToList();
            Assert.True(bad.Count == 0, string.Join("\n", bad));
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task FormPostsWithoutTheAntiforgeryToken_AreRefused_AndHostileFiltersNeverGive500()
    {
        var page = await fixture.NewPageAsync(javaScript: false);
        await ConsoleFixture.SignInAsync(page, fixture.Server.AdminToken, "/ui/admin");
        var cookie = await ConsoleFixture.SessionCookieAsync(page);
        Assert.NotNull(cookie);

        foreach (var (path, form) in new[]
                 {
                     ("/ui/admin", "_handler=create-token&Name=no-antiforgery&Grants=github.com"),
                     ("/ui/admin/revoke?name=dev", "_handler=revoke-token&Confirm=dev"),
                 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/'))
            {
                Content = new StringContent(form, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
            };
            request.Headers.Add("Cookie", cookie);
            using var response = await fixture.Server.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"{path}: {(int)response.StatusCode} {body}");
            Assert.True(body.TrimEnd('\n').Split('\n').Length <= 1, body);
        }

        var tokens = (await fixture.Server.GetAsync("/api/admin/tokens", bearer: fixture.Server.AdminToken)).Body;
        Assert.DoesNotContain("no-antiforgery", tokens, StringComparison.Ordinal);
        Assert.Contains("\"dev\"", tokens, StringComparison.Ordinal);

        // Shown escaped.
        var (escaped, html, _) = await fixture.Server.GetAsync("/ui/admin/audit?principal=" + Uri.EscapeDataString("<script>alert(1)</script>") + "&module=%22%3E%3Cimg%20src%3Dx%3E", cookie);
        Assert.Equal(200, escaped);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img src=x>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);

        // Refused with a 4xx and its reason, never a 500 or a stack trace.
        foreach (var query in new[]
                 {
                     "kind=nope", "since=last%20tuesday", "principal=a&principal=b", "module=%00evil", "bogus=1", "principal=" + new string('a', 600),
                     "since=%FF%FE", "kind=%3Cscript%3E", "since=99999999999999d",
                 })
        {
            var (status, body, _) = await fixture.Server.GetAsync("/ui/admin/audit?" + query, cookie);
            Assert.True(status is 200 or (>= 400 and < 500), $"{query}: {status}");
            Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
            Assert.DoesNotContain("<script>", body[body.IndexOf("<body", StringComparison.Ordinal)..], StringComparison.Ordinal);
            if (status != 200)
            {
                Assert.Matches(new Regex("<h1 id=\"problem-title\">Bad request</h1>"), body);
            }
        }

        Assert.Equal(400, (await fixture.Server.GetAsync("/ui/admin/audit?kind=nope", cookie)).Status);
        Assert.Equal(404, (await fixture.Server.GetAsync("/ui/admin/revoke?name=" + Uri.EscapeDataString("<nobody>"), cookie)).Status);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Screenshots_At1280And390_LightAndDark_WithoutSidewaysScrolling()
    {
        // WARREN_UI_SCREENSHOTS=1 writes them to docs/ui/ of the repository; otherwise to a temporary directory.
        var dir = Environment.GetEnvironmentVariable("WARREN_UI_SCREENSHOTS") == "1"
            ? Path.Combine(TestPaths.RepoRoot, "docs", "ui")
            : TestPaths.NewTempDir("screenshots");
        Directory.CreateDirectory(dir);
        foreach (var phone in new[] { false, true })
        {
            foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
            {
                var page = await fixture.NewPageAsync(phone: phone, scheme: scheme);
                await ConsoleFixture.SignInAsync(page, fixture.Server.AdminToken, "/ui/advisories");
                foreach (var (path, name) in Pages)
                {
                    await page.GotoAsync(path);
                    var overflow = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > window.innerWidth");
                    Assert.False(overflow, $"{path} scrolls sideways at {(phone ? 390 : 1280)} px");
                    var file = Path.Combine(dir, $"{name}-{(phone ? "390" : "1280")}-{(scheme == ColorScheme.Dark ? "dark" : "light")}.png");
                    await page.ScreenshotAsync(new() { Path = file });
                    Assert.True(new FileInfo(file).Length > 1000);
                }

                await page.Context.CloseAsync();
            }
        }
    }
}
