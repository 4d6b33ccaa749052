using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Warren.Core.Modules;
using Warren.Server.Configuration;
using Warren.Server.Storage;
using Warren.Server.Tests.Infrastructure;
using Warren.Storage;
using Warren.Storage.FileSystem;

namespace Warren.Server.Tests.Limits;

/// <summary>Store hygiene: private modes, a lost .ziphash rebuilt, a corrupt index moved aside, one server per store.</summary>
public sealed class StoreHygieneTests
{
    private static readonly ManifestEntry Module = Manifest.Get("github.com/pkg/errors", "v0.9.1");

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task After_an_ingest_store_directories_are_0700_and_files_0600()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.Fsync = true);
        foreach (var ext in new[] { ".info", ".mod", ".zip" })
        {
            var response = await warren.Client.GetAsync(Url(Module, ext));
            Assert.True(response.IsSuccessStatusCode, $"{ext}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        var moduleDir = Path.Combine(warren.Root, "github.com");
        var dirs = Directory.EnumerateDirectories(moduleDir, "*", SearchOption.AllDirectories).Append(moduleDir).Append(warren.Root)
            .Append(Path.Combine(warren.Root, ".warren")).ToList();
        var files = Directory.EnumerateFiles(moduleDir, "*", SearchOption.AllDirectories)
            .Append(Path.Combine(warren.Root, ".warren", "index.db")).ToList();
        Assert.Contains(files, f => f.EndsWith(".ziphash", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("/list", StringComparison.Ordinal));
        foreach (var dir in dirs)
        {
            Assert.True(File.GetUnixFileMode(dir) == PrivateFiles.DirectoryMode, $"{dir}: {File.GetUnixFileMode(dir)}");
        }

        foreach (var file in files)
        {
            Assert.True(File.GetUnixFileMode(file) == PrivateFiles.FileMode, $"{file}: {File.GetUnixFileMode(file)}");
        }
    }

    [Fact]
    public void Syncing_a_directory_works_on_this_system()
    {
        var dir = TestPaths.NewTempDir("sync");
        File.WriteAllText(Path.Combine(dir, "a"), "x");
        File.Move(Path.Combine(dir, "a"), Path.Combine(dir, "b"));
        StoreFiles.SyncDirectory(dir);
        Assert.Throws<IOException>(() => StoreFiles.SyncDirectory(Path.Combine(dir, "missing")));
    }

    [Fact]
    public async Task A_missing_ziphash_is_rebuilt_from_the_stored_zip()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var root = TestPaths.NewTempDir("ziphash-store");
        string zipHash;
        await using (var first = await WarrenInstance.StartAsync(upstream.Url, root: root))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await first.Client.GetAsync(Url(Module, ".zip"))).StatusCode);
            zipHash = Stored(root, Module, ".ziphash");
            Assert.True(File.Exists(zipHash));
        }

        File.Delete(zipHash);

        // A new server (nothing in memory) with no upstream at all: the zip is still served, and its .ziphash is back.
        await using var warren = await WarrenInstance.StartAsync("off", root: root);
        var response = await warren.Client.GetAsync(Url(Module, ".zip"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.True(File.Exists(zipHash), "the .ziphash was not rebuilt");
        Assert.Equal(Module.ZipHash, (await File.ReadAllTextAsync(zipHash)).Trim());
    }

    [Fact]
    public async Task A_corrupt_index_at_start_up_is_moved_aside_and_rebuilt_from_the_store()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var root = TestPaths.NewTempDir("corrupt-store");
        await using (var first = await WarrenInstance.StartAsync(upstream.Url, root: root))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await first.Client.GetAsync(Url(Module, ".zip"))).StatusCode);
        }

        var index = Path.Combine(root, ".warren", "index.db");
        File.Delete(index + "-wal");
        File.Delete(index + "-shm");
        await File.WriteAllTextAsync(index, "this is not a database, it is garbage: " + new string('x', 8192));

        var logs = new CapturingLoggerProvider();
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, root: root, beforeStart: app => app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await warren.Client.GetAsync(Url(Module, ".mod"))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await warren.Client.GetAsync("github.com/pkg/errors/@v/list")).StatusCode);

        var aside = Directory.GetFiles(Path.Combine(root, ".warren"), "index.db" + ".corrupt-*").Where(f => !f.EndsWith("-wal", StringComparison.Ordinal) && !f.EndsWith("-shm", StringComparison.Ordinal)).ToList();
        Assert.Single(aside);
        Assert.StartsWith("this is not a database", await File.ReadAllTextAsync(aside[0]));
        Assert.Contains(logs.Lines, l => l.Contains("is corrupt", StringComparison.Ordinal) && l.Contains(aside[0], StringComparison.Ordinal));
        for (var i = 0; i < 100 && !logs.Lines.Any(l => l.Contains("refilled from the store", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(50);
        }

        Assert.Contains(logs.Lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, "refilled from the store: [1-9][0-9]* artifacts"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_second_server_on_the_same_root_refuses_to_start_and_a_killed_one_can_be_restarted()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var root = TestPaths.NewTempDir("two-servers");
        using (var first = await WarrenProcess.StartAsync(root, upstream.Url))
        {
            using var second = BackgroundProcess.Start("dotnet", [WarrenProcess.Dll, "serve", "--listen", $"127.0.0.1:{Loopback.FreePort()}", "--root", root, "--upstream", upstream.Url, "--sumdb", "off"]);
            for (var i = 0; i < 600 && !second.HasExited; i++)
            {
                await Task.Delay(100);
            }

            Assert.True(second.HasExited, "the second server is running: " + second.Output);
            Assert.Equal(3, second.ExitCode);
            Assert.Contains($"store {Path.GetFullPath(root)} is in use by another warren serve (pid {first.Pid})", second.Output, StringComparison.Ordinal);

            // The first one is unaffected.
            using var client = new HttpClient();
            Assert.True((await client.GetAsync(first.Url + "/" + Url(Module, ".zip"))).IsSuccessStatusCode);
            first.Kill();

            // Whatever the serving process created is the user's alone (its umask), not only what it renamed into place.
            foreach (var entry in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Append(root))
            {
                var mode = File.GetUnixFileMode(entry);
                Assert.True((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                                     UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) == 0, $"{entry}: {mode}");
            }
        }

        // kill -9 released the lock: a new server starts on the same root and serves what is stored.
        using var restarted = await WarrenProcess.StartAsync(root, "off");
        using var again = new HttpClient();
        Assert.True((await again.GetAsync(restarted.Url + "/" + Url(Module, ".zip"))).IsSuccessStatusCode);
    }

    private static string Url(ManifestEntry e, string ext)
    {
        ModulePath.TryEscapePath(e.Path, out var p, out _);
        ModulePath.TryEscapeVersion(e.Version, out var v, out _);
        return $"{p}/@v/{v}{ext}";
    }

    private static string Stored(string root, ManifestEntry e, string ext)
    {
        ModulePath.TryEscapePath(e.Path, out var p, out _);
        ModulePath.TryEscapeVersion(e.Version, out var v, out _);
        return Path.Combine(root, p, "@v", v + ext);
    }
}
