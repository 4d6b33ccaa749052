using Warren.Core.Modules;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

public sealed class CrashSafetyTests
{
    [Fact]
    public async Task Kill_9_during_many_cold_fetches_leaves_only_complete_verified_artifacts()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        upstream.ChunkSize = 32 * 1024;
        upstream.ChunkDelay = TimeSpan.FromMilliseconds(5);
        var root = TestPaths.NewTempDir("crash-store");
        var entries = Manifest.All.Where((_, i) => i % 5 == 0).Take(50).ToList();

        using (var server = await WarrenProcess.StartAsync(root, upstream.Url))
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
            var inFlight = entries.Select(e =>
            {
                ModulePath.TryEscapePath(e.Path, out var p, out _);
                ModulePath.TryEscapeVersion(e.Version, out var v, out _);
                return client.GetAsync($"{server.Url}/{p}/@v/{v}.zip");
            }).ToList();
            // Kill once some downloads have completed and others are still under way (the chunked upstream is slow).
            var waiting = System.Diagnostics.Stopwatch.StartNew();
            while (!Directory.EnumerateFiles(root, "*.zip", SearchOption.AllDirectories).Any() && waiting.Elapsed < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(50);
            }

            await Task.Delay(300);
            server.Kill();
            foreach (var t in inFlight)
            {
                try
                {
                    await t;
                }
                catch (HttpRequestException)
                {
                }
            }
        }

        // Nothing partial is visible: every stored zip and .mod is complete and has the go command's hash.
        var stored = Directory.EnumerateFiles(root, "*.zip", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(stored);
        Assert.True(stored.Count < entries.Count, $"the kill should have interrupted some downloads ({stored.Count} of {entries.Count} stored)");
        foreach (var zip in stored)
        {
            var hash = DirHash.HashZip(zip);
            Assert.Contains(Manifest.All, e => e.ZipHash == hash);
            Assert.True(File.Exists(zip[..^4] + ".ziphash"), zip);
        }

        var mods = Directory.EnumerateFiles(root, "*.mod", SearchOption.AllDirectories).ToList();
        Assert.True(mods.Count >= stored.Count, $"{mods.Count} .mod files for {stored.Count} zips");
        foreach (var mod in mods)
        {
            var hash = DirHash.HashGoMod(await File.ReadAllBytesAsync(mod));
            Assert.Contains(Manifest.All, e => e.ModHash == hash);
        }

        var staging = Path.Combine(root, ".warren", "staging");

        // Restart on the same store: leftovers are cleaned, and the go client gets every module with the right hashes.
        upstream.ChunkSize = 0;
        using (var server = await WarrenProcess.StartAsync(root, upstream.Url))
        {
            Assert.Empty(Directory.EnumerateFiles(staging, "*.partial", SearchOption.AllDirectories));

            var go = new GoRunner(server.Url);
            var args = new List<string> { "mod", "download", "-json" };
            args.AddRange(entries.Select(e => e.Path + "@" + e.Version));
            var result = await go.RunAsync(TestPaths.NewTempDir("crash-go"), args.ToArray());
            Assert.True(result.ExitCode == 0, result.ToString());
            foreach (var o in GoRunner.JsonStream(result.Stdout))
            {
                var e = Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!);
                Assert.Equal(e.ZipHash, o.GetProperty("Sum").GetString());
                Assert.Equal(e.ModHash, o.GetProperty("GoModSum").GetString());
            }

            var verifyDir = TestPaths.NewTempDir("crash-verify");
            await File.WriteAllTextAsync(Path.Combine(verifyDir, "go.mod"),
                "module example.com/crash\n\ngo 1.19\n\nrequire (\n" + string.Concat(entries.Where(e => !e.Path.Contains("kerberos") && !e.Path.Contains("sigv4"))
                    .GroupBy(e => e.Path).Select(g => $"\t{g.Key} {g.Last().Version}\n")) + ")\n");
            var verify = await go.RunAsync(verifyDir, "mod", "verify");
            Assert.True(verify.ExitCode == 0 && verify.Stdout.Contains("all modules verified"), verify.ToString());
        }
    }
}
