using System.Text;
using Microsoft.AspNetCore.Http;
using Warren.Core.SumDb;
using Warren.Protocol.SumDb;

namespace Warren.Protocol.Tests.SumDb;

public sealed class SumDbClientTests : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly string _state = TestPaths.NewTempDir("sumdb-state");
    private readonly string _tiles = TestPaths.NewTempDir("sumdb-tiles");

    public void Dispose() => _http.Dispose();

    private SumDbClient NewClient(TestSumDb db, string? key = null, string? tiles = null) =>
        new(key ?? db.VerifierKey, new Uri(db.Url), _http, _state, tiles ?? _tiles);

    private string LatestFile(SumDbClient client) => new DirectorySumDbCache(_state, _tiles).TreeHeadFile(client.StateName);

    private static void AssertOneLine(SumDbLookupResult result) =>
        Assert.DoesNotContain('\n', result.Message);

    [Fact]
    public async Task Lookups_verify_and_return_the_record_hashes_and_store_the_head()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        db.Add("example.com/b", "v0.1.0", "h1:zipzipzipzipzipzipzipzipzipzipzipzipzipzipz=", "h1:modmodmodmodmodmodmodmodmodmodmodmodmodmodm=");
        db.Add("github.com/Upper/Case", "v2.0.0+incompatible");
        var client = NewClient(db);
        Assert.Null((await client.ReadStoredTreeHeadAsync()));

        var a = await client.LookupAsync("example.com/a", "v1.0.0");
        Assert.Equal(SumDbLookupStatus.Ok, a.Status);
        Assert.Equal(TestSumDb.FakeHash("example.com/a@v1.0.0"), a.ZipHash);
        Assert.Equal(TestSumDb.FakeHash("example.com/a@v1.0.0/go.mod"), a.GoModHash);

        var b = await client.LookupAsync("example.com/b", "v0.1.0/go.mod");
        Assert.True(b.IsOk, b.Message);
        Assert.Equal("h1:zipzipzipzipzipzipzipzipzipzipzipzipzipzipz=", b.ZipHash);
        Assert.Equal("h1:modmodmodmodmodmodmodmodmodmodmodmodmodmodm=", b.GoModHash);

        var upper = await client.LookupAsync("github.com/Upper/Case", "v2.0.0+incompatible");
        Assert.True(upper.IsOk, upper.Message);
        Assert.Contains("/lookup/github.com/!upper/!case@v2.0.0+incompatible", db.Requests);

        Assert.Equal(await db.TreeAsync(), (await client.ReadStoredTreeHeadAsync()));
        Assert.StartsWith(_state, LatestFile(client), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_state, "*.tmp-*"));
    }

    [Fact]
    public async Task A_later_lookup_proves_consistency_and_moves_the_persisted_head_forward()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        db.AddFiller(2);
        var client = NewClient(db);
        Assert.True((await client.LookupAsync("example.com/a", "v1.0.0")).IsOk);
        Assert.Equal(3, (await client.ReadStoredTreeHeadAsync())!.Value.Size);

        // Grow past a full tile (and a second-level partial tile).
        db.AddFiller(600);
        db.Add("example.com/late", "v1.2.3");
        var late = await client.LookupAsync("example.com/late", "v1.2.3");
        Assert.True(late.IsOk, late.Message);
        Assert.Equal(await db.TreeAsync(), (await client.ReadStoredTreeHeadAsync()));

        // A new client on the same state reloads the head and checks an old record against the newer tree.
        var restarted = NewClient(db, tiles: TestPaths.NewTempDir("sumdb-tiles2"));
        db.Add("example.com/later", "v0.0.1");
        var old = await restarted.LookupAsync("example.com/a", "v1.0.0");
        Assert.True(old.IsOk, old.Message);
        Assert.Equal(await db.TreeAsync(), (await restarted.ReadStoredTreeHeadAsync()));

        // A lagging replica answering with an older head that is a prefix: fine, and the stored head stays.
        var stored = File.ReadAllBytes(LatestFile(restarted));
        db.ServeTreeSize = 3;
        var lagging = await restarted.LookupAsync("example.com/a", "v1.0.0");
        Assert.True(lagging.IsOk, lagging.Message);
        Assert.Equal(stored, File.ReadAllBytes(LatestFile(restarted)));
    }

    [Fact]
    public async Task A_tampered_record_is_invalid()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        db.AddFiller(5);
        db.TamperRecord = text => text.Replace(TestSumDb.FakeHash("example.com/a@v1.0.0"), TestSumDb.FakeHash("evil"), StringComparison.Ordinal);

        var result = await NewClient(db).LookupAsync("example.com/a", "v1.0.0");

        Assert.Equal(SumDbLookupStatus.Invalid, result.Status);
        Assert.Contains("cannot authenticate record data", result.Message, StringComparison.Ordinal);
        Assert.Null(result.ZipHash);
        AssertOneLine(result);
    }

    [Fact]
    public async Task A_tampered_tile_is_invalid()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        db.AddFiller(300);
        db.TamperTiles = true;

        var result = await NewClient(db).LookupAsync("example.com/a", "v1.0.0");

        Assert.Equal(SumDbLookupStatus.Invalid, result.Status);
        Assert.Contains("inconsistent tile", result.Message, StringComparison.Ordinal);
        AssertOneLine(result);
        Assert.Empty(Directory.EnumerateFiles(_tiles, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_wrong_verifier_key_is_invalid_and_nothing_is_stored()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        var (_, otherKey) = NoteKeys.GenerateKey("sum.test.example");
        var client = NewClient(db, key: otherKey);

        var result = await client.LookupAsync("example.com/a", "v1.0.0");

        Assert.Equal(SumDbLookupStatus.Invalid, result.Status);
        Assert.Contains("verifying tree note", result.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(LatestFile(client)));
    }

    [Fact]
    public async Task Malformed_responses_are_invalid()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        var client = NewClient(db);
        db.Intercept = async context =>
        {
            await context.Response.WriteAsync("this is not a lookup response");
            return true;
        };
        var garbage = await client.LookupAsync("example.com/a", "v1.0.0");
        Assert.Equal(SumDbLookupStatus.Invalid, garbage.Status);
        Assert.Contains("malformed", garbage.Message, StringComparison.Ordinal);

        // A signed record that lacks the go.mod line.
        db.Intercept = null;
        db.ResetLog();
        db.AddRaw("example.com/a", "v1.0.0", Encoding.UTF8.GetBytes("example.com/a v1.0.0 " + TestSumDb.FakeHash("x") + "\n"));
        var fresh = new SumDbClient(db.VerifierKey, new Uri(db.Url), _http, TestPaths.NewTempDir("sumdb-state2"), _tiles);
        var partial = await fresh.LookupAsync("example.com/a", "v1.0.0");
        Assert.Equal(SumDbLookupStatus.Invalid, partial.Status);
        Assert.Contains("does not hold the go.mod hash", partial.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_same_size_fork_is_reported_and_the_stored_head_is_kept()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        db.AddFiller(2);
        var client = NewClient(db);
        Assert.True((await client.LookupAsync("example.com/a", "v1.0.0")).IsOk);
        var stored = File.ReadAllBytes(LatestFile(client));

        // The server "restarts" with a different log of the same size.
        db.ResetLog();
        db.Add("example.com/a", "v1.0.0", TestSumDb.FakeHash("evil"));
        db.AddFiller(2);
        var result = await client.LookupAsync("example.com/a", "v1.0.0");

        Assert.Equal(SumDbLookupStatus.Fork, result.Status);
        Assert.Contains("SECURITY ERROR", result.Message, StringComparison.Ordinal);
        Assert.Contains("size 3", result.Message, StringComparison.Ordinal);
        AssertOneLine(result);
        Assert.Equal(stored, File.ReadAllBytes(LatestFile(client)));

        // A fresh client on the same state sees the same fork.
        Assert.Equal(SumDbLookupStatus.Fork, (await NewClient(db).LookupAsync("example.com/a", "v1.0.0")).Status);
    }

    [Fact]
    public async Task A_newer_head_that_does_not_extend_the_stored_one_is_a_fork()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        db.AddFiller(2);
        var client = NewClient(db);
        Assert.True((await client.LookupAsync("example.com/a", "v1.0.0")).IsOk);
        var stored = File.ReadAllBytes(LatestFile(client));

        db.ResetLog();
        db.AddFiller(1, "example.com/rewritten");
        db.Add("example.com/a", "v1.0.0");
        db.AddFiller(300);
        var result = await client.LookupAsync("example.com/a", "v1.0.0");

        Assert.Equal(SumDbLookupStatus.Fork, result.Status);
        Assert.Contains("misbehavior detected", result.Message, StringComparison.Ordinal);
        Assert.Contains("tree#3 has hash", result.Message, StringComparison.Ordinal);
        AssertOneLine(result);
        Assert.Equal(stored, File.ReadAllBytes(LatestFile(client)));
        Assert.Equal(SumDbLookupStatus.Fork, (await client.LookupAsync("example.com/a", "v1.0.0")).Status);
    }

    [Fact]
    public async Task An_older_head_that_is_not_a_prefix_of_the_stored_one_is_a_fork()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        db.AddFiller(20);
        var client = NewClient(db);
        Assert.True((await client.LookupAsync("example.com/a", "v1.0.0")).IsOk);
        var stored = File.ReadAllBytes(LatestFile(client));

        db.ResetLog();
        db.Add("example.com/a", "v1.0.0", TestSumDb.FakeHash("evil"));
        db.AddFiller(4);
        var result = await client.LookupAsync("example.com/a", "v1.0.0");

        Assert.Equal(SumDbLookupStatus.Fork, result.Status);
        Assert.Contains("tree#5 has hash", result.Message, StringComparison.Ordinal);
        Assert.Equal(stored, File.ReadAllBytes(LatestFile(client)));
    }

    [Fact]
    public async Task A_version_not_in_the_database_is_not_found()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        var client = NewClient(db);

        var result = await client.LookupAsync("example.com/a", "v9.9.9");

        Assert.Equal(SumDbLookupStatus.NotFound, result.Status);
        Assert.Contains("example.com/a@v9.9.9", result.Message, StringComparison.Ordinal);
        db.FailWith = 410;
        Assert.Equal(SumDbLookupStatus.NotFound, (await client.LookupAsync("example.com/a", "v1.0.0")).Status);
    }

    [Fact]
    public async Task The_database_down_is_a_failure()
    {
        var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        var client = NewClient(db);
        db.FailWith = 503;
        var unavailable = await client.LookupAsync("example.com/a", "v1.0.0");
        Assert.Equal(SumDbLookupStatus.Failed, unavailable.Status);
        Assert.Contains("503", unavailable.Message, StringComparison.Ordinal);

        // Tiles failing after a good lookup response is a failure too, not a verdict.
        db.FailWith = null;
        db.AddFiller(5);
        db.Intercept = async context =>
        {
            if (!context.Request.Path.Value!.StartsWith("/tile/", StringComparison.Ordinal))
            {
                return false;
            }

            context.Response.StatusCode = 500;
            await context.Response.WriteAsync("boom");
            return true;
        };
        Assert.Equal(SumDbLookupStatus.Failed, (await client.LookupAsync("example.com/a", "v1.0.0")).Status);

        await db.DisposeAsync();
        var refused = await client.LookupAsync("example.com/a", "v1.0.0");
        Assert.Equal(SumDbLookupStatus.Failed, refused.Status);
        AssertOneLine(refused);

        using var impatient = new HttpClient { Timeout = TimeSpan.FromMilliseconds(300) };
        await using var slow = await TestSumDb.StartAsync();
        slow.Add("example.com/a", "v1.0.0");
        slow.Intercept = async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted);
            return false;
        };
        var timedOut = await new SumDbClient(slow.VerifierKey, new Uri(slow.Url), impatient, _state, _tiles).LookupAsync("example.com/a", "v1.0.0");
        Assert.Equal(SumDbLookupStatus.Failed, timedOut.Status);
        Assert.Contains("timed out", timedOut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tiles_are_fetched_once_and_served_from_the_cache_afterwards()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        db.AddFiller(300);
        db.Add("example.com/b", "v1.0.0");
        var client = NewClient(db);

        Assert.True((await client.LookupAsync("example.com/a", "v1.0.0")).IsOk);
        int first = db.TileRequests;
        Assert.True(first > 0);
        Assert.True((await client.LookupAsync("example.com/b", "v1.0.0")).IsOk);
        Assert.True((await client.LookupAsync("example.com/a", "v1.0.0")).IsOk);
        Assert.Equal(first, db.TileRequests);

        // Another client (another process) sharing the cache needs no tiles either.
        var other = new SumDbClient(db.VerifierKey, new Uri(db.Url), _http, TestPaths.NewTempDir("sumdb-state3"), _tiles);
        Assert.True((await other.LookupAsync("example.com/b", "v1.0.0")).IsOk);
        Assert.Equal(first, db.TileRequests);

        // Growth: the full tile stays cached; only new partial tiles are fetched.
        db.AddFiller(10, "example.com/more");
        Assert.True((await client.LookupAsync("example.com/more3", "v1.0.0")).IsOk);
        Assert.Equal(1, db.Requests.Count(r => r == "/tile/8/0/000"));
        Assert.True(File.Exists(Path.Combine(_tiles, "tile", "8", "0", "000")));
    }

    [Fact]
    public async Task Partial_tiles_are_cached_and_dropped_once_the_full_tile_is_cached()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        db.AddFiller(2);
        var client = NewClient(db);
        Assert.True((await client.LookupAsync("example.com/a", "v1.0.0")).IsOk);
        var partials = Path.Combine(_tiles, "tile", "8", "0", "000.p");
        Assert.True(File.Exists(Path.Combine(partials, "3")));

        db.AddFiller(300, "example.com/grow");
        Assert.True((await client.LookupAsync("example.com/grow299", "v1.0.0")).IsOk);
        Assert.True(File.Exists(Path.Combine(_tiles, "tile", "8", "0", "000")));
        Assert.False(Directory.Exists(partials));
    }

    [Fact]
    public async Task Concurrent_lookups_while_the_log_grows_all_verify()
    {
        await using var db = await TestSumDb.StartAsync();
        db.AddFiller(50);
        var client = NewClient(db);
        var tasks = new List<Task<SumDbLookupResult>>();
        for (int round = 0; round < 5; round++)
        {
            db.AddFiller(120, $"example.com/round{round}-");
            for (int i = 0; i < 10; i++)
            {
                tasks.Add(client.LookupAsync($"example.com/round{round}-{i * 7}", "v1.0.0"));
                tasks.Add(client.LookupAsync($"example.com/filler{i * 3}", "v1.0.0"));
            }
        }

        foreach (var result in await Task.WhenAll(tasks))
        {
            Assert.True(result.IsOk, result.Message);
        }

        Assert.Equal(await db.TreeAsync(), (await client.ReadStoredTreeHeadAsync()));
    }

    [Fact]
    public async Task Cancellation_is_thrown_not_reported()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => NewClient(db).LookupAsync("example.com/a", "v1.0.0", cts.Token));
    }

    [Fact]
    public async Task A_corrupted_cache_tile_is_evicted_and_fetched_again()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        db.AddFiller(300);
        var client = NewClient(db);
        Assert.True((await client.LookupAsync("example.com/a", "v1.0.0")).IsOk);
        var cached = Path.Combine(_tiles, "tile", "8", "0", "000");
        var bytes = File.ReadAllBytes(cached);
        bytes[5] ^= 0xff;
        File.WriteAllBytes(cached, bytes);
        int before = db.TileRequests;

        var result = await client.LookupAsync("example.com/a", "v1.0.0");

        Assert.True(result.IsOk, result.Message);
        Assert.True(db.TileRequests > before);
        Assert.NotEqual(bytes, File.ReadAllBytes(cached));
    }

    [Fact]
    public async Task A_stored_head_that_does_not_verify_fails_closed()
    {
        await using var db = await TestSumDb.StartAsync();
        db.Add("example.com/a", "v1.0.0");
        var client = NewClient(db);
        Assert.True((await client.LookupAsync("example.com/a", "v1.0.0")).IsOk);
        File.WriteAllText(LatestFile(client), "go.sum database tree\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— sum.test.example garbage\n");

        var result = await NewClient(db).LookupAsync("example.com/a", "v1.0.0");

        Assert.Equal(SumDbLookupStatus.Invalid, result.Status);
        Assert.Contains("does not verify", result.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidDataException>(() => client.ReadStoredTreeHeadAsync());
    }

    [Fact]
    public void CompareHashes_produces_the_mismatch_body()
    {
        const string zip = "h1:Zip=", mod = "h1:Mod=";
        Assert.Null(SumDbClient.CompareHashes("example.com/a", "v1.0.0", "upstream", "sum.golang.org", zip, mod, zip, mod));
        Assert.Null(SumDbClient.CompareHashes("example.com/a", "v1.0.0", "upstream", "sum.golang.org", null, mod, zip, mod));
        Assert.Equal(
            "checksum mismatch: example.com/a@v1.0.0: zip h1 from upstream https://proxy.example is h1:Bad=, checksum database sum.golang.org has h1:Zip=",
            SumDbClient.CompareHashes("example.com/a", "v1.0.0", "upstream https://proxy.example", "sum.golang.org", "h1:Bad=", mod, zip, mod));
        Assert.Equal(
            "checksum mismatch: example.com/a@v1.0.0: go.mod h1 from direct is h1:Bad=, checksum database sum.golang.org has h1:Mod=",
            SumDbClient.CompareHashes("example.com/a", "v1.0.0", "direct", "sum.golang.org", zip, "h1:Bad=", zip, mod));
    }

    [Fact]
    public void Bad_construction_arguments_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new SumDbClient("not a key", new Uri("http://127.0.0.1/"), _http, _state, _tiles));
        var (_, key) = NoteKeys.GenerateKey("sum.test.example");
        Assert.Throws<ArgumentException>(() => new SumDbClient(key, new Uri("file:///tmp/x"), _http, _state, _tiles));
        var client = new SumDbClient(key, new Uri("http://127.0.0.1:1/sumdb/sum.test.example"), _http, _state, _tiles);
        Assert.Equal("sum.test.example", client.Name);
    }
}
