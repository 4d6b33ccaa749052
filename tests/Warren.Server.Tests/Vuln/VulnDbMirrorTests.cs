using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Warren.Core.Vulns;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Vulns;

namespace Warren.Server.Tests.Vuln;

public sealed class VulnDbMirrorTests
{
    private sealed class RecordingObserver : IAdvisoryRefreshObserver
    {
        public List<IReadOnlyList<Advisory>> Calls { get; } = [];

        public Task OnAdvisoriesChangedAsync(IReadOnlyList<Advisory> changed, CancellationToken cancellationToken)
        {
            lock (Calls)
            {
                Calls.Add(changed);
            }

            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Mirrors_both_layouts_refreshes_conditionally_and_serves_stale_across_a_restart()
    {
        var dir = TestVulnDb.Write();
        var upstream = await VulnDbUpstream.StartAsync(dir);
        var root = TestPaths.NewTempDir("store");
        var observer = new RecordingObserver();
        string legacyModule;
        await using (var warren = await WarrenInstance.StartAsync("off", o => o.VulnDb = upstream.Url, root, services: s => s.AddSingleton<IAdvisoryRefreshObserver>(observer)))
        {
            var catalog = warren.Services.GetRequiredService<IAdvisoryCatalog>();
            Assert.IsType<VulnDbMirror>(catalog);
            var forModule = await catalog.ForModuleAsync(TestVulnDb.Module, default);
            Assert.Equal(TestVulnDb.Id, Assert.Single(forModule).Id);
            Assert.True(catalog.IsAvailable);

            // The current layout.
            Assert.Contains("2026-01-02T00:00:00Z", await warren.Client.GetStringAsync("vuln/index/db.json"));
            Assert.Contains("\"fixed\":\"1.0.1\"", await warren.Client.GetStringAsync("vuln/index/modules.json"));
            Assert.Contains(TestVulnDb.Id, await warren.Client.GetStringAsync("vuln/index/vulns.json"));
            Assert.Equal(TestVulnDb.Entry(), await warren.Client.GetStringAsync("vuln/ID/" + TestVulnDb.Id + ".json"));
            var gz = await warren.Client.GetByteArrayAsync("vuln/ID/" + TestVulnDb.Id + ".json.gz");
            using (var reader = new StreamReader(new GZipStream(new MemoryStream(gz), CompressionMode.Decompress)))
            {
                Assert.Equal(TestVulnDb.Entry(), await reader.ReadToEndAsync());
            }

            // The early-2023 layout, derived.
            using var index = JsonDocument.Parse(await warren.Client.GetStringAsync("vuln/index.json"));
            Assert.Equal("2026-01-02T00:00:00Z", index.RootElement.GetProperty(TestVulnDb.Module).GetString());
            legacyModule = await warren.Client.GetStringAsync("vuln/github.com/dustin/go-humanize.json");
            Assert.Equal("[" + TestVulnDb.Entry() + "]", legacyModule);
            Assert.Equal("[\"" + TestVulnDb.Id + "\"]", await warren.Client.GetStringAsync("vuln/ID/index.json"));
            Assert.Contains("\"CVE-2099-0001\":[\"" + TestVulnDb.Id + "\"]", await warren.Client.GetStringAsync("vuln/aliases.json"));
            var missing = await warren.Client.GetAsync("vuln/github.com/nobody/nothing.json");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.NotEmpty(await missing.Content.ReadAsStringAsync());

            // Every entry went to the observers on the first load.
            lock (observer.Calls)
            {
                Assert.Equal(TestVulnDb.Id, Assert.Single(Assert.Single(observer.Calls)).Id);
            }

            // A conditional refresh: the upstream answers 304 and nothing is fetched again.
            var mirror = (VulnDbMirror)catalog;
            var generation = catalog.Generation;
            Assert.False(await mirror.RefreshAsync(default));
            Assert.True(upstream.Count(304) >= 1, string.Join(", ", upstream.Log));
            Assert.Equal(generation, catalog.Generation);
            Assert.Equal(1, upstream.Log.Count(l => l.Path == "ID/" + TestVulnDb.Id + ".json"));

            // A changed entry: fetched, and the observers hear of it.
            TestVulnDb.Write(dir, "2026-02-03T00:00:00Z");
            Assert.True(await mirror.RefreshAsync(default));
            Assert.NotEqual(generation, catalog.Generation);
            Assert.Contains("2026-02-03T00:00:00Z", await warren.Client.GetStringAsync("vuln/index/db.json"));
            lock (observer.Calls)
            {
                Assert.Equal(2, observer.Calls.Count);
            }

            // The upstream goes away: the last good copy is still served.
            await upstream.DisposeAsync();
            Assert.False(await mirror.RefreshAsync(default));
            Assert.NotNull(mirror.Status.LastError);
            Assert.Contains("2026-02-03T00:00:00Z", await warren.Client.GetStringAsync("vuln/index/db.json"));
        }

        Assert.True(File.Exists(Path.Combine(root, ".warren", "vulndb", "vulndb.zip")));

        // After a restart with the upstream still down: served from the stored copy.
        await using (var again = await WarrenInstance.StartAsync("off", o => o.VulnDb = upstream.Url, root))
        {
            Assert.Contains("2026-02-03T00:00:00Z", await again.Client.GetStringAsync("vuln/index/db.json"));
            Assert.Contains("Bytes", await again.Client.GetStringAsync("vuln/github.com/dustin/go-humanize.json"));
        }
    }

    [Fact]
    public async Task A_file_url_gives_the_same_files_as_http()
    {
        var dir = TestVulnDb.Write();
        await using var warren = await WarrenInstance.StartAsync("off", o => o.VulnDb = new Uri(dir).AbsoluteUri);
        foreach (var path in new[] { "index/db.json", "index/modules.json", "index.json", "github.com/dustin/go-humanize.json", "ID/" + TestVulnDb.Id + ".json" })
        {
            var response = await warren.Client.GetAsync("vuln/" + path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal("[" + TestVulnDb.Entry() + "]", await warren.Client.GetStringAsync("vuln/github.com/dustin/go-humanize.json"));
    }

    [Fact]
    public async Task Off_answers_404_with_a_reason_and_a_bad_setting_stops_start_up()
    {
        await using (var warren = await WarrenInstance.StartAsync("off"))
        {
            var response = await warren.Client.GetAsync("vuln/index/db.json");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("--vulndb off", await response.Content.ReadAsStringAsync());
        }

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => WarrenInstance.StartAsync("off", o => o.VulnDb = "ftp://x"));
        Assert.Contains("vulndb \"ftp://x\"", ex.ToString());
    }
}
