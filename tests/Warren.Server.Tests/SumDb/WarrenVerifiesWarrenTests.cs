using Warren.Storage;
using System.IO.Compression;
using Warren.Server.Storage;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.SumDb;

/// <summary>A second Warren verifies what it ingests against the first one's hosted checksum database.</summary>
public sealed class WarrenVerifiesWarrenTests
{
    private const string Name = HostedSumDbGoTests.Name;

    [Fact]
    public async Task A_poisoned_zip_is_refused_with_checksum_mismatch_and_nothing_is_stored_while_genuine_modules_are_served()
    {
        await using var genuine = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var (signer, verifierKey) = HostedSumDbGoTests.NewKey();
        await using var first = await WarrenInstance.StartAsync(genuine.Url, o => o.HostedSumDb = signer);

        var poisoned = Manifest.Get("github.com/BurntSushi/toml", "v1.2.0");
        await using var hostile = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var poisonedZip = Poison(poisoned);
        hostile.Intercept = async context =>
        {
            if (context.Request.Path.Value == "/github.com/!burnt!sushi/toml/@v/v1.2.0.zip")
            {
                await hostile.SendFileAsync(context, poisonedZip);
                return true;
            }

            return false;
        };

        // The second Warren also hosts a database of its own: public modules enter it only once verified.
        var (secondSigner, _) = HostedSumDbGoTests.NewKey("sum.second.test");
        await using var second = await WarrenInstance.StartAsync(hostile.Url, o =>
        {
            o.SumDb = $"{verifierKey} {first.Url}/sumdb/{Name}";
            o.HostedSumDb = secondSigner;
        });
        var go = new GoRunner(second.Url);
        var outside = TestPaths.NewTempDir("outside");

        // Genuine modules pass.
        var genuineEntries = Manifest.All.Where(e => e.Path.StartsWith("golang.org/x/", StringComparison.Ordinal)).Take(4).ToList();
        var ok = await go.RunAsync(outside, ["mod", "download", "-json", .. genuineEntries.Select(e => e.ToString())]);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal(genuineEntries.Select(e => e.ZipHash).Order(), GoRunner.JsonStream(ok.Stdout).Select(m => m.GetProperty("Sum").GetString()).Order());

        // The poisoned one is refused, to the go command and to a plain client.
        var refused = await go.RunAsync(outside, "mod", "download", "-json", poisoned.ToString());
        Assert.True(refused.ExitCode != 0, refused.ToString());
        Assert.Contains("checksum mismatch", refused.ToString(), StringComparison.Ordinal);

        using var response = await second.Client.GetAsync("github.com/!burnt!sushi/toml/@v/v1.2.0.zip");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(502, (int)response.StatusCode);
        Assert.StartsWith("checksum mismatch:", body, StringComparison.Ordinal);
        Assert.Contains(poisoned.ZipHash, body, StringComparison.Ordinal);
        Assert.Contains(Warren.Core.Modules.DirHash.HashZip(poisonedZip), body, StringComparison.Ordinal);
        Assert.Contains(hostile.Url.TrimEnd('/'), body, StringComparison.Ordinal);
        Assert.Contains(Name, body, StringComparison.Ordinal);

        Assert.False(File.Exists(Stored(second.Root, poisoned.Path, poisoned.Version, ArtifactKind.Zip)), "the poisoned zip was stored");
        Assert.False(File.Exists(Stored(second.Root, poisoned.Path, poisoned.Version, ArtifactKind.ZipHash)));
        Assert.True(File.Exists(Stored(second.Root, genuineEntries[0].Path, genuineEntries[0].Version, ArtifactKind.Zip)));
        Assert.True(second.Metrics.ChecksumMismatches >= 1);

        using (var logged = await second.Client.GetAsync($"sumdb/sum.second.test/lookup/{genuineEntries[0].Path}@{genuineEntries[0].Version}"))
        {
            Assert.Equal(200, (int)logged.StatusCode);
            Assert.Contains(genuineEntries[0].ZipHash, await logged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var notLogged = await second.Client.GetAsync("sumdb/sum.second.test/lookup/github.com/!burnt!sushi/toml@v1.2.0"))
        {
            Assert.Equal(502, (int)notLogged.StatusCode);
            Assert.StartsWith("checksum mismatch:", await notLogged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var secondLatest = await second.Client.GetStringAsync("sumdb/sum.second.test/latest");
        Assert.Equal(genuineEntries.Count, HostedSumDbGoTests.TreeSize(secondLatest));
        Assert.Contains("warren_checksum_mismatches_total{database=\"sumdb\"}", await second.Client.GetStringAsync("metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forked_log_is_refused_both_as_a_second_head_of_the_same_size_and_as_an_inconsistent_newer_head()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var (signer, verifierKey) = HostedSumDbGoTests.NewKey();
        var m = Manifest.All.Where(e => e.Path.StartsWith("golang.org/x/", StringComparison.Ordinal)).Take(4).ToList();

        var firstRoot = TestPaths.NewTempDir("first");
        var first = await WarrenInstance.StartAsync(upstream.Url, o => o.HostedSumDb = signer, firstRoot);
        var port = new Uri(first.Url).Port;
        await using var second = await WarrenInstance.StartAsync(upstream.Url, o => o.SumDb = $"{verifierKey} {first.Url}/sumdb/{Name}");
        try
        {
            await LogAsync(first, m[0], m[1]);
            Assert.Equal(200, await StatusAsync(second, m[0]));
        }
        finally
        {
            await first.DisposeAsync();
        }

        // The same key now signs another history on the same address: m1 then m0.
        await using var fork = await WarrenInstance.StartAsync(upstream.Url, o =>
        {
            o.HostedSumDb = signer;
            o.Listen = $"127.0.0.1:{port}";
        });
        await LogAsync(fork, m[1], m[0]);

        var sameSize = await BodyAsync(second, m[1]);
        Assert.Equal(502, sameSize.Status);
        Assert.Contains("SECURITY ERROR", sameSize.Body, StringComparison.Ordinal);
        Assert.Contains("two different signed tree heads of size 2", sameSize.Body, StringComparison.Ordinal);

        var newer = await BodyAsync(second, m[2]);
        Assert.Equal(502, newer.Status);
        Assert.Contains("SECURITY ERROR", newer.Body, StringComparison.Ordinal);
        Assert.Contains("tree#2 has hash", newer.Body, StringComparison.Ordinal);

        foreach (var refused in new[] { m[1], m[2] })
        {
            Assert.False(File.Exists(Stored(second.Root, refused.Path, refused.Version, ArtifactKind.Zip)), refused + " was stored");
            Assert.False(File.Exists(Stored(second.Root, refused.Path, refused.Version, ArtifactKind.Mod)), refused + " .mod was stored");
        }

        // The verified head was kept: size 2 of the first history.
        var client = second.Metrics.SumDbVerifications("fork");
        Assert.Equal(2, client);
    }

    [Fact]
    public async Task Without_a_URL_lookups_go_through_the_first_upstream_proxy_that_supports_the_database()
    {
        await using var genuine = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var (signer, verifierKey) = HostedSumDbGoTests.NewKey();
        await using var first = await WarrenInstance.StartAsync(genuine.Url, o => o.HostedSumDb = signer);

        // The first proxy of the chain has no modules and no checksum database (404 to /sumdb/NAME/supported).
        await using var bare = await FakeUpstream.StartAsync(TestPaths.NewTempDir("bare"));
        await using var second = await WarrenInstance.StartAsync($"{bare.Url},{first.Url}", o => o.SumDb = verifierKey);

        var entry = Manifest.All.First(e => e.Path.StartsWith("golang.org/x/", StringComparison.Ordinal));
        using var zip = await second.Client.GetAsync($"{Manifest.Escape(entry.Path)}/@v/{Manifest.Escape(entry.Version)}.zip");
        Assert.Equal(200, (int)zip.StatusCode);
        Assert.Contains(bare.Requests, r => r == $"/sumdb/{Name}/supported");
        Assert.DoesNotContain(bare.Requests, r => r.Contains("/lookup/", StringComparison.Ordinal));
        Assert.True(second.Metrics.SumDbVerifications("ok") >= 1);
        var lookup = await first.Client.GetStringAsync($"sumdb/{Name}/lookup/{Manifest.Escape(entry.Path)}@{Manifest.Escape(entry.Version)}");
        Assert.Contains(entry.ZipHash, lookup, StringComparison.Ordinal);
    }

    private static async Task LogAsync(WarrenInstance warren, params ManifestEntry[] entries)
    {
        foreach (var e in entries)
        {
            using var response = await warren.Client.GetAsync($"sumdb/{Name}/lookup/{Manifest.Escape(e.Path)}@{Manifest.Escape(e.Version)}");
            Assert.Equal(200, (int)response.StatusCode);
        }
    }

    private static async Task<int> StatusAsync(WarrenInstance warren, ManifestEntry e) => (await BodyAsync(warren, e)).Status;

    private static async Task<(int Status, string Body)> BodyAsync(WarrenInstance warren, ManifestEntry e)
    {
        using var response = await warren.Client.GetAsync($"{Manifest.Escape(e.Path)}/@v/{Manifest.Escape(e.Version)}.mod");
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Stored(string root, string path, string version, ArtifactKind kind) =>
        Path.Combine(root, Manifest.Escape(path), "@v", Manifest.Escape(version) + kind switch
        {
            ArtifactKind.Mod => ".mod",
            ArtifactKind.Zip => ".zip",
            ArtifactKind.ZipHash => ".ziphash",
            _ => ".info",
        });

    /// <summary>The same module version with different bytes: a valid zip whose first .go file gained a comment.</summary>
    internal static string Poison(ManifestEntry entry)
    {
        var target = Path.Combine(TestPaths.NewTempDir("poison"), "poisoned.zip");
        using (var source = ZipFile.OpenRead(entry.ZipPath))
        using (var output = ZipFile.Open(target, ZipArchiveMode.Create))
        {
            var done = false;
            foreach (var item in source.Entries)
            {
                var copy = output.CreateEntry(item.FullName, CompressionLevel.Optimal);
                using var from = item.Open();
                using var to = copy.Open();
                from.CopyTo(to);
                if (!done && item.FullName.EndsWith(".go", StringComparison.Ordinal))
                {
                    to.Write("\n// harmless-looking change\n"u8);
                    done = true;
                }
            }
        }

        return target;
    }
}
