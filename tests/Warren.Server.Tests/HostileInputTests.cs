using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

/// <summary>Malformed requests and hostile upstream content: a precise status and one-line reason, nothing stored, nothing written outside the store.</summary>
public sealed class HostileInputTests
{
    private const string Version = "v1.0.0";

    public static TheoryData<string, int, string> MalformedRequests => new()
    {
        { "/github.com/Foo/bar/@v/list", 400, "invalid escaped module path" },
        { "/github.com/foo/bar/../../../etc/@v/list", 400, "'.' or '..' path segment" },
        { "/github.com/%2e%2e/%2e%2e/@v/list", 400, "encoded '.', '/' or '\\'" },
        { "/github.com/foo%2fbar/@v/list", 400, "encoded '.', '/' or '\\'" },
        { "/github.com/foo/%2E%2E/@v/list", 400, "encoded '.', '/' or '\\'" },
        { "/github.com/foo/bar/./@v/list", 400, "'.' or '..' path segment" },
        { "/github.com/foo/bar/@v/..", 400, "'.' or '..' path segment" },
        { "/github.com/foo\\bar/@v/list", 400, "encoded '.', '/' or '\\'" },
        { "/github.com/!!foo/@v/list", 400, "invalid escaped module path" },
        { "/github.com/foo!/@v/list", 400, "invalid escaped module path" },
        { "/github.com/!FOO/@v/list", 400, "invalid escaped module path" },
        { "/github.com/fo%00o/@v/list", 400, "" },
        { "/github.com/fo%ff%feo/@v/list", 400, "invalid escaped module path" },
        { "/github.com/" + new string('a', 300) + "/@v/list", 400, "too long" },
        { "/github.com/pkg/errors/@v/" + new string('1', 300) + ".info", 400, "too long" },
        { "/github.com/pkg/errors/@v/notsemver.mod", 400, "not a canonical semantic version" },
        { "/github.com/pkg/errors/@v/v1.2.mod", 400, "not a canonical semantic version" },
        { "/github.com/pkg/errors/@v/v1.0.0+meta.zip", 400, "not a canonical semantic version" },
        { "/github.com/pkg/errors/@v/v2.0.0.mod", 404, "invalid version: should be v0 or v1, not v2" },
        { "/github.com/pkg/errors/@v/v2.0.0.zip", 404, "invalid version: should be v0 or v1, not v2" },
        { "/github.com/pkg/errors/@v/v0.9.1.exe", 404, "unknown endpoint" },
        { "/nodot/errors/@v/list", 400, "missing dot in first path element" },
        { "/", 404, "not a module proxy endpoint" },
        { "/github.com/pkg/errors/@v/V0.9.1.info", 400, "invalid escaped version" },
    };

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task Malformed_requests_get_a_precise_4xx_and_nothing_is_stored(string rawPath, int status, string reason)
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var parent = TestPaths.NewTempDir("hostile-req");
        var root = Path.Combine(parent, "store");
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, root: root);

        var (code, body) = await RawGetAsync(warren.Url, rawPath);

        Assert.Equal(status, code);
        Assert.Contains(reason, body);
        Assert.DoesNotContain('\n', body.TrimEnd('\n'));
        Assert.Empty(upstream.Requests);
        AssertNothingStored(parent, root);
    }

    public static TheoryData<string, string> HostileZips => new()
    {
        { "zipslip", "invalid module zip" },
        { "absolute", "invalid module zip" },
        { "duplicate", "invalid module zip" },
        { "casecollision", "invalid module zip" },
        { "oversizedgomod", "invalid module zip" },
        { "othermodule", "invalid module zip" },
        { "otherversion", "invalid module zip" },
        { "modotherpath", "the .mod declares its path as example.com/other, not example.com/hostile/modotherpath" },
        { "modunparsable", "the .mod does not parse: go.mod:" },
        { "modnomodule", "the .mod has no module line" },
        { "truncated", "invalid module zip" },
        { "garbage", "invalid module zip" },
        { "wronglength", "upstream failed" },
        { "infoforotherversion", "is for version v1.0.1, not v1.0.0" },
    };

    [Theory]
    [MemberData(nameof(HostileZips))]
    public async Task Hostile_upstream_content_is_refused_with_502_and_never_stored(string name, string reason)
    {
        var module = "example.com/hostile/" + name;
        var upstreamRoot = TestPaths.NewTempDir("hostile-up");
        var dir = Path.Combine(upstreamRoot, "example.com", "hostile", name, "@v");
        Directory.CreateDirectory(dir);
        var goMod = $"module {module}\n";
        await File.WriteAllTextAsync(Path.Combine(dir, Version + ".mod"), name switch
        {
            "modotherpath" => "module example.com/other\n",
            "modunparsable" => goMod + "require (\n\texample.com/x v1.0.0\n",
            "modnomodule" => "go 1.19\n",
            _ => goMod,
        });
        await File.WriteAllTextAsync(Path.Combine(dir, Version + ".info"),
            name == "infoforotherversion" ? "{\"Version\":\"v1.0.1\"}" : "{\"Version\":\"v1.0.0\",\"Time\":\"2024-01-01T00:00:00Z\"}");
        var zip = Path.Combine(dir, Version + ".zip");
        var prefix = $"{module}@{Version}/";
        switch (name)
        {
            case "zipslip":
                MakeZip(zip, (prefix + "go.mod", goMod), (prefix + "../../evil.go", "package evil"));
                break;
            case "absolute":
                MakeZip(zip, (prefix + "go.mod", goMod), ("/etc/evil.go", "package evil"));
                break;
            case "duplicate":
                MakeZip(zip, (prefix + "go.mod", goMod), (prefix + "a.go", "package a"), (prefix + "a.go", "package b"));
                break;
            case "casecollision":
                MakeZip(zip, (prefix + "go.mod", goMod), (prefix + "A.go", "package a"), (prefix + "a.go", "package a"));
                break;
            case "oversizedgomod":
                MakeZip(zip, (prefix + "go.mod", goMod + "// " + new string('x', 17 << 20) + "\n"));
                break;
            case "othermodule":
                MakeZip(zip, ($"example.com/other@{Version}/go.mod", "module example.com/other\n"));
                break;
            case "otherversion":
                MakeZip(zip, ($"{module}@v1.0.1/go.mod", goMod));
                break;
            case "truncated":
                MakeZip(zip, (prefix + "go.mod", goMod), (prefix + "a.go", new string('a', 10000)));
                var bytes = await File.ReadAllBytesAsync(zip);
                await File.WriteAllBytesAsync(zip, bytes[..(bytes.Length / 2)]);
                break;
            case "garbage":
                await File.WriteAllTextAsync(zip, "<html>this is not a zip</html>");
                break;
            default:
                MakeZip(zip, (prefix + "go.mod", goMod), (prefix + "a.go", "package a"));
                break;
        }

        await using var upstream = await FakeUpstream.StartAsync(upstreamRoot);
        if (name == "wronglength")
        {
            upstream.Intercept = async context =>
            {
                if (!context.Request.Path.Value!.EndsWith(".zip", StringComparison.Ordinal))
                {
                    return false;
                }

                var content = await File.ReadAllBytesAsync(zip);
                context.Response.ContentLength = content.Length + 1000;
                await context.Response.Body.WriteAsync(content);
                context.Abort();
                return true;
            };
        }

        var parent = TestPaths.NewTempDir("hostile-store");
        var root = Path.Combine(parent, "store");
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, root: root);
        var kind = name == "infoforotherversion" ? ".info" : name.StartsWith("mod", StringComparison.Ordinal) ? ".mod" : ".zip";

        var (code, body) = await RawGetAsync(warren.Url, $"/{module}/@v/{Version}{kind}");

        Assert.Equal(502, code);
        Assert.Contains(reason, body);
        Assert.DoesNotContain('\n', body.TrimEnd('\n'));
        Assert.Empty(Directory.EnumerateFiles(root, "*" + kind, SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(root, "*.zip", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(root, "*.ziphash", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(parent, "evil.go")));
        Assert.Equal(new[] { "store" }, Directory.EnumerateFileSystemEntries(parent).Select(Path.GetFileName));
        Assert.Contains("warren_ingest_rejected_total", warren.Metrics.Render());

        // Refusals are not remembered as "not found": the next request asks upstream again.
        var before = upstream.HitsFor(kind);
        var (again, _) = await RawGetAsync(warren.Url, $"/{module}/@v/{Version}{kind}");
        Assert.Equal(502, again);
        Assert.True(upstream.HitsFor(kind) > before);
    }

    /// <summary>The go command hashes the .mod and the zip separately: a .mod that differs from the zip's go.mod (here
    /// one adding a retraction and a requirement) is legal. With no checksum database vouching (sumdb off), both are
    /// served as upstream sent them, with a warning and a counter.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_mod_that_differs_from_the_go_mod_in_the_zip_is_served_as_sent_with_a_warning_and_a_counter(bool zipHasGoMod)
    {
        var module = "example.com/fidelity/differs";
        var upstreamRoot = TestPaths.NewTempDir("differs-up");
        var dir = Path.Combine(upstreamRoot, "example.com", "fidelity", "differs", "@v");
        Directory.CreateDirectory(dir);
        var mod = $"module {module}\n\ngo 1.15\n\nrequire example.com/x v1.0.0\n\nretract v0.9.0 // broken\n";
        await File.WriteAllTextAsync(Path.Combine(dir, Version + ".mod"), mod);
        await File.WriteAllTextAsync(Path.Combine(dir, Version + ".info"), "{\"Version\":\"v1.0.0\"}");
        var prefix = $"{module}@{Version}/";
        if (zipHasGoMod)
        {
            MakeZip(Path.Combine(dir, Version + ".zip"), (prefix + "go.mod", $"module {module}\n\ngo 1.15\n"), (prefix + "a.go", "package a\n"));
        }
        else
        {
            MakeZip(Path.Combine(dir, Version + ".zip"), (prefix + "a.go", "package a\n"));
        }

        await using var upstream = await FakeUpstream.StartAsync(upstreamRoot);
        var logs = new CapturingLoggerProvider();
        await using var warren = await WarrenInstance.StartAsync(upstream.Url,
            beforeStart: app => app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs));

        var (zipStatus, zipBody) = await RawGetAsync(warren.Url, $"/{module}/@v/{Version}.zip");
        Assert.True(zipStatus == 200, zipBody);
        var (modStatus, modBody) = await RawGetAsync(warren.Url, $"/{module}/@v/{Version}.mod");
        Assert.Equal(200, modStatus);
        Assert.Equal(mod, modBody);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(dir, Version + ".zip")),
            await File.ReadAllBytesAsync(Path.Combine(warren.Root, "example.com", "fidelity", "differs", "@v", Version + ".zip")));
        Assert.Contains("warren_mod_differs_from_zip_total 1\n", warren.Metrics.Render());
        Assert.Contains(logs.Lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains($"{module}@{Version}", StringComparison.Ordinal) &&
            l.Contains(zipHasGoMod ? "the go.mod in the zip differs from the .mod" : "the zip has no go.mod", StringComparison.Ordinal));
    }

    /// <summary>A differing .mod is legal, but not one whose hash the checksum database contradicts: the .mod is checked
    /// against its own /go.mod record, the zip against its h1.</summary>
    [Fact]
    public async Task A_differing_mod_the_checksum_database_contradicts_is_refused()
    {
        var module = "example.com/fidelity/contradicted";
        var upstreamRoot = TestPaths.NewTempDir("contradicted-up");
        var dir = Path.Combine(upstreamRoot, "example.com", "fidelity", "contradicted", "@v");
        Directory.CreateDirectory(dir);
        var zipGoMod = $"module {module}\n";
        var mod = $"module {module}\n\nretract v0.9.0\n";
        await File.WriteAllTextAsync(Path.Combine(dir, Version + ".mod"), mod);
        await File.WriteAllTextAsync(Path.Combine(dir, Version + ".info"), "{\"Version\":\"v1.0.0\"}");
        var zip = Path.Combine(dir, Version + ".zip");
        MakeZip(zip, ($"{module}@{Version}/go.mod", zipGoMod), ($"{module}@{Version}/a.go", "package a\n"));
        await using var upstream = await FakeUpstream.StartAsync(upstreamRoot);
        await using var db = await TestSumDb.StartAsync();
        db.AddFiller(3);

        // The database vouches for the zip, and for a go.mod equal to the zip's: not the .mod upstream sends.
        db.Add(module, Version, Core.Modules.DirHash.HashZip(zip), Core.Modules.DirHash.HashGoMod(Encoding.UTF8.GetBytes(zipGoMod)));
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.SumDb = $"{db.VerifierKey} {db.Url}");

        var (status, body) = await RawGetAsync(warren.Url, $"/{module}/@v/{Version}.mod");
        Assert.Equal(502, status);
        Assert.StartsWith("checksum mismatch:", body, StringComparison.Ordinal);
        Assert.Contains("go.mod", body, StringComparison.Ordinal);
        var (zipStatus, _) = await RawGetAsync(warren.Url, $"/{module}/@v/{Version}.zip");
        Assert.Equal(502, zipStatus);
        Assert.Empty(Directory.EnumerateFiles(warren.Root, "*.mod", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(warren.Root, "*.zip", SearchOption.AllDirectories));
    }

    /// <summary>A .mod fetched after its zip is not compared with the stored zip: it is served as upstream sends it.</summary>
    [Fact]
    public async Task A_mod_fetched_after_its_zip_is_served_as_upstream_sends_it()
    {
        var module = "example.com/hostile/latemod";
        var upstreamRoot = TestPaths.NewTempDir("hostile-up");
        var dir = Path.Combine(upstreamRoot, "example.com", "hostile", "latemod", "@v");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, Version + ".mod"), $"module {module}\n");
        MakeZip(Path.Combine(dir, Version + ".zip"), ($"{module}@{Version}/go.mod", $"module {module}\n"));
        await using var upstream = await FakeUpstream.StartAsync(upstreamRoot);
        var root = TestPaths.NewTempDir("latemod");
        await using (var first = await WarrenInstance.StartAsync(upstream.Url, root: root))
        {
            var (zipStatus, _) = await RawGetAsync(first.Url, $"/{module}/@v/{Version}.zip");
            Assert.Equal(200, zipStatus);
        }

        // A store seeded with the zip alone, and an upstream whose .mod has since changed.
        File.Delete(Path.Combine(root, "example.com", "hostile", "latemod", "@v", Version + ".mod"));
        var changed = $"module {module}\n\nrequire example.com/x v1.0.0\n";
        await File.WriteAllTextAsync(Path.Combine(dir, Version + ".mod"), changed);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, root: root);

        var (status, body) = await RawGetAsync(warren.Url, $"/{module}/@v/{Version}.mod");
        Assert.Equal(200, status);
        Assert.Equal(changed, body);
        Assert.Equal(changed, await File.ReadAllTextAsync(Path.Combine(warren.Root, "example.com", "hostile", "latemod", "@v", Version + ".mod")));
    }

    /// <summary>A semantic version the path cannot have (v2.0.0 of a v0/v1 path) in VERSION.info is a query: asked
    /// upstream and answered with the canonical version upstream resolves it to, once that is checked.</summary>
    [Fact]
    public async Task A_wrong_major_version_info_is_a_query_answered_with_the_resolved_version()
    {
        var module = "example.com/fidelity/query";
        var upstreamRoot = TestPaths.NewTempDir("query-up");
        var dir = Path.Combine(upstreamRoot, "example.com", "fidelity", "query", "@v");
        Directory.CreateDirectory(dir);
        var resolved = "{\"Version\":\"v2.0.0+incompatible\",\"Time\":\"2020-01-01T00:00:00Z\"}";
        await File.WriteAllTextAsync(Path.Combine(dir, "v2.0.0.info"), resolved);
        await File.WriteAllTextAsync(Path.Combine(dir, "v3.0.0.info"), "{\"Version\":\"v3.0.0\"}");
        await using var upstream = await FakeUpstream.StartAsync(upstreamRoot);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);

        var (status, body) = await RawGetAsync(warren.Url, $"/{module}/@v/v2.0.0.info");
        Assert.Equal(200, status);
        Assert.Equal(resolved, body);
        Assert.Equal(1, upstream.HitsFor("/@v/v2.0.0.info"));

        // The resolved version is then known: its .info is served from the store.
        var (again, againBody) = await RawGetAsync(warren.Url, $"/{module}/@v/v2.0.0+incompatible.info");
        Assert.Equal(200, again);
        Assert.Equal(resolved, againBody);
        Assert.Equal(0, upstream.HitsFor("/@v/v2.0.0+incompatible.info"));

        // An answer naming a version the path cannot have is refused; a query upstream does not know is a 404.
        var (bad, badBody) = await RawGetAsync(warren.Url, $"/{module}/@v/v3.0.0.info");
        Assert.Equal(502, bad);
        Assert.Contains("the .info names an invalid version v3.0.0", badBody);
        var (missing, _) = await RawGetAsync(warren.Url, $"/{module}/@v/v4.0.0.info");
        Assert.Equal(404, missing);
    }

    private static void MakeZip(string path, params (string Name, string Content)[] entries)
    {
        using var archive = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, content) in entries)
        {
            var entry = archive.CreateEntry(name, CompressionLevel.Fastest);
            using var stream = entry.Open();
            stream.Write(Encoding.UTF8.GetBytes(content));
        }
    }

    /// <summary>GET exactly this request target, with no client-side normalization of dot segments or escapes.</summary>
    internal static async Task<(int Status, string Body)> RawGetAsync(string baseUrl, string rawPath)
    {
        using var client = new HttpClient();
        var uri = new Uri(baseUrl + rawPath, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var response = await client.GetAsync(uri);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static void AssertNothingStored(string parent, string root)
    {
        Assert.Equal(new[] { "store" }, Directory.EnumerateFileSystemEntries(parent).Select(Path.GetFileName));
        var stored = Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName).ToList();
        Assert.Equal(new[] { ".warren" }, stored);
    }
}
