using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Warren.Protocol.VulnDb;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Tests.Mirror;

namespace Warren.Server.Tests.Vuln;

/// <summary>The vulnerability database carried to an air-gapped site: a source Warren mirrors a loopback test database,
/// `warren export --with-vulndb` (the CLI, as a process) puts it in a bundle as a listed vulndb.zip, and after
/// `warren import` into a fresh store a Warren with no reachable database upstream serves it in both layouts.</summary>
public sealed class VulnDbBundleTests
{
    private const string Module = "github.com/dustin/go-humanize";
    private const string Version = "v1.0.0";

    [Fact]
    public async Task Export_with_vulndb_carries_the_database_and_import_installs_it_for_a_warren_with_no_upstream()
    {
        var upstream = await VulnDbUpstream.StartAsync(TestVulnDb.Write());
        var deadUpstream = upstream.Url;
        string bundle, viaUrl;
        await using (var source = await BundleTests.Source.StartAsync(upstream.Url))
        {
            // The source mirrors the database (and keeps the last good copy under its root); then the upstream goes away.
            using (var client = new HttpClient { BaseAddress = new Uri(source.Url + "/") })
            {
                Assert.Contains("2026-01-02T00:00:00Z", await client.GetStringAsync("vuln/index/db.json"), StringComparison.Ordinal);
            }

            await upstream.DisposeAsync();
            Assert.True(File.Exists(Path.Combine(source.Root, ".warren", "vulndb", "vulndb.zip")), "the source stored no copy of the database");

            // No database where the bare flag looks (the store of a warren serve without --root): exit 2, one line, nothing fetched.
            var home = TestPaths.NewTempDir("home");
            var nowhere = Path.Combine(TestPaths.NewTempDir("none"), "bundle");
            var env = new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin", ["HOME"] = home, ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" };
            var none = await Processes.RunAsync("dotnet", null, env,
                [WarrenProcess.Dll, "export", "--out", nowhere, "--proxy", source.Url, "--sumdb", source.SumDb, $"{Module}@{Version}", "--with-vulndb"], timeout: TimeSpan.FromMinutes(2));
            Assert.True(none.ExitCode == 2, none.ToString());
            Assert.Single(none.Stderr.Trim().Split('\n'));
            Assert.Contains("--with-vulndb: no vulnerability database stored under " + Path.Combine(home, ".cache", "warren", "download"), none.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(nowhere), "the export went ahead without a database");

            // From the source's store directory, and from its /vuln/ over http: the same database.
            bundle = TestPaths.NewTempDir("vulnbundle");
            var export = await source.ExportAsync(bundle, $"--with-vulndb={source.Root}", $"{Module}@{Version}");
            Assert.True(export.ExitCode == 0, export.ToString());
            viaUrl = TestPaths.NewTempDir("vulnbundle-url");
            var exportUrl = await source.ExportAsync(viaUrl, "--with-vulndb", source.Url + "/vuln", $"{Module}@{Version}");
            Assert.True(exportUrl.ExitCode == 0, exportUrl.ToString());
        }

        var manifest = BundleTests.ManifestOf(bundle);
        var vulnDb = manifest.GetProperty("vulnDb");
        Assert.Equal("vulndb.zip", vulnDb.GetProperty("path").GetString());
        Assert.Equal(1, vulnDb.GetProperty("entries").GetInt32());
        var listed = manifest.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == "vulndb.zip");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(bundle, "vulndb.zip")))), listed.GetProperty("sha256").GetString());
        var urlDb = BundleTests.ManifestOf(viaUrl).GetProperty("vulnDb");
        Assert.Equal(vulnDb.GetProperty("modified").GetDateTimeOffset(), urlDb.GetProperty("modified").GetDateTimeOffset());
        Assert.Equal(1, urlDb.GetProperty("entries").GetInt32());

        // A changed byte in vulndb.zip: refused, naming the file, and nothing installed or stored.
        var tampered = TestPaths.NewTempDir("vulnbundle-tampered");
        BundleTests.CopyTree(bundle, tampered);
        var zip = File.ReadAllBytes(Path.Combine(tampered, "vulndb.zip"));
        zip[zip.Length / 2] ^= 0x01;
        File.WriteAllBytes(Path.Combine(tampered, "vulndb.zip"), zip);
        var refusedRoot = TestPaths.NewTempDir("store-refused");
        var refused = await BundleTests.WarrenCliAsync("import", tampered, "--root", refusedRoot);
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Single(refused.Stdout.Split('\n'), l => l.StartsWith("FAIL\timport.file\tvulndb.zip\tSHA-256 ", StringComparison.Ordinal));
        Assert.Contains("bundle refused: nothing was stored", refused.Stdout, StringComparison.Ordinal);

        // The manifest rewritten to match a vulndb.zip that is no database: refused by reading it.
        File.WriteAllText(Path.Combine(tampered, "vulndb.zip"), "not a zip");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(tampered, "warren-bundle.json")))!;
        var entry = json["files"]!.AsArray().Single(f => (string?)f!["path"] == "vulndb.zip")!;
        entry["sha256"] = Convert.ToHexStringLower(SHA256.HashData("not a zip"u8));
        entry["size"] = 9;
        File.WriteAllText(Path.Combine(tampered, "warren-bundle.json"), json.ToJsonString());
        var unreadable = await BundleTests.WarrenCliAsync("import", tampered, "--root", refusedRoot);
        Assert.True(unreadable.ExitCode == 2, unreadable.ToString());
        Assert.Single(unreadable.Stdout.Split('\n'), l => l.StartsWith("FAIL\timport.file\tvulndb.zip\tnot a usable vulnerability database: ", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(refusedRoot, ".warren", "vulndb", "vulndb.zip")), "a refused bundle installed its database");
        Assert.Empty(Directory.EnumerateFiles(refusedRoot, "*.mod", SearchOption.AllDirectories));

        // Imported into a fresh store.
        var root = TestPaths.NewTempDir("store-vuln");
        var import = await BundleTests.WarrenCliAsync("import", bundle, "--root", root);
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("PASS\timport.vulndb\t", import.Stdout, StringComparison.Ordinal);
        Assert.Contains("vulnerability database installed: 1 entries", import.Stdout, StringComparison.Ordinal);

        // warren serve --offline: the database upstream (gone anyway) is never asked; both layouts are served.
        await using (var warren = await WarrenInstance.StartAsync("https://unreachable.invalid", o =>
        {
            o.Offline = true;
            o.VulnDb = deadUpstream;
        }, root))
        {
            Assert.Contains("\"modified\":\"2026-01-02T00:00:00Z\"", await warren.Client.GetStringAsync("vuln/index/db.json"), StringComparison.Ordinal);
            Assert.Contains(Module, await warren.Client.GetStringAsync("vuln/index/modules.json"), StringComparison.Ordinal);
            Assert.Equal(TestVulnDb.Entry(), await warren.Client.GetStringAsync("vuln/ID/" + TestVulnDb.Id + ".json"));

            // The older layout Debian's govulncheck reads.
            Assert.Contains(Module, await warren.Client.GetStringAsync("vuln/index.json"), StringComparison.Ordinal);
            Assert.Contains(TestVulnDb.Id, await warren.Client.GetStringAsync($"vuln/{Module}.json"), StringComparison.Ordinal);

            // And the module the bundle carried.
            Assert.Contains(Version, await warren.Client.GetStringAsync($"{Module}/@v/{Version}.info"), StringComparison.Ordinal);
        }

        // Online, with the database upstream unreachable: the imported copy is served (stale).
        await using (var warren = await WarrenInstance.StartAsync("off", o => o.VulnDb = deadUpstream, root))
        {
            Assert.Contains(TestVulnDb.Id, await warren.Client.GetStringAsync($"vuln/{Module}.json"), StringComparison.Ordinal);
        }

        // A newer copy already stored (warren import vulndb.zip) is kept when an older bundle is imported again.
        var newer = Path.Combine(TestPaths.NewTempDir("vulnzip-newer"), "vulndb.zip");
        System.IO.Compression.ZipFile.CreateFromDirectory(TestVulnDb.Write(modified: "2026-03-01T00:00:00Z"), newer);
        var zipImport = await BundleTests.WarrenCliAsync("import", newer, "--root", root);
        Assert.True(zipImport.ExitCode == 0, zipImport.ToString());
        var again = await BundleTests.WarrenCliAsync("import", bundle, "--root", root);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("kept the stored vulnerability database (modified 2026-03-01T00:00:00Z)", again.Stdout, StringComparison.Ordinal);
        Assert.Equal("2026-03-01T00:00:00Z", VulnDbSnapshot.FormatTime(VulnDbStoredCopy.Load(root, VulnDbLimits.Default)!.Value.Snapshot.Modified));

        // --vulndb off turns /vuln/ off, imported copy or not.
        await using (var warren = await WarrenInstance.StartAsync("off", o => o.VulnDb = "off", root))
        {
            using var off = await warren.Client.GetAsync("vuln/index.json");
            Assert.Equal(404, (int)off.StatusCode);
            Assert.Contains("--vulndb off", await off.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }
}
