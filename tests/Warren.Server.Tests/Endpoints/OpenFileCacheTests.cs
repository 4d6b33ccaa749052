using Warren.Storage;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Endpoints;
using Warren.Server.Storage;

namespace Warren.Server.Tests.Endpoints;

public sealed class OpenFileCacheTests
{
    private readonly string _dir = TestPaths.NewTempDir("open-file-cache");

    private StoredObject Stored(string name)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "content of " + name);
        return new TestStoredFile(path, new FileInfo(path).Length, DateTimeOffset.UnixEpoch, "\"" + name + "\"");
    }

    [Fact]
    public void An_evicted_file_nobody_reads_is_closed_at_once()
    {
        using var cache = new OpenFileCache(capacity: 1);
        var a = cache.Open("a", Stored("a"))!;
        Assert.Equal(1, a.References);

        var b = cache.Open("b", Stored("b"))!;
        Assert.True(a.Handle.IsClosed);
        Assert.Equal(0, a.References);
        Assert.False(a.TryAcquire());
        Assert.False(b.Handle.IsClosed);
    }

    [Fact]
    public void An_evicted_file_is_closed_when_the_last_of_its_readers_lets_go()
    {
        using var cache = new OpenFileCache(capacity: 1);
        var a = cache.Open("a", Stored("a"))!;
        Assert.True(cache.TryAcquire("a", out var first));
        Assert.True(cache.TryAcquire("a", out var second));
        Assert.Same(a, first);
        Assert.Same(a, second);
        Assert.Equal(3, a.References);

        cache.Open("b", Stored("b"));
        Assert.False(cache.TryGet("a", out _));
        Assert.False(a.Handle.IsClosed);
        first.Release();
        Assert.False(a.Handle.IsClosed);
        var buffer = new byte[64];
        Assert.Equal("content of a".Length, RandomAccess.Read(a.Handle, buffer, 0));
        second.Release();
        Assert.True(a.Handle.IsClosed);
        Assert.Throws<InvalidOperationException>(a.Release);
    }

    [Fact]
    public void The_loser_of_a_race_to_open_the_same_file_closes_its_own_handle()
    {
        using var cache = new OpenFileCache(capacity: 4);
        var stored = Stored("a");
        var winner = cache.Open("a", stored)!;

        // Opened again under the same key (as a concurrent request would): the cached one is returned, and no second
        // handle stays open (the file can be deleted and its space freed once the cache lets go).
        var again = cache.Open("a", stored)!;
        Assert.Same(winner, again);
        Assert.Equal(1, cache.Count);
        Assert.Equal(1, winner.References);
        var fds = Directory.GetFiles("/proc/self/fd").Count(fd => ReadLink(fd) == stored.LocalPath);
        Assert.Equal(1, fds);
    }

    [Fact]
    public void Disposing_the_cache_closes_idle_handles_now_and_busy_ones_when_their_response_ends()
    {
        var cache = new OpenFileCache(capacity: 4);
        var idle = cache.Open("idle", Stored("idle"))!;
        var busy = cache.Open("busy", Stored("busy"))!;
        Assert.True(busy.TryAcquire());

        cache.Dispose();
        Assert.True(idle.Handle.IsClosed);
        Assert.False(busy.Handle.IsClosed);
        Assert.Equal(0, cache.Count);
        busy.Release();
        Assert.True(busy.Handle.IsClosed);

        // Nothing is cached (nor left open) after disposal.
        Assert.Null(cache.Open("late", Stored("late")));
        Assert.Equal(0, cache.Count);
    }

    private static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
