using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Warren.Tools.Reporting;
using Warren.Tools.Verify;

namespace Warren.Tools.Tests.Verify;

public sealed class VerifyTests
{
    private static readonly ManifestEntry[] M = VerifyCache.Modules;

    private static List<Finding> About(Report report, ManifestEntry m) => report.Findings.Where(f => f.Subject == m.ToString()).ToList();

    private static void AssertHealthy(Report report, ManifestEntry m)
    {
        var findings = About(report, m);
        var pass = Assert.Single(findings);
        Assert.Equal(("cache.module", Verdict.Pass), (pass.Check, pass.Verdict));
    }

    [Fact]
    public async Task Healthy_cache_passes_with_the_go_clients_own_hashes()
    {
        await using var cache = await VerifyCache.CreateAsync();
        var report = await cache.VerifyAsync();

        Assert.True(report.ExitCode == 0, report.ToJson());
        foreach (var m in M)
        {
            AssertHealthy(report, m);
            // The hashes computed from the zip, the extracted directory and the .mod are the go client's h1.
            var evidence = About(report, m)[0].Evidence;
            Assert.Contains("zip, dir, .ziphash " + m.ZipHash, evidence, StringComparison.Ordinal);
            Assert.Contains("go.mod " + m.ModHash, evidence, StringComparison.Ordinal);
        }

        var summary = report.Findings[^1];
        Assert.Equal(("verify.summary", Verdict.Pass), (summary.Check, summary.Verdict));
        Assert.Contains("5 module versions (5 zips, 5 extracted directories, 5 go.mod files)", summary.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_corruption_is_named_even_outside_the_build_list_and_fix_removes_exactly_those()
    {
        await using var cache = await VerifyCache.CreateAsync();
        var (zipBad, dirBad, outside) = (M[1], M[2], M[3]);
        cache.CorruptZip(zipBad);
        var edited = cache.ModifyExtractedFile(dirBad);
        cache.OverwriteZipBytes(outside);

        // go mod verify only covers the build list of a main module: here one that requires two of the three.
        var main = Path.Combine(cache.Work, "main");
        Directory.CreateDirectory(main);
        await File.WriteAllTextAsync(Path.Combine(main, "go.mod"),
            $"module example.com/main\n\ngo 1.19\n\nrequire (\n\t{zipBad.Path} {zipBad.Version}\n\t{dirBad.Path} {dirBad.Version}\n)\n");
        File.Copy(cache.WriteGoSum("main.sum", [zipBad, dirBad]), Path.Combine(main, "go.sum"));
        var goVerify = await cache.Go.RunAsync(main, "mod", "verify");
        Assert.NotEqual(0, goVerify.ExitCode);
        Assert.Contains($"{zipBad.Path} {zipBad.Version}: zip has been modified", goVerify.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(outside.Path, goVerify.Stderr, StringComparison.Ordinal);

        var report = await cache.VerifyAsync();
        Assert.Equal(2, report.ExitCode);
        var zipFinding = Assert.Single(About(report, zipBad));
        Assert.Equal(("cache.zip-hash", Verdict.Fail), (zipFinding.Check, zipFinding.Verdict));
        Assert.Contains(zipBad.ZipHash, zipFinding.Evidence, StringComparison.Ordinal);
        var dirFinding = Assert.Single(About(report, dirBad));
        Assert.Equal(("cache.dir-hash", Verdict.Fail), (dirFinding.Check, dirFinding.Verdict));
        Assert.Contains($"expected {dirBad.ZipHash}", dirFinding.Evidence, StringComparison.Ordinal);
        var overwritten = Assert.Single(About(report, outside));
        Assert.Contains(overwritten.Check, new[] { "cache.zip-hash", "cache.zip-unreadable" });
        Assert.Equal(Verdict.Fail, overwritten.Verdict);
        AssertHealthy(report, M[0]);
        AssertHealthy(report, M[4]);
        Assert.Equal(Verdict.Fail, report.Findings[^1].Verdict);

        // --fix: the extracted directory of dirBad only (its zip is fine); zip, .ziphash and directory of the others.
        var healthyZip = cache.Zip(M[0]);
        var healthyStamp = File.GetLastWriteTimeUtc(healthyZip);
        var fixedReport = await cache.VerifyAsync(fix: true);
        Assert.Equal(1, fixedReport.ExitCode);
        Assert.All(fixedReport.Findings.Where(f => f.Check.StartsWith("cache.", StringComparison.Ordinal) && f.Verdict != Verdict.Pass),
            f => Assert.Contains("fixed: removed", f.Evidence, StringComparison.Ordinal));
        Assert.False(Directory.Exists(cache.Dir(dirBad)));
        Assert.False(File.Exists(edited));
        Assert.True(File.Exists(cache.Zip(dirBad)));
        Assert.True(File.Exists(cache.CacheFile(dirBad, "ziphash")));
        foreach (var m in new[] { zipBad, outside })
        {
            Assert.False(File.Exists(cache.Zip(m)));
            Assert.False(File.Exists(cache.CacheFile(m, "ziphash")));
            Assert.False(Directory.Exists(cache.Dir(m)));
            Assert.True(File.Exists(cache.CacheFile(m, "mod")));
        }

        foreach (var m in new[] { M[0], M[4] })
        {
            Assert.True(Directory.Exists(cache.Dir(m)));
            Assert.True(File.Exists(cache.CacheFile(m, "ziphash")));
        }

        Assert.Equal(healthyStamp, File.GetLastWriteTimeUtc(healthyZip));

        // The go command fetches and extracts again what was removed; then all is well.
        await cache.DownloadAsync(M);
        var goVerifyAfter = await cache.Go.RunAsync(main, "mod", "verify");
        Assert.True(goVerifyAfter.ExitCode == 0, goVerifyAfter.ToString());
        var after = await cache.VerifyAsync();
        Assert.True(after.ExitCode == 0, after.ToJson());
        Assert.All(M, m => AssertHealthy(after, m));
    }

    [Fact]
    public async Task Killed_download_interrupted_extraction_and_missing_files_are_found_and_fixed()
    {
        await using var cache = await VerifyCache.CreateAsync();
        var big = Manifest.Get("golang.org/x/text", "v0.7.0");
        // The upstream sends the first megabyte of the zip and then stalls, like a slow network; go is killed mid-download.
        var zipUrl = $"/{big.Path}/@v/{big.Version}.zip";
        cache.Upstream.Intercept = async context =>
        {
            if (context.Request.Path.Value != zipUrl)
            {
                return false;
            }

            var bytes = await File.ReadAllBytesAsync(big.ZipPath);
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes.AsMemory(0, 1 << 20));
            await context.Response.Body.FlushAsync();
            try
            {
                await Task.Delay(TimeSpan.FromMinutes(2), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }

            return true;
        };
        var vDir = Path.GetDirectoryName(cache.Zip(big))!;
        using (var go = cache.StartGo("mod", "download", big.ToString()))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!(Directory.Exists(vDir) && Directory.EnumerateFiles(vDir, "*.tmp").Any(f => new FileInfo(f).Length > 0)))
            {
                Assert.True(DateTime.UtcNow < deadline, "the go client never started writing the zip");
                if (go.HasExited)
                {
                    Assert.Fail("go finished before it could be killed: " + await go.StandardError.ReadToEndAsync());
                }

                await Task.Delay(20);
            }

            go.Kill(entireProcessTree: true);
            await go.WaitForExitAsync();
        }

        Assert.False(File.Exists(cache.Zip(big)));
        var tmp = Assert.Single(Directory.GetFiles(vDir, "*.tmp"));

        // A .partial marker as the go command leaves it while extracting (killed then).
        var extracting = M[0];
        await File.WriteAllTextAsync(cache.CacheFile(extracting, "partial"), "");

        // A zip whose .ziphash was lost, and an extracted directory whose zip was removed.
        var (noZipHash, noZip) = (M[2], M[3]);
        File.Delete(cache.CacheFile(noZipHash, "ziphash"));
        File.Delete(cache.Zip(noZip));

        var report = await cache.VerifyAsync();
        Assert.Equal(2, report.ExitCode);
        var lost = Assert.Single(About(report, noZipHash));
        Assert.Equal(("cache.ziphash-missing", Verdict.Fail), (lost.Check, lost.Verdict));
        var zipless = Assert.Single(About(report, noZip));
        Assert.Equal(("cache.dir-without-zip", Verdict.Warn), (zipless.Check, zipless.Verdict));
        var killed = About(report, big);
        Assert.Contains(killed, f => f.Check == "cache.tmp-leftover" && f.Evidence.Contains(Path.GetFileName(tmp), StringComparison.Ordinal));
        Assert.Contains(killed, f => f.Check == "cache.download-interrupted" && f.Verdict == Verdict.Warn);
        var partial = Assert.Single(About(report, extracting));
        Assert.Equal(("cache.dir-partial", Verdict.Fail), (partial.Check, partial.Verdict));
        AssertHealthy(report, M[1]);

        var fixedReport = await cache.VerifyAsync(fix: true);
        Assert.Equal(1, fixedReport.ExitCode);
        Assert.False(File.Exists(tmp));
        Assert.False(File.Exists(cache.CacheFile(extracting, "partial")));
        Assert.False(Directory.Exists(cache.Dir(extracting)));
        Assert.True(File.Exists(cache.Zip(extracting)));
        Assert.False(File.Exists(cache.Zip(noZipHash)));
        Assert.False(Directory.Exists(cache.Dir(noZipHash)));
        Assert.True(Directory.Exists(cache.Dir(noZip)));
        Assert.True(File.Exists(cache.CacheFile(noZip, "ziphash")));

        cache.Upstream.Intercept = null;
        await cache.DownloadAsync([.. M, big]);
        var after = await cache.VerifyAsync();
        Assert.True(after.ExitCode == 0, after.ToJson());
        AssertHealthy(after, big);
        AssertHealthy(after, extracting);
        Assert.Contains(big.ZipHash, About(after, big)[0].Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Go_sum_lines_are_compared_with_the_cache()
    {
        await using var cache = await VerifyCache.CreateAsync();
        var notCached = Manifest.Get("github.com/spf13/cast", "v1.5.0");
        var altered = M[2];
        var wrong = "h1:" + Convert.ToBase64String(new byte[32]);
        var goSum = cache.WriteGoSum("go.sum", [.. M, notCached],
            text => text.Replace($"{altered.Path} {altered.Version}/go.mod {altered.ModHash}", $"{altered.Path} {altered.Version}/go.mod {wrong}", StringComparison.Ordinal));

        var report = await cache.VerifyAsync(false, goSum);
        Assert.Equal(2, report.ExitCode);
        var mismatch = Assert.Single(About(report, altered));
        Assert.Equal(("gosum.mismatch", Verdict.Fail), (mismatch.Check, mismatch.Verdict));
        Assert.Contains(wrong, mismatch.Evidence, StringComparison.Ordinal);
        Assert.Contains($"go.mod is {altered.ModHash}", mismatch.Evidence, StringComparison.Ordinal);
        var missing = About(report, notCached);
        Assert.Equal(2, missing.Count);
        Assert.All(missing, f => Assert.Equal(("gosum.not-in-cache", Verdict.Warn), (f.Check, f.Verdict)));
        foreach (var m in M.Where(m => m != altered))
        {
            AssertHealthy(report, m);
            Assert.Contains("matches go.sum", About(report, m)[0].Evidence, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Module_from_a_poisoned_proxy_is_flagged_against_the_genuine_go_sum()
    {
        var poisoned = M[3];
        var evil = Path.Combine(TestPaths.NewTempDir("verify-poison"), "evil.zip");
        using (var original = ZipFile.OpenRead(poisoned.ZipPath))
        using (var zip = ZipFile.Open(evil, ZipArchiveMode.Create))
        {
            foreach (var e in original.Entries)
            {
                using var from = e.Open();
                using var to = zip.CreateEntry(e.FullName).Open();
                await from.CopyToAsync(to);
            }

            using var w = new StreamWriter(zip.CreateEntry($"{poisoned.Path}@{poisoned.Version}/backdoor.go").Open());
            await w.WriteAsync("package clock\n\nfunc init() {}\n");
        }

        var zipUrl = $"/{Manifest.Escape(poisoned.Path)}/@v/{poisoned.Version}.zip";
        await using var cache = await VerifyCache.CreateAsync(intercept: async context =>
        {
            if (context.Request.Path.Value != zipUrl)
            {
                return false;
            }

            await context.Response.SendFileAsync(evil);
            return true;
        });
        Assert.Equal(1, cache.Upstream.HitsFor(zipUrl));

        // The cache is self-consistent (the go client hashed what it got), so only go.sum tells.
        var plain = await cache.VerifyAsync();
        Assert.Equal(0, plain.ExitCode);

        var report = await cache.VerifyAsync(false, cache.WriteGoSum("genuine.sum", M));
        Assert.Equal(2, report.ExitCode);
        var finding = Assert.Single(About(report, poisoned));
        Assert.Equal(("gosum.mismatch", Verdict.Fail), (finding.Check, finding.Verdict));
        Assert.Contains(poisoned.ZipHash, finding.Evidence, StringComparison.Ordinal);
        Assert.Contains($"has {poisoned.ZipHash}; the cache's .ziphash, zip, dir are h1:", finding.Evidence, StringComparison.Ordinal);
        foreach (var m in M.Where(m => m != poisoned))
        {
            AssertHealthy(report, m);
        }
    }

    [Fact]
    public async Task Cache_is_checked_against_a_checksum_database()
    {
        await using var cache = await VerifyCache.CreateAsync();
        await using var db = await TestSumDb.StartAsync();
        var (lying, missing) = (M[1], M[4]);
        foreach (var m in M.Where(m => m != missing))
        {
            db.Add(m.Path, m.Version, m == lying ? TestSumDb.FakeHash("not the zip") : m.ZipHash, m.ModHash);
        }

        var state = TestPaths.NewTempDir("verify-sumdb");
        var report = await ModCacheVerifier.VerifyAsync(new VerifyOptions(cache.ModCache)
        {
            SumDb = new Warren.Protocol.SumDb.SumDbConfig("sum.test.example", db.VerifierKey, new Uri(db.Url)),
            SumDbStateDirectory = state,
        }, CancellationToken.None);

        Assert.Equal(2, report.ExitCode);
        var lie = Assert.Single(About(report, lying));
        Assert.Equal(("sumdb.mismatch", Verdict.Fail), (lie.Check, lie.Verdict));
        Assert.Contains($"has {TestSumDb.FakeHash("not the zip")}; the cache's .ziphash, zip, dir are {lying.ZipHash}", lie.Evidence, StringComparison.Ordinal);
        Assert.Equal(("sumdb.not-found", Verdict.Warn), (About(report, missing)[0].Check, About(report, missing)[0].Verdict));
        foreach (var m in M.Where(m => m != lying && m != missing))
        {
            AssertHealthy(report, m);
            Assert.Contains("matches sum.test.example", About(report, m)[0].Evidence, StringComparison.Ordinal);
        }

        Assert.NotEmpty(Directory.GetFiles(state, "*", SearchOption.AllDirectories));

        // A private path (GOPRIVATE/GONOSUMDB) is never sent to the database: not even the lying one is looked up.
        int LookupsOfLying() => db.Requests.Count(r => r.StartsWith("/lookup/" + Manifest.Escape(lying.Path) + "@", StringComparison.Ordinal));
        var before = LookupsOfLying();
        Assert.True(before > 0);
        var privateReport = await ModCacheVerifier.VerifyAsync(new VerifyOptions(cache.ModCache)
        {
            SumDb = new Warren.Protocol.SumDb.SumDbConfig("sum.test.example", db.VerifierKey, new Uri(db.Url)),
            SumDbStateDirectory = state,
            NoSumDb = lying.Path,
        }, CancellationToken.None);
        Assert.Contains("private (GOPRIVATE/GONOSUMDB)", Assert.Single(About(privateReport, lying)).Evidence, StringComparison.Ordinal);
        Assert.Equal(before, LookupsOfLying());
        Assert.Equal(1, privateReport.ExitCode);
    }

    [Fact]
    public async Task Cli_prints_json_and_exits_with_the_verdict()
    {
        await using var cache = await VerifyCache.CreateAsync(M[..2]);
        cache.CorruptZip(M[1]);
        var warren = Path.Combine(AppContext.BaseDirectory, "warren.dll");

        var run = await Processes.RunAsync("dotnet", cache.Work, null, [warren, "verify", "--modcache", cache.ModCache, "--json", "--jobs", "2"]);
        Assert.True(run.ExitCode == 2, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal("verify", json.RootElement.GetProperty("command").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Equal(2, json.RootElement.GetProperty("summary").GetProperty("fail").GetInt32()); // the zip and the summary
        var bad = json.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("check").GetString() == "cache.zip-hash");
        Assert.Equal(M[1].ToString(), bad.GetProperty("subject").GetString());
        Assert.Equal("Fail", bad.GetProperty("verdict").GetString());

        var fix = await Processes.RunAsync("dotnet", cache.Work, null, [warren, "verify", "--modcache", cache.ModCache, "--json", "--fix"]);
        Assert.True(fix.ExitCode == 1, fix.ToString());
        Assert.False(File.Exists(cache.Zip(M[1])));
        Assert.True(File.Exists(cache.Zip(M[0])));

        var usage = await Processes.RunAsync("dotnet", cache.Work, null, [warren, "verify", "--modcache", cache.ModCache, "--sumdb", "a b c"]);
        Assert.Equal(64, usage.ExitCode);
    }

    [Fact]
    public void Removal_never_leaves_the_module_cache()
    {
        var root = TestPaths.NewTempDir("verify-guard");
        var cacheDir = Path.Combine(root, "modcache");
        Directory.CreateDirectory(cacheDir);
        var outside = Path.Combine(root, "precious");
        File.WriteAllText(outside, "keep");
        Assert.Throws<InvalidOperationException>(() => CacheRemoval.Remove(cacheDir, Path.Combine(cacheDir, "..", "precious")));
        Assert.Throws<InvalidOperationException>(() => CacheRemoval.Remove(cacheDir, cacheDir));
        File.CreateSymbolicLink(Path.Combine(cacheDir, "link"), root);
        Assert.Throws<InvalidOperationException>(() => CacheRemoval.Remove(cacheDir, Path.Combine(cacheDir, "link", "precious")));
        Assert.True(File.Exists(outside));
    }
}
