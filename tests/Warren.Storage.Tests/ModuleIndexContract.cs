using System.Text;
using Warren.Core.SumDb;
using Warren.Storage;

namespace Warren.Storage.Tests;

/// <summary>What every <see cref="IModuleIndex"/> provider must do. One class, one fixture per provider: a provider's
/// test class derives from it and supplies <see cref="CreateIndexAsync"/> (a fresh, empty index each call, unless
/// <c>shareWith</c> is given: then a second handle on the same index, as a second node would open it).</summary>
public abstract partial class ModuleIndexContract
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    protected abstract Task<IModuleIndex> CreateIndexAsync(IModuleIndex? shareWith = null);

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task Artifacts_are_recorded_and_keep_their_first_time()
    {
        var index = await CreateIndexAsync();
        Assert.Null(await index.GetArtifactAsync("m.example/a", "v1.0.0", ArtifactKind.Zip, Ct));
        await index.RecordArtifactAsync(new("m.example/a", "v1.0.0", ArtifactKind.Zip, "h1:abc=", 10, "https://up", T0), Ct);
        await index.RecordArtifactAsync(new("m.example/a", "v1.0.0", ArtifactKind.Zip, "h1:def=", 11, "store", T0.AddHours(1)), Ct);
        var record = await index.GetArtifactAsync("m.example/a", "v1.0.0", ArtifactKind.Zip, Ct);
        Assert.NotNull(record);
        Assert.Equal(("h1:def=", 11L, "store", T0), (record.Hash, record.Size, record.Source, record.StoredAt));
        Assert.Null(await index.GetArtifactAsync("m.example/a", "v1.0.0", ArtifactKind.Mod, Ct));
        Assert.Null(await index.GetArtifactAsync("m.example/A", "v1.0.0", ArtifactKind.Zip, Ct));
    }

    [Fact]
    public async Task Usage_adds_downloads_keeps_the_latest_access_and_eviction_lasts_until_the_version_is_stored_again()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        Assert.Empty(await index.ReadUsageAsync(Ct));
        await index.RecordUsageAsync([new("m.example/u", "v1.0.0", T0.AddMinutes(5), 2), new("m.example/u", "v1.1.0", T0, 0)], Ct);
        await second.RecordUsageAsync([new("m.example/u", "v1.0.0", T0.AddMinutes(1), 3)], Ct);
        await index.RecordUsageAsync([], Ct);
        var usage = (await index.ReadUsageAsync(Ct)).ToDictionary(u => u.Version);
        Assert.Equal((T0.AddMinutes(5), 5L, (DateTimeOffset?)null), (usage["v1.0.0"].LastAccess, usage["v1.0.0"].Downloads, usage["v1.0.0"].EvictedAt));
        Assert.Equal((T0, 0L), (usage["v1.1.0"].LastAccess, usage["v1.1.0"].Downloads));

        // Evicted, a version keeps its records and feed entry; stored again, it is present again.
        await index.RecordArtifactAsync(new("m.example/u", "v1.0.0", ArtifactKind.Zip, "h1:z=", 1, "up", T0), Ct);
        await index.RecordEvictionsAsync([("m.example/u", "v1.0.0"), ("m.example/u", "v2.0.0")], T0.AddHours(1), Ct);
        await index.RecordEvictionsAsync([], T0.AddHours(3), Ct);
        usage = (await second.ReadUsageAsync(Ct)).ToDictionary(u => u.Version);
        Assert.Equal((T0.AddHours(1), 5L), (usage["v1.0.0"].EvictedAt, usage["v1.0.0"].Downloads));
        Assert.Equal(T0.AddHours(1), usage["v2.0.0"].EvictedAt);
        Assert.Equal("h1:z=", (await index.GetArtifactAsync("m.example/u", "v1.0.0", ArtifactKind.Zip, Ct))?.Hash);
        Assert.Contains(await index.ReadFeedAsync(DateTimeOffset.UnixEpoch, 10, Ct), e => e.Version == "v1.0.0");
        await second.RecordArtifactAsync(new("m.example/u", "v1.0.0", ArtifactKind.Zip, "h1:z=", 1, "up", T0.AddHours(2)), Ct);
        Assert.Null((await index.ReadUsageAsync(Ct)).Single(u => u.Version == "v1.0.0").EvictedAt);
    }

    [Fact]
    public async Task Versions_are_listed_canonical_and_in_semver_order()
    {
        var index = await CreateIndexAsync();
        foreach (var v in new[] { "v1.10.0", "v1.2.0", "v1.2.0", "v0.0.0-20200101000000-abcdefabcdef" })
        {
            await index.RecordArtifactAsync(new("m.example/b", v, ArtifactKind.Info, null, 1, "up", T0), Ct);
        }

        await index.RecordArtifactAsync(new("m.example/b", "v1.2.0", ArtifactKind.Mod, "h1:x=", 1, "up", T0), Ct);
        await index.RecordArtifactAsync(new("m.example/b/sub", "v9.0.0", ArtifactKind.Info, null, 1, "up", T0), Ct);
        Assert.Equal(["v0.0.0-20200101000000-abcdefabcdef", "v1.2.0", "v1.10.0"], await index.ListVersionsAsync("m.example/b", Ct));
        Assert.Empty(await index.ListVersionsAsync("m.example/none", Ct));
    }

    [Fact]
    public async Task The_feed_lists_each_version_once_in_first_stored_order_with_unique_increasing_timestamps()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        Assert.Empty(await index.ReadFeedAsync(DateTimeOffset.UnixEpoch, 10, Ct));

        // Several kinds of one version make one entry; many versions at one instant still get distinct timestamps;
        // a record older than the newest entry is placed after it.
        foreach (var kind in new[] { ArtifactKind.Info, ArtifactKind.Mod, ArtifactKind.Zip })
        {
            await index.RecordArtifactAsync(new("m.example/f", "v1.0.0", kind, null, 1, "up", T0), Ct);
        }

        for (var i = 0; i < 30; i++)
        {
            await (i % 2 == 0 ? index : second).RecordArtifactAsync(new("m.example/g" + i, "v0.1.0", ArtifactKind.Info, null, 1, "up", T0.AddSeconds(1)), Ct);
        }

        await index.RecordArtifactAsync(new("m.example/late", "v2.0.0", ArtifactKind.Mod, "h1:x=", 1, "store", T0.AddDays(-1)), Ct);

        var all = await second.ReadFeedAsync(DateTimeOffset.UnixEpoch, 1000, Ct);
        Assert.Equal(32, all.Count);
        Assert.Equal(("m.example/f", "v1.0.0", T0), (all[0].ModulePath, all[0].Version, all[0].Timestamp));
        Assert.Equal(T0.AddSeconds(1), all[1].Timestamp);
        Assert.Equal("m.example/late", all[^1].ModulePath);
        for (var i = 1; i < all.Count; i++)
        {
            Assert.True(all[i].Timestamp > all[i - 1].Timestamp, $"{all[i]} after {all[i - 1]}");
        }

        // Paging by the last timestamp (since is inclusive, as index.golang.org's): each version exactly once.
        var seen = new List<FeedEntry>();
        var since = DateTimeOffset.UnixEpoch;
        while (true)
        {
            var page = await index.ReadFeedAsync(since, 7, Ct);
            var fresh = page.Where(e => seen.Count == 0 || e.Timestamp > seen[^1].Timestamp).ToList();
            if (fresh.Count == 0)
            {
                break;
            }

            seen.AddRange(fresh);
            since = fresh[^1].Timestamp;
        }

        Assert.Equal(all, seen);
        Assert.Equal(all.Skip(5).Take(3), await index.ReadFeedAsync(all[5].Timestamp, 3, Ct));
    }

    [Fact]
    public async Task A_batch_of_records_is_recorded_as_one_at_a_time_would_be()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        await index.RecordArtifactAsync(new("m.example/h", "v1.0.0", ArtifactKind.Mod, "h1:old=", 1, "up", T0.AddDays(-1)), Ct);
        await index.RecordEvictionsAsync([("m.example/h", "v1.0.0")], T0, Ct);
        await index.RecordArtifactsAsync([], Ct);

        // A version already there keeps its first time and feed entry; the batch's versions follow it, in batch order,
        // each once whatever its number of files, with distinct increasing timestamps; an evicted version is present again.
        var batch = new List<ArtifactRecord>
        {
            new("m.example/h", "v1.0.0", ArtifactKind.Mod, "h1:new=", 2, "bundle:x", T0),
            new("m.example/h", "v1.0.0", ArtifactKind.Zip, "h1:zip=", 3, "bundle:x", T0),
        };
        for (var i = 0; i < 20; i++)
        {
            batch.Add(new("m.example/h" + i, "v0.1.0", ArtifactKind.Mod, "h1:m=", 1, "bundle:x", T0));
            batch.Add(new("m.example/h" + i, "v0.1.0", ArtifactKind.Info, null, 1, "bundle:x", T0));
        }

        await second.RecordArtifactsAsync(batch, Ct);
        var mod = await index.GetArtifactAsync("m.example/h", "v1.0.0", ArtifactKind.Mod, Ct);
        Assert.Equal(("h1:new=", 2L, "bundle:x", T0.AddDays(-1)), (mod?.Hash, mod?.Size, mod?.Source, mod?.StoredAt));
        Assert.Equal("h1:zip=", (await index.GetArtifactAsync("m.example/h", "v1.0.0", ArtifactKind.Zip, Ct))?.Hash);
        Assert.Null((await index.GetArtifactAsync("m.example/h7", "v0.1.0", ArtifactKind.Info, Ct))?.Hash);
        Assert.Null((await index.ReadUsageAsync(Ct)).Single(u => u.Version == "v1.0.0").EvictedAt);
        var feed = await index.ReadFeedAsync(DateTimeOffset.UnixEpoch, 100, Ct);
        Assert.Equal(["m.example/h", .. Enumerable.Range(0, 20).Select(i => "m.example/h" + i)], feed.Select(e => e.ModulePath));
        for (var i = 1; i < feed.Count; i++)
        {
            Assert.True(feed[i].Timestamp > feed[i - 1].Timestamp, $"{feed[i]} after {feed[i - 1]}");
        }
    }

    [Fact]
    public async Task Cursors_are_kept_by_name_and_replaced()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        Assert.Null(await index.GetCursorAsync("follow:https://core/index", Ct));
        await index.SetCursorAsync("follow:https://core/index", "2019-04-10T19:08:52.997264Z", Ct);
        await index.SetCursorAsync("follow:https://other/index", "a", Ct);
        await second.SetCursorAsync("follow:https://core/index", "2019-04-10T19:08:53Z", Ct);
        Assert.Equal("2019-04-10T19:08:53Z", await index.GetCursorAsync("follow:https://core/index", Ct));
        Assert.Equal("a", await second.GetCursorAsync("follow:https://other/index", Ct));
    }

    [Fact]
    public async Task Answers_are_kept_replaced_and_pruned()
    {
        var index = await CreateIndexAsync();
        Assert.Null(await index.GetAnswerAsync("list:m", Ct));
        await index.PutAnswerAsync("list:m", "v1.0.0\n"u8.ToArray(), T0, Ct);
        await index.PutAnswerAsync("list:m", "v1.0.0\nv1.1.0\n"u8.ToArray(), T0.AddMinutes(1), Ct);
        var answer = await index.GetAnswerAsync("list:m", Ct);
        Assert.NotNull(answer);
        Assert.Equal("v1.0.0\nv1.1.0\n", Encoding.UTF8.GetString(answer.Body));
        Assert.Equal(T0.AddMinutes(1), answer.FetchedAt);

        for (var i = 0; i < 5; i++)
        {
            await index.PutAnswerAsync("latest:" + i, [(byte)i], T0.AddMinutes(i), Ct);
        }

        Assert.Equal(6, await index.CountAnswersAsync(Ct));
        // Older than T0+1m: latest:0 goes; then keep the newest 3 of what is left.
        var pruned = await index.PruneAnswersAsync(T0.AddMinutes(1), 3, Ct);
        Assert.Equal(3, pruned);
        Assert.Equal(3, await index.CountAnswersAsync(Ct));
        Assert.Null(await index.GetAnswerAsync("latest:0", Ct));
        Assert.NotNull(await index.GetAnswerAsync("latest:4", Ct));
    }

    [Fact]
    public async Task Negative_answers_expire()
    {
        var index = await CreateIndexAsync();
        await index.PutNegativeAsync("info:m@v1", new("NotFound", "not found: m@v1", T0.AddMinutes(1)), Ct);
        var hit = await index.GetNegativeAsync("info:m@v1", T0, Ct);
        Assert.Equal(new NegativeAnswer("NotFound", "not found: m@v1", T0.AddMinutes(1)), hit);
        Assert.Null(await index.GetNegativeAsync("info:m@v1", T0.AddMinutes(2), Ct));
        await index.PutNegativeAsync("info:m@v2", new("Gone", "gone", T0.AddMinutes(1)), Ct);
        await index.RemoveNegativeAsync("info:m@v2", Ct);
        Assert.Null(await index.GetNegativeAsync("info:m@v2", T0, Ct));
    }

    [Fact]
    public async Task Tree_heads_move_by_compare_and_swap_and_never_backwards()
    {
        var index = await CreateIndexAsync();
        var small = Note(5);
        var big = Note(9);
        Assert.Null(await index.GetTreeHeadAsync("sum.golang.org", Ct));
        Assert.False(await index.TryAdvanceTreeHeadAsync("sum.golang.org", small, big, Ct));
        Assert.True(await index.TryAdvanceTreeHeadAsync("sum.golang.org", null, small, Ct));
        Assert.False(await index.TryAdvanceTreeHeadAsync("sum.golang.org", null, big, Ct));
        Assert.True(await index.TryAdvanceTreeHeadAsync("sum.golang.org", small, big, Ct));
        Assert.Equal(big, await index.GetTreeHeadAsync("sum.golang.org", Ct));
        // Backwards, even with the right expectation: refused.
        Assert.False(await index.TryAdvanceTreeHeadAsync("sum.golang.org", big, small, Ct));
        Assert.Equal(big, await index.GetTreeHeadAsync("sum.golang.org", Ct));
        Assert.Null(await index.GetTreeHeadAsync("other.example", Ct));
    }

    [Fact]
    public async Task Concurrent_tree_head_advances_from_one_expectation_let_exactly_one_win()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        var start = Note(1);
        Assert.True(await index.TryAdvanceTreeHeadAsync("db", null, start, Ct));
        var tasks = Enumerable.Range(2, 16).Select(n => (n % 2 == 0 ? index : second).TryAdvanceTreeHeadAsync("db", start, Note(n), Ct)).ToArray();
        var results = await Task.WhenAll(tasks);
        Assert.Single(results, r => r);
        Assert.NotEqual(start, await second.GetTreeHeadAsync("db", Ct));
    }

    [Fact]
    public async Task A_second_handle_sees_what_the_first_wrote()
    {
        var first = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: first);
        await first.RecordArtifactAsync(new("m.example/c", "v1.0.0", ArtifactKind.Mod, "h1:m=", 3, "up", T0), Ct);
        await first.PutAnswerAsync("k", [1, 2], T0, Ct);
        Assert.Equal("h1:m=", (await second.GetArtifactAsync("m.example/c", "v1.0.0", ArtifactKind.Mod, Ct))?.Hash);
        Assert.Equal([1, 2], (await second.GetAnswerAsync("k", Ct))?.Body);
    }

    [Fact]
    public async Task The_probe_says_healthy()
    {
        var index = await CreateIndexAsync();
        Assert.Null(await index.ProbeAsync(Ct));
        Assert.False(string.IsNullOrEmpty(index.Location));
    }

    // ---- the hosted checksum database log ----

    [Fact]
    public async Task A_new_hosted_log_is_empty()
    {
        var index = await CreateIndexAsync();
        await using var log = await index.OpenHostedLogAsync("hosted.example", Ct);
        Assert.Null(await log.ReadStateAsync(Ct));
        Assert.Null(await log.FindAsync("m.example/a", "v1.0.0", Ct));
    }

    [Fact]
    public async Task Hosted_log_appends_are_atomic_and_ordered_by_size()
    {
        var index = await CreateIndexAsync();
        await using var log = await index.OpenHostedLogAsync("hosted.example", Ct);
        var (entries, hashes) = Records(0, 3);
        Assert.False(await log.TryAppendAsync(1, entries, hashes, Head(3), Ct));
        Assert.True(await log.TryAppendAsync(0, entries, hashes, Head(3), Ct));
        Assert.False(await log.TryAppendAsync(0, entries, hashes, Head(3), Ct));

        var state = await log.ReadStateAsync(Ct);
        Assert.NotNull(state);
        Assert.Equal(3, state.Size);
        Assert.Equal(Head(3), state.SignedHead);

        var (more, moreHashes) = Records(3, 2);
        Assert.True(await log.TryAppendAsync(3, more, moreHashes, Head(5), Ct));
        Assert.Equal(5, (await log.ReadStateAsync(Ct))!.Size);

        var texts = await log.ReadRecordsAsync(1, 3, Ct);
        Assert.Equal(["rec 1\n", "rec 2\n", "rec 3\n"], texts.Select(t => Encoding.UTF8.GetString(t)));
        Assert.Equal(4L, await log.FindAsync("m.example/r4", "v1.0.4", Ct));
        Assert.Null(await log.FindAsync("m.example/r4", "v1.0.5", Ct));

        var all = hashes.Concat(moreHashes).ToList();
        var wanted = new long[] { 0, 3, (long)all.Count - 1 };
        Assert.Equal(wanted.Select(i => all[(int)i]), await log.ReadHashesAsync(wanted, Ct));
    }

    [Fact]
    public async Task Hosted_logs_are_separate_by_name_and_shared_by_handles()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        await using var a = await index.OpenHostedLogAsync("a.example", Ct);
        await using var b = await index.OpenHostedLogAsync("b.example", Ct);
        var (entries, hashes) = Records(0, 1);
        Assert.True(await a.TryAppendAsync(0, entries, hashes, Head(1), Ct));
        Assert.Null(await b.ReadStateAsync(Ct));

        await using var a2 = await second.OpenHostedLogAsync("a.example", Ct);
        Assert.Equal(1, (await a2.ReadStateAsync(Ct))!.Size);
        var (next, nextHashes) = Records(1, 1);
        Assert.True(await a2.TryAppendAsync(1, next, nextHashes, Head(2), Ct));
        Assert.Equal(2, (await a.ReadStateAsync(Ct))!.Size);
    }

    [Fact]
    public async Task Concurrent_appends_at_one_size_let_exactly_one_win()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        await using var a = await index.OpenHostedLogAsync("race.example", Ct);
        await using var b = await second.OpenHostedLogAsync("race.example", Ct);
        var (entries, hashes) = Records(0, 2);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? a : b).TryAppendAsync(0, entries, hashes, Head(2), Ct)));
        Assert.Single(results, r => r);
        Assert.Equal(2, (await b.ReadStateAsync(Ct))!.Size);
        Assert.Equal(2, (await a.ReadRecordsAsync(0, 2, Ct)).Count);
    }

    /// <summary>A signed note whose tree size is n, as checksum databases write them.</summary>
    protected static byte[] Note(long n) => Encoding.UTF8.GetBytes($"go.sum database tree\n{n}\n{Convert.ToBase64String(new byte[32])}\n\n— test sig\n");

    private static byte[] Head(long n) => Encoding.UTF8.GetBytes($"head {n}\n");

    /// <summary>count records from first on, with the stored hashes they add (computed by the real tlog rules).</summary>
    private static (List<HostedLogEntry> Entries, List<LogHash> Hashes) Records(long first, int count)
    {
        var entries = new List<HostedLogEntry>();
        var hashes = new List<LogHash>();
        for (var i = first; i < first + count; i++)
        {
            entries.Add(new HostedLogEntry("m.example/r" + i, "v1.0." + i, Encoding.UTF8.GetBytes($"rec {i}\n")));
            // Distinct, deterministic hashes; the storage does not check them, it keeps them.
            var added = Tlog.StoredHashCount(i + 1) - Tlog.StoredHashCount(i);
            for (var j = 0; j < added; j++)
            {
                var bytes = new byte[LogHash.Size];
                BitConverter.TryWriteBytes(bytes, (i * 100) + j);
                hashes.Add(new LogHash(bytes));
            }
        }

        return (entries, hashes);
    }
}
