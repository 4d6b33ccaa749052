using System.Text.Json;
using Warren.Server.SumDb;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Tests.SumDb;

namespace Warren.Server.Tests.Mirror;

/// <summary>Air-gapped sites: `warren export` writes a bundle of validate/closed's build list from a Warren that hosts
/// a checksum database; the real go client builds from it with GOPROXY=file:// and GOSUMDB=the verifier key, with no
/// Warren running and no network; `warren import` checks it into an empty store that `warren serve --offline` serves.</summary>
public sealed class BundleTests(BundleFixture fixture) : IClassFixture<BundleFixture>
{
    private const string Name = HostedSumDbGoTests.Name;

    /// <summary>Runs the warren CLI built beside the tests.</summary>
    internal static Task<ProcessResult> WarrenCliAsync(params string[] args) =>
        Processes.RunAsync("dotnet", null, null, [WarrenProcess.Dll, .. args], timeout: TimeSpan.FromMinutes(8));

    /// <summary>A go client with nothing but the bundle: GOPROXY=file://, every module verified against the hosted
    /// database's data in it.</summary>
    internal static GoRunner GoFromBundle(string bundle, string verifierKey) =>
        new GoRunner("file://" + bundle).With("GOSUMDB", verifierKey).With("GONOSUMDB", "");

    /// <summary>The source of a bundle: the corpus behind a Warren hosting a checksum database.</summary>
    internal sealed class Source : IAsyncDisposable
    {
        private FakeUpstream? _upstream;
        private WarrenInstance? _warren;

        public string Signer { get; private set; } = "";

        public string VerifierKey { get; private set; } = "";

        public string Url => _warren!.Url;

        /// <summary>The source Warren's store directory.</summary>
        public string Root => _warren!.Root;

        public string SumDb => $"{VerifierKey} {Url}/sumdb/{Name}";

        /// <param name="vulnDb">The source Warren's --vulndb (default off).</param>
        public static async Task<Source> StartAsync(string? vulnDb = null)
        {
            var source = new Source { _upstream = await FakeUpstream.StartAsync(TestPaths.Corpus) };
            (source.Signer, source.VerifierKey) = HostedSumDbGoTests.NewKey();
            source._warren = await WarrenInstance.StartAsync(source._upstream.Url, o =>
            {
                o.HostedSumDb = source.Signer;
                o.VulnDb = vulnDb ?? "off";
            });
            return source;
        }

        public async Task<ProcessResult> ExportAsync(string bundle, params string[] more) =>
            await ExportWithAsync(SumDb, bundle, more);

        /// <param name="sumDb">--sumdb: with a URL, or only the key, for the database to be found as the go command
        /// finds it (the proxy's sumdb/NAME/supported first, then the database itself).</param>
        public async Task<ProcessResult> ExportWithAsync(string sumDb, string bundle, params string[] more) =>
            await WarrenCliAsync(["export", "--out", bundle, "--proxy", Url, "--sumdb", sumDb, "--json", .. more]);

        public async ValueTask DisposeAsync()
        {
            if (_warren is not null)
            {
                await _warren.DisposeAsync();
            }

            if (_upstream is not null)
            {
                await _upstream.DisposeAsync();
            }
        }
    }

    /// <summary>validate/closed with its requirements completed by a go build through the source (as a developer's
    /// checkout has them), then without its go.sum, so that the go command verifies every module with the database.</summary>
    internal static async Task<string> ClosedWithoutGoSumAsync(Source source)
    {
        var work = ValidateClosed.Copy();
        await ValidateClosed.BuildAndDownloadAllAsync(HostedSumDbGoTests.GoVerifyingWith(source.Url, source.VerifierKey), work);
        File.Delete(Path.Combine(work, "go.sum"));
        return work;
    }

    /// <summary>A copy of a program directory (its completed go.mod) in a new temporary directory.</summary>
    internal static string CopyOf(string work)
    {
        var copy = TestPaths.NewTempDir("program");
        foreach (var file in Directory.GetFiles(work))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }

    internal static JsonElement ManifestOf(string bundle) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(bundle, "warren-bundle.json"))).RootElement;

    internal static void AssertVerifiedBuild(GoRunner go, List<JsonElement> modules)
    {
        var latest = Path.Combine(go.Home, "gopath", "pkg", "sumdb", Name, "latest");
        Assert.True(File.Exists(latest), "the go command verified nothing against " + Name);
        foreach (var m in modules)
        {
            var entry = Manifest.Get(m.GetProperty("Path").GetString()!, m.GetProperty("Version").GetString()!);
            Assert.Equal(entry.ZipHash, m.GetProperty("Sum").GetString());
        }
    }

    [Fact]
    public async Task Go_builds_validate_closed_from_the_bundle_alone_verifying_every_module_with_no_warren_running()
    {
        // The manifest lists every file with its hash, and the checksum data is there.
        var bundle = fixture.Bundle;
        var manifest = ManifestOf(bundle);
        var files = manifest.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()!).ToList();
        Assert.Contains($"sumdb/{Name}/latest", files);
        Assert.Contains($"sumdb/{Name}/supported", files);
        Assert.Contains(files, f => f.StartsWith($"sumdb/{Name}/tile/8/0/", StringComparison.Ordinal));
        Assert.StartsWith("b1.", manifest.GetProperty("cursor").GetString());

        // Without --with-vulndb: no vulnerability database, as before.
        Assert.DoesNotContain("vulndb.zip", files);
        Assert.False(manifest.TryGetProperty("vulnDb", out _), "a bundle exported without --with-vulndb names a vulnerability database");
        var versions = manifest.GetProperty("versions").EnumerateArray().ToList();
        Assert.True(versions.Count(v => v.GetProperty("zip").GetBoolean()) >= 50, "too few zips: " + versions.Count);
        foreach (var v in versions)
        {
            Assert.Contains($"sumdb/{Name}/lookup/{Manifest.Escape(v.GetProperty("path").GetString()!)}@{Manifest.Escape(v.GetProperty("version").GetString()!)}", files);
        }

        // No Warren, no network: the bundle and the verifier key are all the go command has.
        var go = GoFromBundle(bundle, fixture.VerifierKey);
        var modules = await ValidateClosed.BuildAndDownloadAllAsync(go, CopyOf(fixture.Program));
        AssertVerifiedBuild(go, modules);
    }

    [Fact]
    public void The_manifest_lists_every_file_of_the_bundle_with_the_hash_and_size_it_has_on_disk()
    {
        // Zips, .mod and .info files are hashed as export writes them, the rest afterwards: every entry must be what a
        // reader of the bundle computes from the file itself.
        var bundle = fixture.Bundle;
        var listed = ManifestOf(bundle).GetProperty("files").EnumerateArray()
            .ToDictionary(f => f.GetProperty("path").GetString()!, f => (Sha256: f.GetProperty("sha256").GetString()!, Size: f.GetProperty("size").GetInt64()));
        var onDisk = Directory.EnumerateFiles(bundle, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(bundle, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => f is not ("warren-bundle.json" or "warren-bundle.sig"))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(onDisk, listed.Keys.Order(StringComparer.Ordinal).ToList());
        Assert.Contains(onDisk, f => f.EndsWith(".zip", StringComparison.Ordinal));
        foreach (var path in onDisk)
        {
            var bytes = File.ReadAllBytes(Path.Combine(bundle, path));
            Assert.Equal((Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), (long)bytes.Length), listed[path]);
        }
    }

    [Fact]
    public async Task A_bundle_with_one_zip_byte_changed_is_refused_at_import_naming_the_file_and_by_the_go_command()
    {
        var tampered = TestPaths.NewTempDir("tampered");
        CopyTree(fixture.Bundle, tampered);
        var victim = ManifestOf(tampered).GetProperty("versions").EnumerateArray().First(v => v.GetProperty("zip").GetBoolean());
        var (path, version) = (victim.GetProperty("path").GetString()!, victim.GetProperty("version").GetString()!);
        var zip = $"{Manifest.Escape(path)}/@v/{Manifest.Escape(version)}.zip";
        var bytes = File.ReadAllBytes(Path.Combine(tampered, zip));
        // A byte of the first file's data (after its local header: 30 bytes, the name, the extra field), so the content
        // changes, not only metadata h1 does not cover.
        var dataStart = 30 + BitConverter.ToUInt16(bytes, 26) + BitConverter.ToUInt16(bytes, 28);
        bytes[dataStart + 2] ^= 0x01;
        File.WriteAllBytes(Path.Combine(tampered, zip), bytes);

        var root = TestPaths.NewTempDir("store");
        var import = await WarrenCliAsync("import", tampered, "--root", root, "--trust", fixture.BundleVerifier);
        Assert.True(import.ExitCode == 2, import.ToString());
        Assert.Contains(zip, import.Stdout, StringComparison.Ordinal);
        Assert.Contains("refused", import.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(root, Manifest.Escape(path))), "something of the tampered version was stored");
        Assert.Empty(Directory.EnumerateFiles(root, "*.zip", SearchOption.AllDirectories));

        // The manifest rewritten to match the changed zip: the signature no longer matches, and without --trust the
        // checksum database's record refuses the zip.
        var manifestFile = Path.Combine(tampered, "warren-bundle.json");
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var text = File.ReadAllText(manifestFile);
        var original = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(fixture.Bundle, zip))));
        File.WriteAllText(manifestFile, text.Replace(original, sha, StringComparison.Ordinal));
        var signed = await WarrenCliAsync("import", tampered, "--root", root, "--trust", fixture.BundleVerifier);
        Assert.True(signed.ExitCode == 2, signed.ToString());
        Assert.Contains("warren-bundle.json", signed.Stdout, StringComparison.Ordinal);
        var unsigned = await WarrenCliAsync("import", tampered, "--root", root, "--sumdb-key", fixture.VerifierKey);
        Assert.True(unsigned.ExitCode == 2, unsigned.ToString());
        Assert.Contains(zip, unsigned.Stdout, StringComparison.Ordinal);
        Assert.Contains("FAIL\timport.verify\t" + zip, unsigned.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(root, "*.zip", SearchOption.AllDirectories));

        // The go command, with the bundle as its only proxy, refuses the changed zip too.
        var go = GoFromBundle(tampered, fixture.VerifierKey);
        var download = await go.RunAsync(TestPaths.NewTempDir("outside"), "mod", "download", "-json", $"{path}@{version}");
        Assert.True(download.ExitCode != 0, "the go command accepted a changed zip:\n" + download);
    }

    [Fact]
    public async Task Imported_into_an_empty_store_warren_serve_offline_serves_the_same_verified_build_and_nothing_else()
    {
        var root = TestPaths.NewTempDir("offline");
        var import = await WarrenCliAsync("import", fixture.Bundle, "--root", root, "--trust", fixture.BundleVerifier, "--json");
        Assert.True(import.ExitCode == 0, import.ToString());

        // Idempotent: a second run stores nothing new.
        var again = await WarrenCliAsync("import", fixture.Bundle, "--root", root, "--trust", fixture.BundleVerifier);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains(" 0 files stored", again.Stdout, StringComparison.Ordinal);

        await using var warren = await WarrenInstance.StartAsync("https://unreachable.invalid", o =>
        {
            o.Offline = true;
            o.SumDb = fixture.VerifierKey;
        }, root);
        var go = new GoRunner(warren.Url).With("GOSUMDB", fixture.VerifierKey).With("GONOSUMDB", "");
        var modules = await ValidateClosed.BuildAndDownloadAllAsync(go, CopyOf(fixture.Program));
        AssertVerifiedBuild(go, modules);

        // The list of an imported module: the versions stored.
        var first = modules[0];
        var list = await warren.Client.GetStringAsync($"{Manifest.Escape(first.GetProperty("Path").GetString()!)}/@v/list");
        Assert.Contains(first.GetProperty("Version").GetString()!, list, StringComparison.Ordinal);

        // A miss: 404, one line, and nothing is asked of anyone.
        var extra = fixture.Extra;
        using var miss = await warren.Client.GetAsync($"{Manifest.Escape(extra.Path)}/@v/{Manifest.Escape(extra.Version)}.info");
        Assert.Equal(404, (int)miss.StatusCode);
        var body = await miss.Content.ReadAsStringAsync();
        Assert.Contains("is not in this offline mirror", body, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', body.TrimEnd('\n'));
        using var sumMiss = await warren.Client.GetAsync($"sumdb/{Name}/lookup/{Manifest.Escape(extra.Path)}@{Manifest.Escape(extra.Version)}");
        Assert.Equal(404, (int)sumMiss.StatusCode);
    }

    [Fact]
    public async Task An_import_killed_midway_leaves_no_partial_file_and_running_it_again_completes_it()
    {
        var root = TestPaths.NewTempDir("killed-import");
        using (var first = BackgroundProcess.Start("dotnet", [WarrenProcess.Dll, "import", fixture.Bundle, "--root", root, "--jobs", "1"]))
        {
            // Kill -9 once publishing has begun (or after a while, if it is quick).
            for (var i = 0; i < 200 && !first.HasExited && !Directory.EnumerateFiles(root, "*.mod", SearchOption.AllDirectories).Any(); i++)
            {
                await Task.Delay(50);
            }

            first.Kill();
        }

        // Whatever is visible is whole: every published zip is the bundle's, byte for byte.
        foreach (var zip in Directory.EnumerateFiles(root, "*.zip", SearchOption.AllDirectories).Where(z => !z.Contains("/.warren/", StringComparison.Ordinal)))
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(fixture.Bundle, Path.GetRelativePath(root, zip))), File.ReadAllBytes(zip));
        }

        var again = await WarrenCliAsync("import", fixture.Bundle, "--root", root);
        Assert.True(again.ExitCode == 0, again.ToString());
        foreach (var v in ManifestOf(fixture.Bundle).GetProperty("files").EnumerateArray())
        {
            var path = v.GetProperty("path").GetString()!;
            if (!path.StartsWith("sumdb/", StringComparison.Ordinal) && !path.EndsWith("/list", StringComparison.Ordinal))
            {
                Assert.True(File.Exists(Path.Combine(root, path)), path + " was not imported");
            }
        }
    }

    [Fact]
    public async Task An_incremental_export_carries_only_the_new_versions_and_imports_on_top_of_the_first()
    {
        var first = ManifestOf(fixture.Bundle).GetProperty("versions").EnumerateArray()
            .ToDictionary(v => (v.GetProperty("path").GetString()!, v.GetProperty("version").GetString()!), v => v.GetProperty("zip").GetBoolean());
        var second = ManifestOf(fixture.Incremental).GetProperty("versions").EnumerateArray().ToList();
        Assert.NotEmpty(second);
        Assert.Contains(second, v => v.GetProperty("path").GetString() == fixture.Extra.Path && v.GetProperty("version").GetString() == fixture.Extra.Version && v.GetProperty("zip").GetBoolean());
        foreach (var v in second)
        {
            var key = (v.GetProperty("path").GetString()!, v.GetProperty("version").GetString()!);
            Assert.False(first.TryGetValue(key, out var hadZip) && (hadZip || !v.GetProperty("zip").GetBoolean()), $"{key} was carried again");
        }

        // --record-in journaled the export in that store, as its console lists it.
        var recorded = Assert.Single(Warren.Storage.BundleJournal.Read(Warren.Storage.BundleJournal.PathUnder(fixture.RecordedIn)));
        Assert.Equal(("export", Path.GetFullPath(fixture.Incremental), true, second.Count), (recorded.Kind, recorded.Source, recorded.Succeeded, recorded.Stored));
        Assert.True(recorded.Bytes > 0);

        // No module file of the first bundle's versions is in the second.
        var zips = Directory.EnumerateFiles(fixture.Incremental, "*.zip", SearchOption.AllDirectories).Count();
        Assert.Equal(second.Count(v => v.GetProperty("zip").GetBoolean()), zips);

        // Imported after the first: the store serves both, every lookup at the newer head.
        // The second as one zstd-compressed .tar file, as it may travel.
        var tar = Path.Combine(TestPaths.NewTempDir("tar"), "bundle2.tar.zst");
        await Warren.Tools.Bundle.BundleArchive.CreateAsync(fixture.Incremental, tar, CancellationToken.None);
        var root = TestPaths.NewTempDir("offline-incremental");
        foreach (var bundle in new[] { fixture.Bundle, tar })
        {
            var import = await WarrenCliAsync("import", bundle, "--root", root, "--trust", fixture.BundleVerifier);
            Assert.True(import.ExitCode == 0, import.ToString());
        }

        await using var warren = await WarrenInstance.StartAsync("https://unreachable.invalid", o =>
        {
            o.Offline = true;
            o.SumDb = fixture.VerifierKey;
        }, root);
        var go = new GoRunner(warren.Url).With("GOSUMDB", fixture.VerifierKey).With("GONOSUMDB", "");
        var extra = await go.RunAsync(TestPaths.NewTempDir("outside"), "mod", "download", "-json", fixture.Extra.ToString());
        Assert.True(extra.ExitCode == 0, extra.ToString());
        Assert.Equal(fixture.Extra.ZipHash, GoRunner.JsonStream(extra.Stdout).Single().GetProperty("Sum").GetString());
        var modules = await ValidateClosed.BuildAndDownloadAllAsync(go, CopyOf(fixture.Program));
        AssertVerifiedBuild(go, modules);
    }

    internal static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}

/// <summary>Exports once for all <see cref="BundleTests"/>: validate/closed's build list (signed), then an incremental
/// bundle of one more corpus version; the source is stopped before any test runs.</summary>
public sealed class BundleFixture : IAsyncLifetime
{
    public string Bundle { get; } = TestPaths.NewTempDir("bundle");

    public string Incremental { get; } = TestPaths.NewTempDir("bundle2");

    public string Program { get; private set; } = "";

    public string VerifierKey { get; private set; } = "";

    /// <summary>The verifier key of the key the manifests are signed with.</summary>
    public string BundleVerifier { get; private set; } = "";

    /// <summary>A corpus version outside validate/closed's build list, with no requirements of its own.</summary>
    public ManifestEntry Extra { get; private set; } = null!;

    /// <summary>The store root whose bundle journal the incremental export was recorded in (--record-in).</summary>
    public string RecordedIn { get; } = TestPaths.NewTempDir("recorded-in");

    public async Task InitializeAsync()
    {
        var (bundleSigner, bundleVerifier) = HostedSumDbGoTests.NewKey("bundles.warren.test");
        BundleVerifier = bundleVerifier;
        await using var source = await BundleTests.Source.StartAsync();
        VerifierKey = source.VerifierKey;
        Program = await BundleTests.ClosedWithoutGoSumAsync(source);
        var export = await source.ExportAsync(Bundle, "--sign", bundleSigner, Program);
        Assert.True(export.ExitCode == 0, export.ToString());

        var carried = BundleTests.ManifestOf(Bundle).GetProperty("versions").EnumerateArray()
            .Select(v => (v.GetProperty("path").GetString()!, v.GetProperty("version").GetString()!)).ToHashSet();
        Extra = Manifest.All.First(e => !carried.Contains((e.Path, e.Version)) && !carried.Any(c => c.Item1 == e.Path)
            && !File.ReadAllText(Path.Combine(TestPaths.Corpus, Manifest.Escape(e.Path), "@v", Manifest.Escape(e.Version) + ".mod")).Contains("require", StringComparison.Ordinal));
        // The incremental export names the database by its key alone: it is reached through the proxy, which answers
        // sumdb/NAME/supported (the source hosts it), and the test below proves those checksum data verify.
        var incremental = await source.ExportWithAsync(source.VerifierKey, Incremental, "--sign", bundleSigner, "--since", Bundle, "--record-in", RecordedIn, Program, Extra.ToString());
        Assert.True(incremental.ExitCode == 0, incremental.ToString());
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>`serve --offline` as options: the upstream chain is off whatever else was configured, and following a feed
/// is refused.</summary>
public sealed class OfflineOptionsTests
{
    [Fact]
    public void Offline_turns_the_upstream_chain_off_and_refuses_a_feed_to_follow()
    {
        var builder = new Configuration.WarrenOptionsBuilder
        {
            Root = TestPaths.NewTempDir("offline-config"), Upstream = "https://proxy.example", SumDb = "off", Offline = true,
        };
        var options = builder.Build();
        Assert.Equal("off", options.Upstream);
        Assert.True(new Configuration.WarrenOptionsValidator().Validate(null, options).Succeeded);

        builder.Follow = "https://core.example/index";
        var problems = new Configuration.WarrenOptionsValidator().Validate(null, builder.Build()).Failures!.ToList();
        Assert.Single(problems, p => p.StartsWith("offline: cannot follow", StringComparison.Ordinal));
    }
}
