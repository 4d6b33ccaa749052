using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Warren.Storage.FileSystem;
using Warren.Testing;

namespace Warren.Storage.Tests;

/// <summary>The artifact store contract on the file-system store, and what only it does.</summary>
public sealed class FileSystemArtifactStoreTests : ArtifactStoreContract, IDisposable
{
    private readonly List<FileSystemArtifactStore> _stores = [];

    protected override Task<IArtifactStore> CreateStoreAsync(IArtifactStore? shareWith = null)
    {
        var root = shareWith is FileSystemArtifactStore other ? other.Root : Path.Combine(TestPaths.NewTempDir("fsstore"), "store");
        return Task.FromResult<IArtifactStore>(Open(root));
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }

    private FileSystemArtifactStore Open(string root, bool maintainLists = true)
    {
        var store = new FileSystemArtifactStore(new FileSystemStoreOptions { Root = root, MaintainListFiles = maintainLists });
        _stores.Add(store);
        return store;
    }

    private async Task<FileSystemArtifactStore> NewStoreAsync() => (FileSystemArtifactStore)await CreateStoreAsync();

    private static readonly DateTime Marked = new(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>A store holding example.com/MODULE v1.0.0's .info, and its list file, whose time is set to <see cref="Marked"/>.</summary>
    private async Task<(FileSystemArtifactStore Store, string List)> StoreWithMarkedListAsync(string module)
    {
        var store = await NewStoreAsync();
        Assert.True(await store.PutIfAbsentAsync($"example.com/{module}/@v/v1.0.0.info", new MemoryStream("{}"u8.ToArray()), Ct));
        var list = Path.Combine(store.Root, "example.com", module, "@v", "list");
        File.SetLastWriteTimeUtc(list, Marked);
        return (store, list);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Files_are_0600_and_directories_0700()
    {
        var store = await NewStoreAsync();
        Assert.True(await store.PutIfAbsentAsync(ZipKey, StageFile([1, 2, 3]), Ct));
        Assert.True(await store.PutIfAbsentAsync("golang.org/x/text/@v/v0.3.0.mod", new MemoryStream([4]), Ct));
        var files = Directory.EnumerateFiles(store.Root, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/.warren/", StringComparison.Ordinal)).ToList();
        Assert.Contains(files, f => f.EndsWith("/@v/list", StringComparison.Ordinal));
        Assert.Equal(3, files.Count);
        Assert.All(files, f => Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(f)));
        var dirs = Directory.EnumerateDirectories(store.Root, "*", SearchOption.AllDirectories).Append(store.Root).ToList();
        Assert.Contains(dirs, d => d.EndsWith("/golang.org/x/text/@v", StringComparison.Ordinal));
        Assert.All(dirs, d => Assert.Equal(PrivateFiles.DirectoryMode, File.GetUnixFileMode(d)));
    }

    [Fact]
    public async Task The_list_file_holds_the_release_versions()
    {
        var store = await NewStoreAsync();
        foreach (var v in new[] { "v1.10.0", "v1.2.0", "v0.0.0-20200101000000-abcdefabcdef", "v1.3.0-pre" })
        {
            Assert.True(await store.PutIfAbsentAsync($"example.com/m/@v/{v}.info", new MemoryStream("{}"u8.ToArray()), Ct));
        }

        var list = Path.Combine(store.Root, "example.com", "m", "@v", "list");
        Assert.Equal("v1.2.0\nv1.3.0-pre\nv1.10.0\n", await File.ReadAllTextAsync(list, Ct));

        // A zip alone does not rewrite it; a deleted .info does.
        Assert.True(await store.PutIfAbsentAsync("example.com/m/@v/v2.0.0+incompatible.zip", new MemoryStream([1]), Ct));
        Assert.Equal("v1.2.0\nv1.3.0-pre\nv1.10.0\n", await File.ReadAllTextAsync(list, Ct));
        Assert.True(await store.DeleteAsync("example.com/m/@v/v1.2.0.info", Ct));
        Assert.Equal("v1.3.0-pre\nv1.10.0\nv2.0.0+incompatible\n", await File.ReadAllTextAsync(list, Ct));

        var quiet = Open(Path.Combine(TestPaths.NewTempDir("fsstore"), "store"), maintainLists: false);
        Assert.True(await quiet.PutIfAbsentAsync("example.com/m/@v/v1.0.0.info", new MemoryStream("{}"u8.ToArray()), Ct));
        Assert.False(File.Exists(Path.Combine(quiet.Root, "example.com", "m", "@v", "list")));
    }

    [Fact]
    public async Task The_list_file_is_written_only_when_the_versions_change()
    {
        var (store, list) = await StoreWithMarkedListAsync("m");

        // The version's .mod and zip leave the set of versions as it was: the list is not rewritten.
        Assert.True(await store.PutIfAbsentAsync("example.com/m/@v/v1.0.0.mod", new MemoryStream("module example.com/m\n"u8.ToArray()), Ct));
        Assert.True(await store.PutIfAbsentAsync("example.com/m/@v/v1.0.0.zip", new MemoryStream([1]), Ct));
        Assert.Equal(Marked, File.GetLastWriteTimeUtc(list));
        Assert.Equal("v1.0.0\n", await File.ReadAllTextAsync(list, Ct));

        // A new version's .mod first rewrites it; a list changed by hand is put right by the next commit.
        Assert.True(await store.PutIfAbsentAsync("example.com/m/@v/v1.1.0.mod", new MemoryStream("module example.com/m\n"u8.ToArray()), Ct));
        Assert.NotEqual(Marked, File.GetLastWriteTimeUtc(list));
        Assert.Equal("v1.0.0\nv1.1.0\n", await File.ReadAllTextAsync(list, Ct));
        await File.WriteAllTextAsync(list, "v9.9.9\n", Ct);
        Assert.True(await store.PutIfAbsentAsync("example.com/m/@v/v1.1.0.info", new MemoryStream("{}"u8.ToArray()), Ct));
        Assert.Equal("v1.0.0\nv1.1.0\n", await File.ReadAllTextAsync(list, Ct));
    }

    [Fact]
    public async Task Concurrent_commits_of_one_module_leave_every_version_in_the_list()
    {
        var store = await NewStoreAsync();
        var versions = Enumerable.Range(0, 40).Select(i => $"v1.{i}.0").ToList();
        // Each version's .info and .mod committed at once, from separate tasks: whichever lands second finds the
        // version already listed, or writes it.
        var staging = Path.Combine(store.Root, ".warren", "staging", "other");
        Directory.CreateDirectory(staging);
        await Task.WhenAll(versions.SelectMany(v => new[] { ".info", ".mod" }.Select(ext => Task.Run(async () =>
        {
            // Half staged in another staging directory of the store (the server's), half given as streams.
            if (ext == ".info")
            {
                var staged = Path.Combine(staging, Guid.NewGuid().ToString("N") + ".partial");
                await File.WriteAllTextAsync(staged, "{}", Ct);
                Assert.True(await store.PutIfAbsentAsync($"example.com/c/@v/{v}{ext}", staged, Ct));
                Assert.False(File.Exists(staged));
            }
            else
            {
                Assert.True(await store.PutIfAbsentAsync($"example.com/c/@v/{v}{ext}", new MemoryStream("module example.com/c\n"u8.ToArray()), Ct));
            }
        }))));

        versions.Sort(Warren.Core.Modules.SemVer.Compare);
        Assert.Equal(string.Concat(versions.Select(v => v + "\n")), await File.ReadAllTextAsync(Path.Combine(store.Root, "example.com", "c", "@v", "list"), Ct));
        Assert.Equal("{}", await File.ReadAllTextAsync(Path.Combine(store.Root, "example.com", "c", "@v", "v1.7.0.info"), Ct));
        Assert.Empty(Directory.EnumerateFiles(staging));
    }

    [Fact]
    public async Task A_batch_rewrites_each_changed_list_once_and_leaves_nothing_staged()
    {
        var (store, unchanged) = await StoreWithMarkedListAsync("b1");

        // Files staged below a directory of the store's staging area (as an import stages a bundle), many modules: the
        // module whose versions do not change keeps its list as it was; every other list holds its release versions.
        var stage = store.NewStagingFile();
        var files = new List<(string Key, string StagedFile)>();
        foreach (var (module, version) in new[] { ("b1", "v1.0.0"), ("b2", "v1.0.0"), ("b2", "v1.1.0"), ("b3", "v0.0.0-20200101000000-abcdefabcdef"), ("b3", "v2.0.0") }
            .Concat(Enumerable.Range(0, 70).Select(i => ($"many{i}", "v0.1.0"))))
        {
            foreach (var ext in new[] { ".mod", ".info" })
            {
                var key = $"example.com/{module}/@v/{version}{ext}";
                var staged = Path.Combine(stage, key);
                Directory.CreateDirectory(Path.GetDirectoryName(staged)!);
                await File.WriteAllTextAsync(staged, ext == ".mod" ? $"module example.com/{module}\n" : "{}", Ct);
                files.Add((key, staged));
            }
        }

        var created = await store.PutManyIfAbsentAsync(files, Ct);
        Assert.Equal(files.Select(f => f.Key != "example.com/b1/@v/v1.0.0.info"), created);
        Assert.Equal(Marked, File.GetLastWriteTimeUtc(unchanged));
        string List(string module) => File.ReadAllText(Path.Combine(store.Root, "example.com", module, "@v", "list"));
        Assert.Equal("v1.0.0\nv1.1.0\n", List("b2"));
        Assert.Equal("v2.0.0\n", List("b3"));
        Assert.All(Enumerable.Range(0, 70), i => Assert.Equal("v0.1.0\n", List($"many{i}")));
        Assert.All(files, f => Assert.False(File.Exists(f.StagedFile)));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(stage)!, "*.partial"));

        // A list changed by hand is put right by the next batch that touches its module, and only it is rewritten.
        await File.WriteAllTextAsync(List2("b2"), "v9.9.9\n", Ct);
        File.SetLastWriteTimeUtc(List2("b3"), Marked);
        var more = Path.Combine(store.NewStagingFile() + ".d", "x.mod");
        Directory.CreateDirectory(Path.GetDirectoryName(more)!);
        await File.WriteAllTextAsync(more, "module example.com/b2\n", Ct);
        Assert.Equal([true], await store.PutManyIfAbsentAsync([("example.com/b2/@v/v1.2.0.mod", more)], Ct));
        Assert.Equal("v1.0.0\nv1.1.0\nv1.2.0\n", List("b2"));
        Assert.Equal(Marked, File.GetLastWriteTimeUtc(List2("b3")));

        string List2(string module) => Path.Combine(store.Root, "example.com", module, "@v", "list");
    }

    [Fact]
    public async Task Starting_the_writeback_of_a_staged_file_changes_nothing_in_it()
    {
        var store = await NewStoreAsync();
        var staged = store.NewStagingFile();
        var content = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();
        using (var file = new FileStream(staged, FileMode.CreateNew, FileAccess.Write))
        {
            file.Write(content);
            file.Flush();
            Writeback.Start(file.SafeFileHandle);
            Writeback.Start(file.SafeFileHandle);
            file.Write(content);
        }

        using var closed = File.OpenHandle(staged);
        closed.Dispose();
        Writeback.Start(closed);
        Assert.Equal(content.Concat(content), await File.ReadAllBytesAsync(staged, Ct));
        Assert.True(await store.PutIfAbsentAsync(ZipKey, staged, Ct));
        Assert.Equal(600_000, (await store.GetAsync(ZipKey, Ct))?.Length);
    }

    [Fact]
    public async Task A_dead_process_staging_directory_is_cleaned()
    {
        var store = await NewStoreAsync();
        var staging = Path.Combine(store.Root, ".warren", "staging");
        // A staging directory of a process that is gone: its lock is not held.
        var dead = Path.Combine(staging, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dead);
        await File.WriteAllTextAsync(Path.Combine(dead, ".lock"), "", Ct);
        await File.WriteAllTextAsync(Path.Combine(dead, "a.partial"), "half", Ct);
        await File.WriteAllTextAsync(Path.Combine(dead, "b.partial"), "half", Ct);
        // A live one: another handle on the store, holding its lock.
        var live = Open(store.Root);
        Assert.Equal(2, store.CleanStaging());
        Assert.False(Directory.Exists(dead));
        Assert.Equal(2, Directory.EnumerateDirectories(staging).Count());
        Assert.Null(await live.ProbeAsync(Ct));
        Assert.True(await live.PutIfAbsentAsync(ZipKey, new MemoryStream([1]), Ct));
    }

    [Fact]
    public async Task A_dead_child_process_staging_directory_is_cleaned()
    {
        var store = await NewStoreAsync();
        var staging = Path.Combine(store.Root, ".warren", "staging");
        var dead = Path.Combine(staging, "deadprocess");
        Directory.CreateDirectory(dead);
        // Another process takes the lock (flock), then dies: the lock goes with it.
        using (var child = Process.Start(new ProcessStartInfo("python3", ["-c",
                   "import fcntl,sys,time; f=open(sys.argv[1],'w'); fcntl.flock(f, fcntl.LOCK_EX|fcntl.LOCK_NB); print('locked', flush=True); time.sleep(60)",
                   Path.Combine(dead, ".lock")]) { RedirectStandardOutput = true })!)
        {
            Assert.Equal("locked", await child.StandardOutput.ReadLineAsync(Ct));
            Assert.Equal(0, store.CleanStaging());
            Assert.True(Directory.Exists(dead));
            child.Kill();
            await child.WaitForExitAsync(Ct);
        }

        Assert.Equal(0, store.CleanStaging());
        Assert.False(Directory.Exists(dead));
    }

    [Theory]
    [InlineData("a/./b")]
    [InlineData("a/b/..")]
    [InlineData(".warren")]
    [InlineData(".warren/staging/x")]
    [InlineData("a\0b")]
    [InlineData("")]
    public async Task Keys_that_would_leave_the_root_or_reach_its_state_are_refused(string key)
    {
        var store = await NewStoreAsync();
        Assert.Throws<ArgumentException>(() => store.PathOf(key));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.PutIfAbsentAsync(key, new MemoryStream([1]), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
        {
            await foreach (var _ in store.ListAsync(key + "/", Ct))
            {
            }
        });
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(store.Root)!));
    }

    [Fact]
    public async Task Racing_publishes_have_exactly_one_winner_every_time()
    {
        var a = await NewStoreAsync();
        var b = Open(a.Root);
        for (var round = 0; round < 50; round++)
        {
            var key = $"example.com/race/@v/v1.0.{round}.info";
            var staged = Enumerable.Range(0, 8).Select(i => StageFile([(byte)i])).ToArray();
            using var start = new ManualResetEventSlim();
            var puts = staged.Select((file, i) => Task.Run(async () =>
            {
                start.Wait();
                return await (i % 2 == 0 ? a : b).PutIfAbsentAsync(key, file, Ct);
            })).ToArray();
            start.Set();
            var results = await Task.WhenAll(puts);
            Assert.Single(results, r => r);
            Assert.Equal([(byte)Array.IndexOf(results, true)], await ReadAsync(a, key));
            Assert.All(staged, f => Assert.False(File.Exists(f)));
        }

        // Nothing left in either staging directory but its lock.
        Assert.All(Directory.EnumerateDirectories(Path.Combine(a.Root, ".warren", "staging")),
            d => Assert.Equal([".lock"], Directory.EnumerateFiles(d).Select(Path.GetFileName)));
    }

    [Fact]
    public async Task No_replace_moves_racing_for_one_target_have_one_winner()
    {
        // File.Move(overwrite: false) fails this at once (it checks for the target, then renames: several winners).
        var dir = TestPaths.NewTempDir("moverace");
        for (var round = 0; round < 300; round++)
        {
            var target = Path.Combine(dir, "t" + round);
            var sources = Enumerable.Range(0, 6).Select(i => Path.Combine(dir, $"s{round}-{i}")).ToArray();
            foreach (var source in sources)
            {
                File.WriteAllText(source, source);
            }

            using var barrier = new Barrier(sources.Length);
            var moves = sources.Select(source => Task.Factory.StartNew(() =>
            {
                barrier.SignalAndWait();
                return StoreFiles.TryMoveNoReplace(source, target);
            }, Ct, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
            var results = await Task.WhenAll(moves);
            Assert.Single(results, r => r);
            Assert.Equal(sources[Array.IndexOf(results, true)], File.ReadAllText(target));
        }
    }

    [Fact]
    public void A_no_replace_move_refuses_an_existing_target()
    {
        var dir = TestPaths.NewTempDir("move");
        var (source, target) = (Path.Combine(dir, "s"), Path.Combine(dir, "t"));
        File.WriteAllText(source, "new");
        File.WriteAllText(target, "old");
        Assert.False(StoreFiles.TryMoveNoReplace(source, target));
        Assert.Equal(("new", "old"), (File.ReadAllText(source), File.ReadAllText(target)));
        File.Delete(target);
        Assert.True(StoreFiles.TryMoveNoReplace(source, target));
        Assert.False(File.Exists(source));
        Assert.Equal("new", File.ReadAllText(target));
    }

    [Fact]
    public async Task An_object_has_its_local_path()
    {
        var store = await NewStoreAsync();
        Assert.True(await store.PutIfAbsentAsync(ZipKey, StageFile([9, 8, 7]), Ct));
        var obj = await store.GetAsync(ZipKey, Ct);
        Assert.Equal(Path.Combine(store.Root, "golang.org", "x", "text", "@v", "v0.3.0.zip"), obj!.LocalPath);
        Assert.Equal([9, 8, 7], await File.ReadAllBytesAsync(obj.LocalPath!, Ct));
        var info = new FileInfo(obj.LocalPath!);
        Assert.Equal($"\"3-{new DateTimeOffset(info.LastWriteTimeUtc).ToUnixTimeMilliseconds():x}\"", obj.ETag);
    }

    [Fact]
    public async Task The_state_directory_is_not_listed()
    {
        var store = await NewStoreAsync();
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream([1]), Ct));
        Assert.Equal([ZipKey], await ListAsync(store, ""));
    }

    [Fact]
    public void Options_are_validated_and_registered()
    {
        Assert.Contains("absolute", Assert.Single(FileSystemStoreOptionsValidator.Problems(new FileSystemStoreOptions { Root = "relative/store" })), StringComparison.Ordinal);
        Assert.Single(FileSystemStoreOptionsValidator.Problems(new FileSystemStoreOptions { Root = "" }));
        Assert.Throws<OptionsValidationException>(() => new ServiceCollection().AddFileSystemStore(new FileSystemStoreOptions { Root = "x" }));

        var root = Path.Combine(TestPaths.NewTempDir("fsstore"), "store");
        using var provider = new ServiceCollection().AddFileSystemStore(new FileSystemStoreOptions { Root = root, Fsync = false }).BuildServiceProvider();
        var store = provider.GetRequiredService<IArtifactStore>();
        Assert.Same(provider.GetRequiredService<FileSystemArtifactStore>(), store);
        Assert.Equal(root, store.Location);
        Assert.True(Directory.Exists(Path.Combine(root, ".warren", "staging")));
    }
}
