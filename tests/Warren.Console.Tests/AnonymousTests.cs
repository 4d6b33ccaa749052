using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Warren.WebConsole.Tests;

/// <summary>A Warren whose github.com/pkg modules are --anonymous (access control on, golang.org/x/text private),
/// with an error answered on the private module.</summary>
public sealed class AnonymousFixture : ConsoleFixture
{
    public const string Anonymous = "github.com/pkg";

    public const string Private = "golang.org/x/text";

    protected override async Task<ConsoleServer> StartServerAsync()
    {
        var server = await ConsoleServer.StartAsync(["github.com/pkg/errors", Private], anonymous: Anonymous);

        // An error answered on the private module, for the overview's list of errors.
        var (status, _, _) = await server.GetAsync(Private + "/@v/v0.0.0-20990101000000-000000000000.info", bearer: server.AdminToken);
        if (status < 400)
        {
            throw new InvalidOperationException("the private module's unknown version was answered " + status);
        }

        return server;
    }
}

/// <summary>warren serve --anonymous in a real browser, never signed in: the public module's pages render, the private
/// module does not exist (404 by URL, absent from search, the overview and the JSON), the admin pages ask for a sign-in
/// and the admin API answers 401; axe finds nothing serious.</summary>
public sealed class AnonymousTests(AnonymousFixture fixture) : IClassFixture<AnonymousFixture>
{
    private const string Errors = "github.com/pkg/errors";

    private const string Private = AnonymousFixture.Private;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WithoutSigningIn_ThePublicModulesPagesRender_AndThePrivateModuleIsNowhere(bool javaScript)
    {
        var page = await fixture.NewPageAsync(javaScript);
        var overview = await page.GotoAsync("/ui");
        Assert.Equal(200, overview!.Status);
        Assert.EndsWith("/ui", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview", Exact = true })).ToBeVisibleAsync();
        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });
        await Assertions.Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Modules" })).ToBeVisibleAsync();
        await Assertions.Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Admin" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("header").GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToHaveCountAsync(0);
        Assert.DoesNotContain(Private, await page.ContentAsync(), StringComparison.Ordinal);

        // Search: the public module, never the private one.
        await nav.GetByRole(AriaRole.Link, new() { Name = "Modules" }).ClickAsync();
        await page.GetByLabel("Module path or part of it").FillAsync("o");
        if (javaScript)
        {
            // Let search-as-you-type finish first, so that its fetch does not race the form's submission; then wait for
            // the submitted form's new document itself, not for a "load" state (see ModulesTests).
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/modules\\?q=o$"));
            await page.EvaluateAsync("() => { window.samePage = true; }");
            await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
            await page.WaitForFunctionAsync("() => window.samePage !== true && document.getElementById('results') !== null");
        }
        else
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/modules\\?q=o$"));
        }
        var results = page.Locator("#results");
        await Assertions.Expect(results.GetByRole(AriaRole.Link, new() { Name = Errors, Exact = true })).ToBeVisibleAsync();
        Assert.DoesNotContain(Private, await results.InnerHTMLAsync(), StringComparison.Ordinal);
        await page.GotoAsync("/ui/modules?q=" + Uri.EscapeDataString(Private));
        await Assertions.Expect(page.Locator("#results a[href^='/ui/modules/']")).ToHaveCountAsync(0);

        // The module page, then a version's.
        await page.GotoAsync("/ui/modules?q=errors");
        await page.Locator("#results").GetByRole(AriaRole.Link, new() { Name = Errors, Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/modules/github\\.com/pkg/errors$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(Errors);
        await page.GetByRole(AriaRole.Link, new() { Name = "v0.9.1", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/modules/github\\.com/pkg/errors/@v/v0\\.9\\.1$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(Errors + "@v0.9.1");
        await Assertions.Expect(page.GetByText("errors.go").First).ToBeVisibleAsync();

        // The private module by URL: 404, said exactly as for a module that is not there at all.
        var nowhere = await page.GotoAsync("/ui/modules/golang.org/x/nosuch");
        Assert.Equal(404, nowhere!.Status);
        var absent = await page.Locator("main").InnerTextAsync();
        foreach (var (path, expected) in new[] { ("/ui/modules/" + Private, Private), ("/ui/modules/" + Private + "/@v/v0.3.7", Private) })
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(404, response!.Status);
            Assert.Equal(absent.Replace("golang.org/x/nosuch", expected, StringComparison.Ordinal), await page.Locator("main").InnerTextAsync());
            Assert.DoesNotContain("v0.3.7", await page.Locator("main").InnerTextAsync(), StringComparison.Ordinal);
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task WithoutSigningIn_TheJsonShowsThePublicModuleOnly()
    {
        var server = fixture.Server;
        var (status, search, _) = await server.GetAsync("/api/modules?q=o");
        Assert.Equal(200, status);
        Assert.Contains(Errors, search, StringComparison.Ordinal);
        Assert.DoesNotContain(Private, search, StringComparison.Ordinal);
        Assert.Equal(200, (await server.GetAsync("/api/modules/" + Errors + "/@v/v0.9.1")).Status);
        Assert.Equal(404, (await server.GetAsync("/api/modules/" + Private)).Status);
        Assert.Equal(404, (await server.GetAsync("/api/modules/" + Private + "/@v/v0.3.7")).Status);
        var (overviewStatus, overview, _) = await server.GetAsync("/api/overview");
        Assert.Equal(200, overviewStatus);
        Assert.DoesNotContain(Private, overview, StringComparison.Ordinal);

        // The admin sees the private module's error the anonymous overview leaves out.
        Assert.Contains(Private, (await server.GetAsync("/api/overview", bearer: server.AdminToken)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutSigningIn_TheAdminPagesAskForASignIn_AndTheAdminApiSays401()
    {
        var server = fixture.Server;
        var page = await fixture.NewPageAsync(javaScript: false);
        foreach (var path in new[] { "/ui/admin", "/ui/admin/audit", "/ui/admin/config", "/ui/admin/revoke?name=ops" })
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(200, response!.Status);
            Assert.EndsWith("/ui/signin?return=" + Uri.EscapeDataString(path), page.Url, StringComparison.Ordinal);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
            var html = await page.ContentAsync();
            foreach (var secret in new[] { "Create token", "Admin: ", server.AuthFilePath, server.UpstreamUrl, "\"dev\"" })
            {
                Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
            }
        }

        // Signing in from there leads back to the page asked for.
        await page.GetByLabel("Token").FillAsync(server.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/admin/revoke\\?name=ops$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Revoke token “ops”");
        await page.Context.CloseAsync();

        foreach (var path in new[] { "/api/admin/tokens", "/api/admin/audit", "/api/admin/config" })
        {
            var (status, body, _) = await server.GetAsync(path);
            Assert.Equal(401, status);
            Assert.Contains("unauthorized", body, StringComparison.Ordinal);
            Assert.DoesNotContain("ops", body, StringComparison.Ordinal);
        }

        // The other public pages render for the anonymous visitor, without the private module.
        foreach (var path in new[] { "/ui/advisories", "/ui/policy", "/ui/sync" })
        {
            var (status, body, _) = await server.GetAsync(path);
            Assert.Equal(200, status);
            Assert.DoesNotContain(Private, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheAnonymousPages_HaveNoSeriousAxeViolation()
    {
        var page = await fixture.NewPageAsync();
        var problems = new List<string>();
        // The overview with the anonymous header (a sign-in link); the signed-in pages are checked by PagesTests.
        foreach (var path in new[] { "/ui" })
        {
            Assert.Equal(200, (await page.GotoAsync(path))!.Status);
            var axe = await page.RunAxe(new AxeRunOptions { ResultTypes = [ResultType.Violations] });
            problems.AddRange(axe.Violations.Where(v => v.Impact is "serious" or "critical")
                .Select(v => $"{path}: {v.Impact} {v.Id}: {v.Help} — {string.Join("; ", v.Nodes.Take(3).Select(n => n.Html))}"));
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        await page.Context.CloseAsync();
    }
}
