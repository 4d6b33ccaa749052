using Warren.Core.Limits;
using Warren.Core.Modules;
using Warren.Storage.Retention;
using Warren.Testing;

namespace Warren.Storage.Tests;

/// <summary>SIZE parsing and the eviction policies of <see cref="StoreCollector"/>.</summary>
public sealed class RetentionPlanTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static StoredVersion V(string path, long size, int storedDaysAgo, int? accessedDaysAgo, long downloads) =>
        new(path, "v1.0.0", [path + "/@v/v1.0.0.zip"], size, Now.AddDays(-storedDaysAgo), accessedDaysAgo is { } a ? Now.AddDays(-a) : null, downloads);

    // a: old, used yesterday, popular. b: new, never used. c: middle, used long ago, one download. p: private, oldest.
    private static readonly StoredVersion[] Store =
    [
        V("a.example/a", 100, storedDaysAgo: 300, accessedDaysAgo: 1, downloads: 50),
        V("b.example/b", 100, storedDaysAgo: 2, accessedDaysAgo: null, downloads: 0),
        V("c.example/c", 100, storedDaysAgo: 100, accessedDaysAgo: 90, downloads: 1),
        V("corp.example/p", 100, storedDaysAgo: 400, accessedDaysAgo: 200, downloads: 0),
    ];

    private static string[] Plan(long? max, TimeSpan? olderThan, RetentionPolicy policy, string keep = "corp.example") =>
        StoreCollector.Plan(Store, new CollectionRequest(max, olderThan, policy, GlobList.Parse(keep), DryRun: false), Now).Select(v => v.ModulePath).ToArray();

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("4096", 4096L)]
    [InlineData("10KB", 10L << 10)]
    [InlineData("500MB", 500L << 20)]
    [InlineData("50GB", 50L << 30)]
    [InlineData("2TB", 2L << 40)]
    [InlineData("1.5gb", 3L << 29)]
    public void Sizes_take_KB_MB_GB_TB_as_powers_of_1024(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out var parsed, out var error), error);
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1GB")]
    [InlineData("10XB")]
    [InlineData("GB")]
    public void Bad_sizes_are_refused_with_a_reason(string text)
    {
        Assert.False(ByteSize.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Lru_evicts_the_least_recently_used_first_counting_a_never_used_version_from_when_it_was_stored()
    {
        // The kept version counts towards the size: 400 bytes in all.
        Assert.Equal(["c.example/c"], Plan(max: 300, null, RetentionPolicy.Lru));
        Assert.Equal(["c.example/c", "b.example/b"], Plan(max: 200, null, RetentionPolicy.Lru));
        Assert.Equal(["c.example/c", "b.example/b", "a.example/a"], Plan(max: 0, null, RetentionPolicy.Lru));
    }

    [Fact]
    public void Lfu_evicts_the_least_downloaded_first_ties_by_least_recent_use()
    {
        Assert.Equal(["b.example/b", "c.example/c"], Plan(max: 200, null, RetentionPolicy.Lfu));
    }

    [Fact]
    public void Age_evicts_the_oldest_stored_first()
    {
        Assert.Equal(["a.example/a", "c.example/c"], Plan(max: 200, null, RetentionPolicy.Age));
    }

    [Fact]
    public void Older_than_evicts_every_version_unused_for_that_long_and_max_size_then_adds_what_it_needs()
    {
        Assert.Equal(["c.example/c"], Plan(null, TimeSpan.FromDays(30), RetentionPolicy.Lru));
        Assert.Equal(["c.example/c", "b.example/b"], Plan(max: 200, TimeSpan.FromDays(30), RetentionPolicy.Lru));
        Assert.Empty(Plan(max: 1000, null, RetentionPolicy.Lru));
    }

    [Fact]
    public void Kept_patterns_are_never_evicted_even_when_the_size_cannot_be_reached()
    {
        Assert.DoesNotContain("corp.example/p", Plan(max: 0, TimeSpan.FromDays(1), RetentionPolicy.Age));
        Assert.Contains("corp.example/p", Plan(max: 0, null, RetentionPolicy.Age, keep: ""));
    }

    [Theory]
    [InlineData("lru", RetentionPolicy.Lru)]
    [InlineData("LFU", RetentionPolicy.Lfu)]
    [InlineData("age", RetentionPolicy.Age)]
    public void Policies_parse(string text, RetentionPolicy policy)
    {
        Assert.True(StoreCollector.TryParsePolicy(text, out var parsed));
        Assert.Equal(policy, parsed);
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("1")]
    [InlineData("")]
    public void Unknown_policies_are_refused(string text) => Assert.False(StoreCollector.TryParsePolicy(text, out _));

    [Fact]
    public async Task A_collection_deletes_a_versions_files_zip_first_and_records_the_eviction_leaving_tiles_alone()
    {
        var root = TestPaths.NewTempDir("gc-unit");
        var store = new FileSystem.FileSystemArtifactStore(new FileSystem.FileSystemStoreOptions { Root = root });
        foreach (var key in new[] { "m.example/a/@v/v1.0.0.info", "m.example/a/@v/v1.0.0.mod", "m.example/a/@v/v1.0.0.zip", "m.example/a/@v/v1.0.0.ziphash", "sumdb/s.example/tile/8/0/000" })
        {
            using var body = new MemoryStream(new byte[10]);
            Assert.True(await store.PutIfAbsentAsync(key, body, CancellationToken.None));
        }

        var deleted = new List<string>();
        var collector = new StoreCollector(store, null, TimeProvider.System) { OnEvicted = v => deleted.AddRange(v.Keys) };
        var dry = await collector.CollectAsync(new CollectionRequest(0, null, RetentionPolicy.Lru, GlobList.Empty, DryRun: true), CancellationToken.None);
        Assert.Equal((1, 40L, 0L), (dry.Evicted.Count, dry.SizeBefore, dry.SizeAfter));
        Assert.True(await store.ExistsAsync("m.example/a/@v/v1.0.0.zip", CancellationToken.None));

        var result = await collector.CollectAsync(new CollectionRequest(0, null, RetentionPolicy.Lru, GlobList.Empty, DryRun: false), CancellationToken.None);
        Assert.Equal((1, 0L), (result.Evicted.Count, result.SizeAfter));
        Assert.Equal(["m.example/a/@v/v1.0.0.zip", "m.example/a/@v/v1.0.0.ziphash", "m.example/a/@v/v1.0.0.mod", "m.example/a/@v/v1.0.0.info"], deleted);
        Assert.False(await store.ExistsAsync("m.example/a/@v/v1.0.0.info", CancellationToken.None));
        Assert.True(await store.ExistsAsync("sumdb/s.example/tile/8/0/000", CancellationToken.None));
    }
}
