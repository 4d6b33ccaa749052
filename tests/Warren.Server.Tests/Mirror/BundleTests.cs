using System.Text.Json;
using Warren.Server.SumDb;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Tests.SumDb;

namespace Warren.Server.Tests.Mirror;

/// <summary>Air-gapped sites: `warren export` writes a bundle of validate/closed's build list from a Warren that hosts
/// a checksum database; the real go client builds from it with GOPROXY=file:// and GOSUMDB=the verifier key, with no
/// Warren running and no network; `warren import` checks it into an empty store that `warren serve --offline` serves.</summary>
public sealed class BundleTests
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

        public string SumDb => $"{VerifierKey} {Url}/sumdb/{Name}";

        public static async Task<Source> StartAsync()
        {
            var source = new Source { _upstream = await FakeUpstream.StartAsync(TestPaths.Corpus) };
            (source.Signer, source.VerifierKey) = HostedSumDbGoTests.NewKey();
            source._warren = await WarrenInstance.StartAsync(source._upstream.Url, o => o.HostedSumDb = source.Signer);
            return source;
        }

        public async Task<ProcessResult> ExportAsync(string bundle, params string[] more) =>
            await WarrenCliAsync(["export", "--out", bundle, "--proxy", Url, "--sumdb", SumDb, "--json", .. more]);

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
        var bundle = TestPaths.NewTempDir("bundle");
        string verifierKey;
        string program;
        await using (var source = await Source.StartAsync())
        {
            verifierKey = source.VerifierKey;
            program = await ClosedWithoutGoSumAsync(source);
            var export = await source.ExportAsync(bundle, program);
            Assert.True(export.ExitCode == 0, export.ToString());
        }

        // The manifest lists every file with its hash, and the checksum data is there.
        var manifest = ManifestOf(bundle);
        var files = manifest.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()!).ToList();
        Assert.Contains($"sumdb/{Name}/latest", files);
        Assert.Contains($"sumdb/{Name}/supported", files);
        Assert.Contains(files, f => f.StartsWith($"sumdb/{Name}/tile/8/0/", StringComparison.Ordinal));
        Assert.StartsWith("b1.", manifest.GetProperty("cursor").GetString());
        var versions = manifest.GetProperty("versions").EnumerateArray().ToList();
        Assert.True(versions.Count(v => v.GetProperty("zip").GetBoolean()) >= 50, "too few zips: " + versions.Count);
        foreach (var v in versions)
        {
            Assert.Contains($"sumdb/{Name}/lookup/{Manifest.Escape(v.GetProperty("path").GetString()!)}@{Manifest.Escape(v.GetProperty("version").GetString()!)}", files);
        }

        // No Warren, no network: the bundle and the verifier key are all the go command has.
        var go = GoFromBundle(bundle, verifierKey);
        var modules = await ValidateClosed.BuildAndDownloadAllAsync(go, CopyOf(program));
        AssertVerifiedBuild(go, modules);
    }
}
