using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Warren.Tools.Reporting;
using Warren.Tools.Verify;

namespace Warren.Tools.Tests.Verify;

/// <summary>A module cache populated by the real go client from a FakeUpstream over the corpus.</summary>
internal sealed class VerifyCache : IAsyncDisposable
{
    /// <summary>Small corpus modules without requirements; BurntSushi/toml exercises path escaping.</summary>
    public static readonly ManifestEntry[] Modules =
    [
        Manifest.Get("github.com/BurntSushi/toml", "v1.2.0"),
        Manifest.Get("github.com/jpillora/backoff", "v1.0.0"),
        Manifest.Get("github.com/gorilla/securecookie", "v1.1.1"),
        Manifest.Get("github.com/benbjohnson/clock", "v1.3.0"),
        Manifest.Get("github.com/urfave/negroni", "v0.2.0"),
    ];

    private VerifyCache(FakeUpstream upstream, GoRunner go, string work)
    {
        Upstream = upstream;
        Go = go;
        Work = work;
    }

    public FakeUpstream Upstream { get; }

    public GoRunner Go { get; }

    public string Work { get; }

    public string ModCache => Go.ModCache;

    /// <summary>Starts the upstream (optionally misbehaving) and lets the go client download these modules.</summary>
    public static async Task<VerifyCache> CreateAsync(IEnumerable<ManifestEntry>? modules = null, Func<Microsoft.AspNetCore.Http.HttpContext, Task<bool>>? intercept = null)
    {
        var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        upstream.Intercept = intercept;
        var cache = new VerifyCache(upstream, new GoRunner(upstream.Url), TestPaths.NewTempDir("verify-work"));
        await cache.DownloadAsync(modules ?? Modules);
        return cache;
    }

    public async Task DownloadAsync(IEnumerable<ManifestEntry> modules)
    {
        var result = await Go.RunAsync(Work, ["mod", "download", "-json", .. modules.Select(m => m.ToString())]);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    public string Zip(ManifestEntry m) => Path.Combine(ModCache, "cache", "download", Manifest.Escape(m.Path), "@v", Manifest.Escape(m.Version) + ".zip");

    public string CacheFile(ManifestEntry m, string suffix) =>
        Path.Combine(ModCache, "cache", "download", Manifest.Escape(m.Path), "@v", Manifest.Escape(m.Version) + "." + suffix);

    public string Dir(ManifestEntry m) => Path.Combine(ModCache, Manifest.Escape(m.Path) + "@" + Manifest.Escape(m.Version));

    public Task<Report> VerifyAsync(bool fix = false, params string[] goSums) =>
        ModCacheVerifier.VerifyAsync(new VerifyOptions(ModCache) { Fix = fix, GoSumFiles = goSums, Jobs = 4 }, CancellationToken.None);

    /// <summary>Rewrites a file of the cached zip (a valid zip whose content no longer matches its .ziphash).</summary>
    public void CorruptZip(ManifestEntry m)
    {
        using var zip = ZipFile.Open(Zip(m), ZipArchiveMode.Update);
        var entry = zip.Entries.Where(e => e.FullName.EndsWith(".go", StringComparison.Ordinal)).OrderBy(e => e.FullName, StringComparer.Ordinal).First();
        using var stream = entry.Open();
        stream.Seek(0, SeekOrigin.End);
        stream.Write("\n// tampered\n"u8);
    }

    /// <summary>Overwrites bytes in the middle of the cached zip (it no longer reads back).</summary>
    public void OverwriteZipBytes(ManifestEntry m)
    {
        using var file = new FileStream(Zip(m), FileMode.Open, FileAccess.ReadWrite);
        file.Seek(file.Length / 3, SeekOrigin.Begin);
        file.Write(new byte[64]);
    }

    /// <summary>Edits a .go file of the extracted directory, which the go command made read-only.</summary>
    public string ModifyExtractedFile(ManifestEntry m)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException();
        }

        var dir = Dir(m);
        var file = Directory.EnumerateFiles(dir, "*.go", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        File.SetUnixFileMode(Path.GetDirectoryName(file)!, File.GetUnixFileMode(Path.GetDirectoryName(file)!) | UnixFileMode.UserWrite);
        File.SetUnixFileMode(file, File.GetUnixFileMode(file) | UnixFileMode.UserWrite);
        File.AppendAllText(file, "\n// tampered\n");
        return file;
    }

    /// <summary>A go.sum with the go client's own hashes (from the manifest) of these modules.</summary>
    public string WriteGoSum(string name, IEnumerable<ManifestEntry> modules, Func<string, string>? edit = null)
    {
        var sb = new StringBuilder();
        foreach (var m in modules.OrderBy(m => m.Path, StringComparer.Ordinal))
        {
            sb.Append(m.Path).Append(' ').Append(m.Version).Append(' ').Append(m.ZipHash).Append('\n');
            sb.Append(m.Path).Append(' ').Append(m.Version).Append("/go.mod ").Append(m.ModHash).Append('\n');
        }

        var file = Path.Combine(Work, name);
        File.WriteAllText(file, edit is null ? sb.ToString() : edit(sb.ToString()));
        return file;
    }

    /// <summary>A process running the go client with the same isolated environment as <see cref="Go"/>.</summary>
    public Process StartGo(params string[] args)
    {
        var psi = new ProcessStartInfo(TestPaths.RequireGo()) { WorkingDirectory = Work, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Clear();
        foreach (var (k, v) in new Dictionary<string, string>
        {
            ["PATH"] = Path.GetDirectoryName(TestPaths.Go) + ":/usr/bin:/bin",
            ["HOME"] = Go.Home,
            ["GOENV"] = "off",
            ["GO111MODULE"] = "on",
            ["GOPROXY"] = Upstream.Url,
            ["GOSUMDB"] = "off",
            ["GONOSUMDB"] = "*",
            ["GOFLAGS"] = "-mod=mod",
            ["GOMODCACHE"] = ModCache,
            ["GOCACHE"] = Path.Combine(Go.Home, "gocache"),
            ["GOPATH"] = Path.Combine(Go.Home, "gopath"),
        })
        {
            psi.Environment[k] = v;
        }

        return Process.Start(psi)!;
    }

    public async ValueTask DisposeAsync()
    {
        await Upstream.DisposeAsync();
        TestPaths.TryDeleteDirectory(Go.Home);
    }
}
