using System.Text.Json;
using Microsoft.Playwright;

namespace Warren.WebConsole.Tests;

/// <summary>Search, module and version pages in a real browser (with and without JavaScript), the same data as JSON,
/// and what a token without a grant never sees.</summary>
public sealed class ModulesTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Search_OpenTheModule_OpenAVersion_ShowsProvenanceGoModAndFiles(bool javaScript)
    {
        var page = await fixture.NewPageAsync(javaScript);
        await ConsoleFixture.SignInAsync(page, fixture.Server.ReaderToken, "/ui/modules");
        Assert.EndsWith("/ui/modules", page.Url, StringComparison.Ordinal);

        // Navigations below are awaited by expecting the new address (polled, no load state) and then what the page
        // shows: on a loaded machine Playwright sometimes never saw the "load" state of a navigation (it reported
        // network idle and kept waiting for load), with or without JavaScript, also when waiting for an address.
        var results = page.Locator("#results");
        if (javaScript)
        {
            // Search as you type: the results and the address change in place, without loading another page. Waiting
            // for it also keeps its fetch from racing the form's submission below.
            await page.EvaluateAsync("() => { window.samePage = true; }");
            await page.GetByLabel("Module path or part of it").FillAsync("pkg/errors");
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/modules\\?q=pkg%2Ferrors$"));
            await Assertions.Expect(results.GetByRole(AriaRole.Link, new() { Name = "github.com/pkg/errors", Exact = true })).ToBeVisibleAsync();
            await Assertions.Expect(results.GetByRole(AriaRole.Link, new() { Name = "github.com/pkg/sftp" })).ToHaveCountAsync(0);
            Assert.True(await page.EvaluateAsync<bool>("() => window.samePage === true"));

            // The button still submits the form: a new document (without the marker) with the same results.
            await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
            await page.WaitForFunctionAsync("() => window.samePage !== true && document.getElementById('results') !== null");
        }
        else
        {
            await page.GetByLabel("Module path or part of it").FillAsync("pkg/errors");
            await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/modules\\?q=pkg%2Ferrors$"));
        }

        await Assertions.Expect(results.GetByRole(AriaRole.Link, new() { Name = "github.com/pkg/errors", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(results.GetByRole(AriaRole.Link, new() { Name = "github.com/pkg/sftp" })).ToHaveCountAsync(0);

        await results.GetByRole(AriaRole.Link, new() { Name = "github.com/pkg/errors", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/modules/github\\.com/pkg/errors$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("github.com/pkg/errors");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "v0.8.1" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("table").First).ToContainTextAsync(fixture.Server.UpstreamUrl);

        await page.GetByRole(AriaRole.Link, new() { Name = "v0.9.1", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/ui/modules/github\\.com/pkg/errors/@v/v0\\.9\\.1$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("github.com/pkg/errors@v0.9.1");
        var provenance = page.Locator("#provenance");
        await Assertions.Expect(provenance).ToContainTextAsync("Fetched from" + fixture.Server.UpstreamUrl);
        await Assertions.Expect(provenance).ToContainTextAsync("h1:");
        await Assertions.Expect(provenance).ToContainTextAsync(new System.Text.RegularExpressions.Regex("verified by " + fixture.Server.SumDbName + @" at tree size \d+"));
        await Assertions.Expect(provenance).ToContainTextAsync("First stored20");
        await Assertions.Expect(page.Locator("pre.gomod")).ToContainTextAsync("module github.com/pkg/errors");
        await Assertions.Expect(page.Locator("#files")).ToContainTextAsync("errors.go");
        await Assertions.Expect(page.Locator("#files")).ToContainTextAsync("stack.go");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AReaderWithoutAGrant_NeverSeesThoseModules_NotInSearch_NotByUrl()
    {
        var page = await fixture.NewPageAsync(javaScript: false);
        await ConsoleFixture.SignInAsync(page, fixture.Server.ReaderToken, "/ui/modules?q=golang.org");
        await Assertions.Expect(page.GetByText("No module of this Warren matches.")).ToBeVisibleAsync();

        var everything = await page.GotoAsync("/ui/modules");
        Assert.Equal(200, everything!.Status);
        await Assertions.Expect(page.Locator("#results a[href*='golang.org']")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#results a[href*='github.com/pkg/errors']")).ToHaveCountAsync(1);

        foreach (var hidden in new[] { "/ui/modules/golang.org/x/text", "/ui/modules/golang.org/x/text/@v/v0.3.7", "/ui/modules/golang.org/x/nosuch" })
        {
            var response = await page.GotoAsync(hidden);
            Assert.Equal(404, response!.Status);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        }

        // The JSON API answers alike, with the session cookie or the token.
        var cookie = await ConsoleFixture.SessionCookieAsync(page);
        var (status, body, _) = await fixture.Server.GetAsync("/api/modules?q=golang.org", cookie);
        Assert.Equal(200, status);
        using (var doc = JsonDocument.Parse(body))
        {
            Assert.Equal(0, doc.RootElement.GetProperty("modules").GetArrayLength());
        }

        Assert.Equal(404, (await fixture.Server.GetAsync("/api/modules/golang.org/x/text", bearer: fixture.Server.ReaderToken)).Status);
        Assert.Equal(404, (await fixture.Server.GetAsync("/api/modules/golang.org/x/text/@v/v0.3.7", cookie)).Status);

        // An admin sees them.
        var (adminStatus, adminBody, _) = await fixture.Server.GetAsync("/api/modules?q=golang.org/x/", bearer: fixture.Server.AdminToken);
        Assert.Equal(200, adminStatus);
        using (var doc = JsonDocument.Parse(adminBody))
        {
            var paths = doc.RootElement.GetProperty("modules").EnumerateArray().Select(m => m.GetProperty("modulePath").GetString()).ToList();
            Assert.Equal(["golang.org/x/mod", "golang.org/x/text"], paths);
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TheApi_GivesThePagesData_AndRefusesWithoutACredential()
    {
        var (status, body, _) = await fixture.Server.GetAsync("/api/modules/github.com/pkg/errors/@v/v0.9.1", bearer: fixture.Server.ReaderToken);
        Assert.Equal(200, status);
        using (var doc = JsonDocument.Parse(body))
        {
            var root = doc.RootElement;
            Assert.Equal("github.com/pkg/errors", root.GetProperty("modulePath").GetString());
            Assert.StartsWith(fixture.Server.UpstreamUrl, root.GetProperty("version").GetProperty("provenance").GetProperty("source").GetString(), StringComparison.Ordinal);
            Assert.Contains("module github.com/pkg/errors", root.GetProperty("goMod").GetString(), StringComparison.Ordinal);
            Assert.Contains(root.GetProperty("files").GetProperty("files").EnumerateArray(), f => f.GetProperty("name").GetString() == "errors.go");
            var provenance = root.GetProperty("version").GetProperty("provenance");
            Assert.Equal(fixture.Server.SumDbName, provenance.GetProperty("database").GetString());
            Assert.True(provenance.GetProperty("treeSize").GetInt64() >= fixture.Server.Filled.Count);
        }

        var (overviewStatus, overview, _) = await fixture.Server.GetAsync("/api/overview", bearer: fixture.Server.AdminToken);
        Assert.Equal(200, overviewStatus);
        using (var doc = JsonDocument.Parse(overview))
        {
            Assert.Equal(fixture.Server.Filled.Count, doc.RootElement.GetProperty("index").GetProperty("versions").GetInt64());
        }

        var (anonymous, refusal, _) = await fixture.Server.GetAsync("/api/modules?q=errors");
        Assert.Equal(401, anonymous);
        Assert.Contains("unauthorized", refusal, StringComparison.Ordinal);
    }
}
