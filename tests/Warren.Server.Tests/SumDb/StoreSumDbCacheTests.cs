using System.Text;
using Microsoft.Extensions.Options;
using Warren.Core.SumDb;
using Warren.Protocol.SumDb;
using Warren.Server.Configuration;
using Warren.Server.Storage;
using Warren.Server.SumDb;

namespace Warren.Server.Tests.SumDb;

/// <summary>The server's checksum-database cache: tiles are store blobs where the /sumdb/ proxy keeps them, the tree
/// head is a file advanced by compare-and-swap.</summary>
public sealed class StoreSumDbCacheTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("store-sumdb-cache");
    private readonly StoreLock _lock;
    private readonly FileSystemModuleStore _store;

    public StoreSumDbCacheTests()
    {
        var options = Options.Create(new WarrenOptions { Root = _root });
        _lock = new StoreLock(options);
        _store = new FileSystemModuleStore(options, _lock);
    }

    public void Dispose()
    {
        _store.Dispose();
        _lock.Dispose();
    }

    private StoreSumDbCache Cache() => new(_store, "sum.test.example", Path.Combine(_root, ".warren", "sumdb"));

    private static byte[] Note(long size) => Encoding.UTF8.GetBytes($"{TreeHead.Header}{size}\n{new string('A', 43)}=\n\n— sum.test.example sig\n");

    [Fact]
    public async Task Tiles_are_blobs_at_the_paths_the_sumdb_proxy_serves()
    {
        var cache = Cache();
        var ct = CancellationToken.None;
        await cache.PutTileAsync("tile/8/0/000.p/3", new byte[96], ct);
        Assert.True(File.Exists(Path.Combine(_root, "sumdb", "sum.test.example", "tile", "8", "0", "000.p", "3")));
        Assert.NotNull(await _store.GetBlobAsync("sumdb/sum.test.example/tile/8/0/000.p/3", ct));
        Assert.Equal(new byte[96], await cache.GetTileAsync("tile/8/0/000.p/3", ct));

        // A tile the proxy stored is the cache's too, and eviction deletes the blob.
        var staged = _store.NewStagingFile();
        await File.WriteAllBytesAsync(staged, [7, 7], ct);
        await _store.CommitBlobAsync(staged, "sumdb/sum.test.example/tile/8/1/000", ct);
        Assert.Equal([7, 7], await cache.GetTileAsync("tile/8/1/000", ct));
        await cache.EvictTileAsync("tile/8/1/000", ct);
        Assert.Null(await cache.GetTileAsync("tile/8/1/000", ct));
        Assert.Null(await _store.GetBlobAsync("sumdb/sum.test.example/tile/8/1/000", ct));
        Assert.Throws<ArgumentException>(() => cache.BlobPath("../../etc/passwd"));
    }

    [Fact]
    public async Task The_tree_head_stays_in_its_file_and_never_moves_backwards()
    {
        var cache = Cache();
        var ct = CancellationToken.None;
        Assert.True(await cache.TryAdvanceTreeHeadAsync("sum.test.example-0badf00d", null, Note(7), ct));
        Assert.Equal(Note(7), await File.ReadAllBytesAsync(Path.Combine(_root, ".warren", "sumdb", "latest-sum.test.example-0badf00d"), ct));
        Assert.False(await cache.TryAdvanceTreeHeadAsync("sum.test.example-0badf00d", Note(7), Note(3), ct));
        Assert.False(await cache.TryAdvanceTreeHeadAsync("sum.test.example-0badf00d", Note(6), Note(8), ct));

        // Another instance (another verifier candidate) sees the same head.
        var other = Cache();
        Assert.True(await other.TryAdvanceTreeHeadAsync("sum.test.example-0badf00d", Note(7), Note(8), ct));
        Assert.Equal(8, SumDbCaches.TreeSizeOf(await cache.GetTreeHeadAsync("sum.test.example-0badf00d", ct)));
    }
}
