using System.Text;
using Microsoft.Extensions.Options;
using Warren.Core.SumDb;
using Warren.Protocol.SumDb;
using Warren.Server.Configuration;
using Warren.Server.Storage;
using Warren.Server.SumDb;
using Warren.Storage;
using Warren.Storage.FileSystem;
using Warren.Storage.Sqlite;

namespace Warren.Server.Tests.SumDb;

/// <summary>The server's checksum-database cache: tiles are objects of the artifact store where the /sumdb/ proxy keeps
/// them; the tree head is in the module index, advanced by compare-and-swap.</summary>
public sealed class StoreSumDbCacheTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("store-sumdb-cache");
    private readonly StoreLock _lock;
    private readonly StagingArea _staging;
    private readonly FileSystemArtifactStore _store;
    private readonly SqliteModuleIndex _index;

    public StoreSumDbCacheTests()
    {
        var options = Options.Create(new WarrenOptions { Root = _root });
        _lock = new StoreLock(options);
        _staging = new StagingArea(_lock);
        _store = new FileSystemArtifactStore(new FileSystemStoreOptions { Root = _root, Fsync = false });
        _index = new SqliteModuleIndex(new SqliteIndexOptions { Path = Path.Combine(_root, ".warren", "index.db") });
    }

    public void Dispose()
    {
        _index.Dispose();
        _store.Dispose();
        _staging.Dispose();
        _lock.Dispose();
    }

    private StoreSumDbCache Cache() => new(_store, _index, _staging, "sum.test.example");

    private static byte[] Note(long size) => Encoding.UTF8.GetBytes($"{TreeHead.Header}{size}\n{new string('A', 43)}=\n\n— sum.test.example sig\n");

    [Fact]
    public async Task Tiles_are_objects_at_the_keys_the_sumdb_proxy_serves()
    {
        var cache = Cache();
        var ct = CancellationToken.None;
        await cache.PutTileAsync("tile/8/0/000.p/3", new byte[96], ct);
        Assert.True(File.Exists(Path.Combine(_root, "sumdb", "sum.test.example", "tile", "8", "0", "000.p", "3")));
        Assert.NotNull(await _store.GetAsync("sumdb/sum.test.example/tile/8/0/000.p/3", ct));
        Assert.Equal(new byte[96], await cache.GetTileAsync("tile/8/0/000.p/3", ct));
        Assert.DoesNotContain(Directory.EnumerateFiles(_staging.Directory), f => f.EndsWith(".partial", StringComparison.Ordinal));

        // A tile the proxy stored is the cache's too, and eviction deletes the object.
        using (var content = new MemoryStream([7, 7]))
        {
            await _store.PutIfAbsentAsync("sumdb/sum.test.example/tile/8/1/000", content, ct);
        }

        Assert.Equal([7, 7], await cache.GetTileAsync("tile/8/1/000", ct));
        await cache.EvictTileAsync("tile/8/1/000", ct);
        Assert.Null(await cache.GetTileAsync("tile/8/1/000", ct));
        Assert.Null(await _store.GetAsync("sumdb/sum.test.example/tile/8/1/000", ct));
        Assert.Throws<ArgumentException>(() => cache.BlobPath("../../etc/passwd"));
    }

    [Fact]
    public async Task The_tree_head_is_in_the_index_and_never_moves_backwards()
    {
        var cache = Cache();
        var ct = CancellationToken.None;
        Assert.True(await cache.TryAdvanceTreeHeadAsync("sum.test.example-0badf00d", null, Note(7), ct));
        Assert.Equal(Note(7), await _index.GetTreeHeadAsync("sum.test.example-0badf00d", ct));
        Assert.False(await cache.TryAdvanceTreeHeadAsync("sum.test.example-0badf00d", Note(7), Note(3), ct));
        Assert.False(await cache.TryAdvanceTreeHeadAsync("sum.test.example-0badf00d", Note(6), Note(8), ct));

        // Another instance (another verifier candidate, or another node on the same index) sees the same head.
        var other = Cache();
        Assert.True(await other.TryAdvanceTreeHeadAsync("sum.test.example-0badf00d", Note(7), Note(8), ct));
        Assert.Equal(8, SumDbCaches.TreeSizeOf(await cache.GetTreeHeadAsync("sum.test.example-0badf00d", ct)));
    }

    [Fact]
    public async Task A_tree_head_file_of_an_earlier_version_moves_into_the_index_once_and_never_backwards()
    {
        var ct = CancellationToken.None;
        var refill = new IndexRefill(_store, _index, Microsoft.Extensions.Logging.Abstractions.NullLogger<IndexRefill>.Instance);
        var files = new TreeHeadFiles(Path.Combine(_root, ".warren", "sumdb"));
        Assert.True(await files.TryAdvanceAsync("sum.test.example", null, Note(9), ct));

        Assert.True(await refill.ImportTreeHeadFileAsync(_root, "sum.test.example", ct));
        Assert.Equal(Note(9), await _index.GetTreeHeadAsync("sum.test.example", ct));
        Assert.False(File.Exists(files.FileOf("sum.test.example")));
        Assert.False(await refill.ImportTreeHeadFileAsync(_root, "sum.test.example", ct));

        // A file smaller than what the index holds never moves it back.
        Assert.True(await files.TryAdvanceAsync("sum.test.example", null, Note(4), ct));
        Assert.False(await refill.ImportTreeHeadFileAsync(_root, "sum.test.example", ct));
        Assert.Equal(Note(9), await _index.GetTreeHeadAsync("sum.test.example", ct));
    }
}
