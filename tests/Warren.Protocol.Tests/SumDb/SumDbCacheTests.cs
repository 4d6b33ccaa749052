using System.Text;
using Warren.Core.SumDb;
using Warren.Protocol.SumDb;

namespace Warren.Protocol.Tests.SumDb;

/// <summary>The caches' compare-and-swap of the tree head: it only moves when the caller saw the current head, and
/// never to a smaller tree.</summary>
public sealed class SumDbCacheTests
{
    private static byte[] Note(long size, char hash = 'A') =>
        Encoding.UTF8.GetBytes($"{TreeHead.Header}{size}\n{new string(hash, 43)}=\n\n— sum.test.example sig\n");

    public static TheoryData<string> Kinds => ["directory", "memory"];

    private static ISumDbCache Create(string kind) => kind == "directory"
        ? new DirectorySumDbCache(TestPaths.NewTempDir("cache-state"), TestPaths.NewTempDir("cache-tiles"))
        : new MemorySumDbCache();

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task The_tree_head_moves_forward_by_compare_and_swap_only(string kind)
    {
        var cache = Create(kind);
        var ct = CancellationToken.None;
        Assert.Null(await cache.GetTreeHeadAsync("db-1", ct));
        Assert.False(await cache.TryAdvanceTreeHeadAsync("db-1", Note(1), Note(5), ct));
        Assert.True(await cache.TryAdvanceTreeHeadAsync("db-1", null, Note(5), ct));
        Assert.False(await cache.TryAdvanceTreeHeadAsync("db-1", null, Note(6), ct));

        // Backwards is refused even with the right expectation; forward from the current head is taken.
        Assert.False(await cache.TryAdvanceTreeHeadAsync("db-1", Note(5), Note(4), ct));
        Assert.True(await cache.TryAdvanceTreeHeadAsync("db-1", Note(5), Note(9), ct));
        Assert.False(await cache.TryAdvanceTreeHeadAsync("db-1", Note(5), Note(12), ct));
        Assert.Equal(Note(9), await cache.GetTreeHeadAsync("db-1", ct));
        Assert.Null(await cache.GetTreeHeadAsync("db-2", ct));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Racing_writers_that_saw_the_same_head_advance_it_once(string kind)
    {
        var cache = Create(kind);
        await cache.TryAdvanceTreeHeadAsync("db", null, Note(10), CancellationToken.None);
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            cache.TryAdvanceTreeHeadAsync("db", Note(10), Note(11 + i), CancellationToken.None).AsTask()));
        Assert.Single(results, r => r);
        Assert.Equal(11 + Array.IndexOf(results, true), SumDbCaches.TreeSizeOf(await cache.GetTreeHeadAsync("db", CancellationToken.None)));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Tiles_are_put_got_and_evicted_by_tile_path(string kind)
    {
        var cache = Create(kind);
        var ct = CancellationToken.None;
        Assert.Null(await cache.GetTileAsync("tile/8/0/000", ct));
        await cache.PutTileAsync("tile/8/0/000", new byte[] { 1, 2, 3 }, ct);
        await cache.PutTileAsync("tile/8/1/000.p/5", new byte[] { 4 }, ct);
        Assert.Equal([1, 2, 3], await cache.GetTileAsync("tile/8/0/000", ct));
        Assert.Equal([4], await cache.GetTileAsync("tile/8/1/000.p/5", ct));
        await cache.EvictTileAsync("tile/8/0/000", ct);
        await cache.EvictTileAsync("tile/8/0/001", ct);
        Assert.Null(await cache.GetTileAsync("tile/8/0/000", ct));
    }

    [Fact]
    public void Tree_size_is_read_from_the_note_text()
    {
        Assert.Equal(42, SumDbCaches.TreeSizeOf(Note(42)));
        Assert.Equal(-1, SumDbCaches.TreeSizeOf("not a note"u8));
    }
}
