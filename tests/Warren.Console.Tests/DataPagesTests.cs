using Warren.Server.ConsoleData;
using System.Globalization;
using System.Text.Json;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Warren.WebConsole.Tests;

/// <summary>The advisories and sync pages with data (see <see cref="DataFixture"/>), in a real browser: the affected
/// versions held with who downloaded them and links that work, nothing of a module the token may not read, the feed
/// followed with its cursor and failure, the bundles imported with their counts; the JSON agrees; axe finds nothing
/// serious.</summary>
public sealed class DataPagesTests(DataFixture fixture) : IClassFixture<DataFixture>
{
    private const string Errors = "github.com/pkg/errors";

    /// <summary>The affected-versions table as (module@version, where, advisory ids, clients).</summary>
    private static async Task<List<(string Version, string Where, string Advisories, string Clients)>> AffectedRowsAsync(IPage page)
    {
        var rows = new List<(string, string, string, string)>();
        foreach (var row in await page.Locator("#affected tbody tr").AllAsync())
        {
            var cells = await row.Locator("td").AllInnerTextsAsync();
            rows.Add((cells[0].Trim(), cells[1].Trim(), cells[2].Trim(), cells[3].Trim()));
        }

        return rows;
    }

    private static List<(string Module, string Version, string Ids)> JsonRows(JsonElement advisories) =>
        advisories.GetProperty("versions").EnumerateArray().Select(v => (v.GetProperty("module").GetString()!, v.GetProperty("version").GetString()!,
            string.Join(",", v.GetProperty("advisories").EnumerateArray().Select(a => a.GetProperty("id").GetString())))).ToList();

    [Fact]
    public async Task Advisories_ListTheHeldVersionsAffected_WithWhoDownloadedThem_LinksWork_AndTheJsonAgrees()
    {
        var server = fixture.Server;
        var page = await fixture.NewPageAsync();
        await ConsoleFixture.SignInAsync(page, server.AdminToken, "/ui/advisories");
        Assert.EndsWith("/ui/advisories", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#affected")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#no-vulndb")).ToHaveCountAsync(0);

        var rows = await AffectedRowsAsync(page);
        var held = server.Filled.Where(f => f.Module == Errors).Select(f => Errors + "@" + f.Version).ToList();
        Assert.Equal(2, held.Count);
        foreach (var version in held)
        {
            var row = Assert.Single(rows, r => r.Version == version);
            Assert.Contains(DataFixture.HeldAdvisory, row.Advisories, StringComparison.Ordinal);
            Assert.Contains("fixed in v0.9.2", row.Advisories, StringComparison.Ordinal);
            Assert.DoesNotContain(DataFixture.NotHeldAdvisory, row.Advisories, StringComparison.Ordinal);
            Assert.Contains("held", row.Where, StringComparison.Ordinal);
            Assert.Contains("served", row.Where, StringComparison.Ordinal);

            // Downloaded by the admin who filled the store; v0.9.1 by the reader too.
            Assert.Contains("ops:", row.Clients, StringComparison.Ordinal);
            Assert.Equal(version.EndsWith("@v0.9.1", StringComparison.Ordinal), row.Clients.Contains("dev: 1 downloads", StringComparison.Ordinal));
        }

        // The advisory of a version not held, and the one on a module nobody holds, affect nothing here.
        var html = await page.ContentAsync();
        Assert.DoesNotContain(DataFixture.NotHeldAdvisory, html, StringComparison.Ordinal);
        Assert.DoesNotContain(DataFixture.ElsewhereAdvisory, html, StringComparison.Ordinal);
        Assert.DoesNotContain("v0.9.5", html, StringComparison.Ordinal);

        // The admin sees the private module's affected versions; only versions below v0.3.8 are listed.
        var text = rows.Where(r => r.Version.StartsWith("golang.org/x/text@", StringComparison.Ordinal)).ToList();
        Assert.Equal(server.Filled.Where(f => f.Module == "golang.org/x/text" && string.CompareOrdinal(f.Version, "v0.3.8") < 0).Select(f => "golang.org/x/text@" + f.Version).Order(StringComparer.Ordinal),
            text.Select(r => r.Version).Order(StringComparer.Ordinal));
        Assert.All(text, r => Assert.Contains(DataFixture.PrivateAdvisory, r.Advisories, StringComparison.Ordinal));

        // The JSON agrees, row for row.
        var (status, body, _) = await server.GetAsync("/api/advisories", bearer: server.AdminToken);
        Assert.Equal(200, status);
        var json = JsonRows(JsonDocument.Parse(body).RootElement);
        Assert.Equal(json.Select(j => j.Module + "@" + j.Version), rows.Select(r => r.Version));
        Assert.All(json, j => Assert.Contains(j.Ids, rows.Single(r => r.Version == j.Module + "@" + j.Version).Advisories, StringComparison.Ordinal));

        // The links: the module page, then back and the version page.
        var link = page.Locator("#affected tbody tr", new() { HasText = Errors + "@v0.9.1" });
        await link.GetByRole(AriaRole.Link, new() { Name = Errors, Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/ui/modules/github.com/pkg/errors");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(Errors);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "v0.9.1", Exact = true })).ToBeVisibleAsync();
        await page.GoBackAsync();
        await link.GetByRole(AriaRole.Link, new() { Name = "v0.9.1", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/ui/modules/github.com/pkg/errors/@v/v0.9.1");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(Errors + "@v0.9.1");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Advisories_AReaderWithoutAGrant_NeverSeesThoseOnThePrivateModule_InThePageOrTheJson()
    {
        var server = fixture.Server;
        var page = await fixture.NewPageAsync(javaScript: false);
        await ConsoleFixture.SignInAsync(page, server.ReaderToken, "/ui/advisories");
        Assert.EndsWith("/ui/advisories", page.Url, StringComparison.Ordinal);
        var rows = await AffectedRowsAsync(page);
        Assert.Equal(server.Filled.Where(f => f.Module == Errors).Select(f => Errors + "@" + f.Version).Order(StringComparer.Ordinal), rows.Select(r => r.Version).Order(StringComparer.Ordinal));
        var html = await page.ContentAsync();
        foreach (var hidden in new[] { ConsoleServer.PrivatePattern, DataFixture.PrivateAdvisory })
        {
            Assert.DoesNotContain(hidden, html, StringComparison.Ordinal);
        }

        var (status, body, _) = await server.GetAsync("/api/advisories", bearer: server.ReaderToken);
        Assert.Equal(200, status);
        Assert.Equal(rows.Select(r => r.Version), JsonRows(JsonDocument.Parse(body).RootElement).Select(j => j.Module + "@" + j.Version));
        Assert.DoesNotContain(ConsoleServer.PrivatePattern, body, StringComparison.Ordinal);
        Assert.DoesNotContain(DataFixture.PrivateAdvisory, body, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Sync_ShowsTheFeedWithItsCursorLagAndFailure_AndTheBundlesWithTheirCounts()
    {
        var server = fixture.Server;
        var page = await fixture.NewPageAsync();
        await ConsoleFixture.SignInAsync(page, server.AdminToken, "/ui/sync");
        Assert.EndsWith("/ui/sync", page.Url, StringComparison.Ordinal);

        // The feed: one row; its URL, patterns, cursor (the JSON's, which moves on only past what was followed), lag,
        // and the version that failed with its reason.
        var feed = page.Locator("#feeds tbody tr");
        await Assertions.Expect(feed).ToHaveCountAsync(1);
        var cells = await feed.Locator("td").AllInnerTextsAsync();
        Assert.Equal(fixture.Feed, cells[0].Trim());
        Assert.Equal(DataFixture.FollowPatterns, cells[1].Trim());
        var (_, body, _) = await server.GetAsync("/api/sync", bearer: server.AdminToken);
        var json = JsonDocument.Parse(body).RootElement.GetProperty("feeds")[0];
        var cursor = json.GetProperty("cursor").GetString();
        Assert.NotNull(cursor);
        Assert.True(DateTimeOffset.TryParse(cursor, CultureInfo.InvariantCulture, out _), cursor);
        Assert.Equal(cursor, cells[2].Trim());
        Assert.Matches(@"^(none|\d+ s|\d+ min|[\d.]+ h|[\d.]+ d)$", cells[3].Trim());
        Assert.NotEqual("not yet", cells[4].Trim());
        Assert.Contains("1 failed", cells[5], StringComparison.Ordinal);
        Assert.Contains(DataFixture.Unverifiable + "@v0.3.0: ", cells[5], StringComparison.Ordinal);
        Assert.Equal(1, json.GetProperty("failedVersions").GetInt32());

        // The bundles, newest first: the refused one (its first problem), then the one stored, with their counts.
        await Assertions.Expect(page.Locator("#bundles-title")).ToHaveTextAsync("Bundles exported and imported");
        var bundles = page.Locator("#bundles tbody tr");
        await Assertions.Expect(bundles).ToHaveCountAsync(3);
        var refused = await bundles.Nth(0).Locator("td").AllInnerTextsAsync();
        Assert.Equal(("import", fixture.BrokenBundlePath), (refused[1].Trim(), refused[2].Trim()));
        Assert.StartsWith("failed", refused[3].Trim(), StringComparison.Ordinal);
        Assert.Contains("warren-bundle.json", refused[3], StringComparison.Ordinal);
        Assert.Equal("1", refused[6].Trim());
        var stored = await bundles.Nth(1).Locator("td").AllInnerTextsAsync();
        Assert.Equal(("import", fixture.BundlePath), (stored[1].Trim(), stored[2].Trim()));
        Assert.StartsWith("done", stored[3].Trim(), StringComparison.Ordinal);
        Assert.True(fixture.Imported.Stored > 0);
        Assert.Equal(
            [fixture.Imported.Stored.ToString("N0", CultureInfo.InvariantCulture), fixture.Imported.Present.ToString("N0", CultureInfo.InvariantCulture), "0"],
            stored.Skip(4).Take(3).Select(c => c.Trim()));
        Assert.Matches(@"^[\d.]+ (B|KiB|MiB)$", stored[7].Trim());
        var export = await bundles.Nth(2).Locator("td").AllInnerTextsAsync();
        Assert.Equal(("export", Path.GetFullPath(fixture.BundlePath)), (export[1].Trim(), export[2].Trim()));
        Assert.StartsWith("done", export[3].Trim(), StringComparison.Ordinal);
        Assert.Equal(["1", "0", "0"], export.Skip(4).Take(3).Select(c => c.Trim()));
        Assert.Matches(@"^[\d.]+ (B|KiB|MiB)$", export[7].Trim());

        // The version carried by the bundle is in the store now.
        await page.GotoAsync("/ui/modules/" + DataFixture.Bundled + "/@v/" + DataFixture.BundledVersion);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(DataFixture.Bundled + "@" + DataFixture.BundledVersion);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Sync_AReader_SeesHealthAndNumbers_WithoutFeedOrUpstreamNames_PathsOrErrorTexts_HereOrOnTheOverview()
    {
        var server = fixture.Server;
        var page = await fixture.NewPageAsync(javaScript: false);
        await ConsoleFixture.SignInAsync(page, server.ReaderToken, "/ui/sync");

        // The feed by number, its patterns and its error's text left out; the failure count and lag still there.
        var cells = await page.Locator("#feeds tbody tr").First.Locator("td").AllInnerTextsAsync();
        Assert.Equal("feed 1", cells[0].Trim());
        Assert.Equal(ConsoleSyncView.HiddenDetail, cells[1].Trim());
        Assert.Contains("1 failed", cells[5], StringComparison.Ordinal);
        Assert.Contains(ConsoleSyncView.FailingDetail, cells[5], StringComparison.Ordinal);

        // Bundles by file name, their problems left out; the counts as the admin sees them.
        var refused = await page.Locator("#bundles tbody tr").Nth(0).Locator("td").AllInnerTextsAsync();
        Assert.Equal(Path.GetFileName(fixture.BrokenBundlePath.TrimEnd('/')), refused[2].Trim());
        Assert.DoesNotContain("warren-bundle.json", refused[3], StringComparison.Ordinal);
        Assert.Equal("1", refused[6].Trim());
        var html = await page.ContentAsync();
        var (_, body, _) = await server.GetAsync("/api/sync", bearer: server.ReaderToken);
        foreach (var secret in new[] { DataFixture.Unverifiable, fixture.Feed, DataFixture.FollowPatterns, Path.GetDirectoryName(Path.GetFullPath(fixture.BundlePath))! })
        {
            Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
        }

        // The overview (page and JSON): feeds, upstreams and this node by number, the index and store by kind, and
        // the counts of the modules the reader may read, with no store size.
        await page.GotoAsync("/ui");
        await Assertions.Expect(page.Locator("#sync-title")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("feed 1")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("upstream 1")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#stat-bytes")).ToHaveCountAsync(0);
        var (_, overview, _) = await server.GetAsync("/api/overview", bearer: server.ReaderToken);
        html = await page.ContentAsync();
        foreach (var secret in new[] { DataFixture.Unverifiable, fixture.Feed, server.UpstreamUrl, server.Root })
        {
            Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, overview, StringComparison.Ordinal);
        }

        var readable = JsonDocument.Parse(overview).RootElement;
        Assert.True(readable.GetProperty("readable").GetBoolean());
        var all = JsonDocument.Parse((await server.GetAsync("/api/overview", bearer: server.AdminToken)).Body).RootElement;
        Assert.False(all.GetProperty("readable").GetBoolean());
        Assert.True(readable.GetProperty("index").GetProperty("modules").GetInt64() < all.GetProperty("index").GetProperty("modules").GetInt64());
        var (_, search, _) = await server.GetAsync("/api/modules?q=", bearer: server.ReaderToken);
        Assert.Equal(JsonDocument.Parse(search).RootElement.GetProperty("modules").GetArrayLength(), readable.GetProperty("index").GetProperty("modules").GetInt64());

        // The admin sees the names and the failed version.
        var admin = (await server.GetAsync("/api/overview", bearer: server.AdminToken)).Body;
        Assert.Contains(DataFixture.Unverifiable + "@v0.3.0", admin, StringComparison.Ordinal);
        Assert.Contains(fixture.Feed, admin, StringComparison.Ordinal);
        Assert.Contains(server.UpstreamUrl, admin, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ThePagesWithData_HaveNoSeriousAxeViolation_LightAndDark()
    {
        var problems = new List<string>();
        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            var page = await fixture.NewPageAsync(scheme: scheme);
            await ConsoleFixture.SignInAsync(page, fixture.Server.AdminToken);
            foreach (var path in new[] { "/ui/advisories", "/ui/sync" })
            {
                var response = await page.GotoAsync(path);
                Assert.Equal(200, response!.Status);
                var options = new AxeRunOptions { ResultTypes = [ResultType.Violations] };
                if (scheme == ColorScheme.Dark)
                {
                    options.RunOnly = new RunOnlyOptions { Type = "rule", Values = ["color-contrast"] };
                }

                var axe = await page.RunAxe(options);
                problems.AddRange(axe.Violations.Where(v => v.Impact is "serious" or "critical")
                    .Select(v => $"{path} ({scheme}): {v.Impact} {v.Id}: {v.Help} — {string.Join("; ", v.Nodes.Take(3).Select(n => n.Html))}"));
            }

            await page.Context.CloseAsync();
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
