using Warren.Storage;

namespace Warren.Storage.Tests;

/// <summary>What the web console asks of every provider: counts, module search and verification records.</summary>
public abstract partial class ModuleIndexContract
{
    private static readonly DateTimeOffset S0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Stats_count_modules_and_present_versions_and_their_bytes()
    {
        var index = await CreateIndexAsync();
        Assert.Equal(new IndexStats(0, 0, 0, 0), await index.GetStatsAsync(Ct));
        await index.RecordArtifactAsync(new("s.example/a", "v1.0.0", ArtifactKind.Zip, "h1:a=", 100, "https://up", S0), Ct);
        await index.RecordArtifactAsync(new("s.example/a", "v1.0.0", ArtifactKind.Mod, "h1:b=", 10, "https://up", S0), Ct);
        await index.RecordArtifactAsync(new("s.example/a", "v1.1.0", ArtifactKind.Zip, "h1:c=", 200, "https://up", S0.AddMinutes(1)), Ct);
        await index.RecordArtifactAsync(new("s.example/b", "v0.1.0", ArtifactKind.Info, null, 5, "https://up", S0.AddMinutes(2)), Ct);
        Assert.Equal(new IndexStats(2, 3, 315, 0), await index.GetStatsAsync(Ct));

        await index.RecordEvictionsAsync([("s.example/a", "v1.1.0")], S0.AddHours(1), Ct);
        Assert.Equal(new IndexStats(2, 2, 115, 1), await index.GetStatsAsync(Ct));
    }

    [Fact]
    public async Task Stats_follow_resized_evicted_and_restored_versions_and_leave_ziphash_aside()
    {
        var index = await CreateIndexAsync();
        var other = await CreateIndexAsync(shareWith: index);
        await index.RecordArtifactAsync(new("t.example/a", "v1.0.0", ArtifactKind.Zip, "h1:a=", 100, "https://up", S0), Ct);
        await index.RecordArtifactAsync(new("t.example/a", "v1.0.0", ArtifactKind.ZipHash, "h1:a=", 47, "https://up", S0), Ct);
        await other.RecordArtifactAsync(new("t.example/a", "v1.0.0", ArtifactKind.Zip, "h1:a=", 120, "https://up", S0.AddMinutes(1)), Ct);
        Assert.Equal(new IndexStats(1, 1, 120, 0), await other.GetStatsAsync(Ct));

        // Evicted twice (no change the second time), a file recorded while evicted, then present again with all of them.
        await index.RecordEvictionsAsync([("t.example/a", "v1.0.0")], S0.AddHours(1), Ct);
        await other.RecordEvictionsAsync([("t.example/a", "v1.0.0")], S0.AddHours(2), Ct);
        Assert.Equal(new IndexStats(1, 0, 0, 1), await index.GetStatsAsync(Ct));
        await index.RecordUsageAsync([new VersionUsage("t.example/a", "v1.0.0", S0.AddHours(3), 2)], Ct);
        Assert.Equal(new IndexStats(1, 0, 0, 1), await index.GetStatsAsync(Ct));
        await other.RecordArtifactAsync(new("t.example/a", "v1.0.0", ArtifactKind.Mod, "h1:m=", 30, "https://up", S0.AddHours(4)), Ct);
        Assert.Equal(new IndexStats(1, 1, 150, 0), await index.GetStatsAsync(Ct));

        // A version evicted before the index has any file of it is not one of its versions; then stored, it is.
        await index.RecordEvictionsAsync([("t.example/b", "v0.1.0")], S0.AddHours(5), Ct);
        Assert.Equal(new IndexStats(1, 1, 150, 0), await index.GetStatsAsync(Ct));
        await index.RecordArtifactAsync(new("t.example/b", "v0.1.0", ArtifactKind.Info, null, 9, "https://up", S0.AddHours(6)), Ct);
        Assert.Equal(new IndexStats(2, 2, 159, 0), await other.GetStatsAsync(Ct));
    }

    [Fact]
    public async Task Stats_stay_exact_when_two_nodes_store_and_evict_the_same_versions_at_once()
    {
        var index = await CreateIndexAsync();
        var other = await CreateIndexAsync(shareWith: index);
        var versions = Enumerable.Range(0, 12).Select(i => $"v1.{i}.0").ToArray();
        var writers = versions.Select(async (v, i) =>
        {
            await index.RecordArtifactAsync(new("c.example/m", v, ArtifactKind.Zip, "h1:z=", 1000 + i, "https://up", S0.AddSeconds(i)), Ct);
            await index.RecordArtifactAsync(new("c.example/m", v, ArtifactKind.Mod, "h1:m=", 10, "https://up", S0.AddSeconds(i)), Ct);
        });
        var evictors = versions.Where((_, i) => i % 2 == 0).Select(v => other.RecordEvictionsAsync([("c.example/m", v)], S0.AddHours(1), Ct));
        await Task.WhenAll(writers.Concat(evictors));

        // Whatever the interleaving, the counts are those of the final state.
        var evicted = (await index.ReadUsageAsync(Ct)).Where(u => u.EvictedAt is not null).Select(u => u.Version).ToHashSet();
        long bytes = 0;
        foreach (var v in versions.Where(v => !evicted.Contains(v)))
        {
            bytes += (await index.GetArtifactAsync("c.example/m", v, ArtifactKind.Zip, Ct))!.Size + (await index.GetArtifactAsync("c.example/m", v, ArtifactKind.Mod, Ct))!.Size;
        }

        Assert.Equal(new IndexStats(1, versions.Length - evicted.Count, bytes, evicted.Count), await other.GetStatsAsync(Ct));
    }

    [Fact]
    public async Task Nodes_report_heartbeats_that_every_node_reads_and_silent_ones_are_forgotten()
    {
        var index = await CreateIndexAsync();
        var other = await CreateIndexAsync(shareWith: index);
        Assert.Empty(await index.ReadNodesAsync(Ct));
        await index.RecordNodeAsync(new NodeHeartbeat("node-a", "i1", "1.0", S0, S0), S0.AddHours(-1), Ct);
        await other.RecordNodeAsync(new NodeHeartbeat("node-b", "i2", "1.0", S0, S0.AddSeconds(5)), S0.AddHours(-1), Ct);
        await index.RecordNodeAsync(new NodeHeartbeat("node-a", "i1", "1.1", S0.AddDays(1), S0.AddSeconds(30)), S0.AddHours(-1), Ct);
        // A late heartbeat never moves last-seen back; the start time is the first one's.
        await index.RecordNodeAsync(new NodeHeartbeat("node-a", "i1", "1.1", S0, S0.AddSeconds(10)), S0.AddHours(-1), Ct);
        Assert.Equal(
        [
            new NodeHeartbeat("node-a", "i1", "1.1", S0, S0.AddSeconds(30)),
            new NodeHeartbeat("node-b", "i2", "1.0", S0, S0.AddSeconds(5)),
        ], await other.ReadNodesAsync(Ct));

        // node-a restarted: a new instance; node-b silent for longer than the horizon is forgotten.
        await index.RecordNodeAsync(new NodeHeartbeat("node-a", "i3", "1.1", S0.AddMinutes(20), S0.AddMinutes(20)), S0.AddMinutes(10), Ct);
        Assert.Equal(["node-a/i3"], (await other.ReadNodesAsync(Ct)).Select(n => n.Node + "/" + n.Instance));
    }

    private static ConsoleSessionRecord Session(byte id, string principal, DateTimeOffset expires) =>
        new(Enumerable.Repeat(id, 32).ToArray(), principal, [id, 1, 2, 3], expires);

    [Fact]
    public async Task Console_sessions_are_seen_by_every_node_and_ended_everywhere()
    {
        var index = await CreateIndexAsync();
        var other = await CreateIndexAsync(shareWith: index);
        var a = Session(1, "ops", S0.AddHours(8));
        Assert.Equal(0, await index.OpenSessionAsync(a, S0, 10, Ct));
        var read = await other.GetSessionAsync(a.Key, Ct);
        Assert.NotNull(read);
        Assert.Equal(a.Key, read.Key);
        Assert.Equal("ops", read.Principal);
        Assert.Equal(a.SealedToken, read.SealedToken);
        Assert.Equal(a.Expires, read.Expires);
        Assert.Null(await other.GetSessionAsync(Session(2, "x", S0).Key, Ct));

        // Ended on the other node: gone for both; ending it again finds nothing.
        Assert.Equal("ops", await other.EndSessionAsync(a.Key, Ct));
        Assert.Null(await index.GetSessionAsync(a.Key, Ct));
        Assert.Null(await index.EndSessionAsync(a.Key, Ct));
    }

    [Fact]
    public async Task Opening_a_session_forgets_ended_ones_and_keeps_the_bound_by_dropping_those_ending_soonest()
    {
        var index = await CreateIndexAsync();
        await index.OpenSessionAsync(Session(1, "p1", S0.AddMinutes(5)), S0, 3, Ct);
        await index.OpenSessionAsync(Session(2, "p2", S0.AddHours(2)), S0, 3, Ct);
        await index.OpenSessionAsync(Session(3, "p3", S0.AddHours(1)), S0, 3, Ct);

        // At S0+10 min session 1 has ended: forgotten, not counted as dropped; 2 and 3 leave room for a third.
        Assert.Equal(0, await index.OpenSessionAsync(Session(4, "p4", S0.AddHours(3)), S0.AddMinutes(10), 3, Ct));
        Assert.Null(await index.GetSessionAsync(Session(1, "", S0).Key, Ct));

        // Full: the live session ending soonest (3) makes room.
        Assert.Equal(1, await index.OpenSessionAsync(Session(5, "p5", S0.AddHours(4)), S0.AddMinutes(10), 3, Ct));
        Assert.Null(await index.GetSessionAsync(Session(3, "", S0).Key, Ct));
        foreach (var kept in new byte[] { 2, 4, 5 })
        {
            Assert.NotNull(await index.GetSessionAsync(Session(kept, "", S0).Key, Ct));
        }
    }

    [Fact]
    public async Task A_named_secret_is_the_first_one_stored_for_every_node()
    {
        var index = await CreateIndexAsync();
        var other = await CreateIndexAsync(shareWith: index);
        byte[] first = [1, 2, 3, 4];
        Assert.Equal(first, await index.GetOrAddSecretAsync("k", first, Ct));
        Assert.Equal(first, await other.GetOrAddSecretAsync("k", [9, 9], Ct));
        Assert.Equal(first, await index.GetOrAddSecretAsync("k", [8], Ct));
        Assert.Equal([7], await other.GetOrAddSecretAsync("other", [7], Ct));

        // Racing first calls agree on one value.
        var raced = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? index : other).GetOrAddSecretAsync("race", [(byte)i], Ct)));
        Assert.Single(raced.Select(r => r[0]).Distinct());
    }

    [Fact]
    public async Task Search_finds_prefixes_and_substrings_in_path_order_case_insensitive_and_pages()
    {
        var index = await CreateIndexAsync();
        var modules = new[] { "github.com/pkg/errors", "github.com/pkg/sftp", "github.com/Masterminds/semver", "gopkg.in/errgo.v2", "golang.org/x/text" };
        for (var i = 0; i < modules.Length; i++)
        {
            await index.RecordArtifactAsync(new(modules[i], "v1.0.0", ArtifactKind.Zip, "h1:x=", 1, "https://up", S0.AddMinutes(i)), Ct);
        }

        await index.RecordArtifactAsync(new("github.com/pkg/errors", "v0.9.1", ArtifactKind.Zip, "h1:y=", 1, "https://up", S0.AddHours(1)), Ct);

        var errors = await index.SearchModulesAsync("pkg/errors", null, 10, Ct);
        var match = Assert.Single(errors);
        Assert.Equal(("github.com/pkg/errors", 2L), (match.ModulePath, match.Versions));
        Assert.Equal(S0.AddHours(1), match.LastStored);

        Assert.Equal(["github.com/Masterminds/semver", "github.com/pkg/errors", "github.com/pkg/sftp"],
            (await index.SearchModulesAsync("github.com/", null, 10, Ct)).Select(m => m.ModulePath));
        Assert.Equal(["github.com/pkg/errors", "gopkg.in/errgo.v2"], (await index.SearchModulesAsync("ERR", null, 10, Ct)).Select(m => m.ModulePath));
        Assert.Equal(["github.com/Masterminds/semver"], (await index.SearchModulesAsync("masterminds", null, 10, Ct)).Select(m => m.ModulePath));

        // Paging by the last path; an empty query lists everything; LIKE wildcards are plain characters.
        var first = await index.SearchModulesAsync("", null, 2, Ct);
        Assert.Equal(["github.com/Masterminds/semver", "github.com/pkg/errors"], first.Select(m => m.ModulePath));
        Assert.Equal(["github.com/pkg/sftp", "golang.org/x/text"], (await index.SearchModulesAsync("", first[^1].ModulePath, 2, Ct)).Select(m => m.ModulePath));
        Assert.Empty(await index.SearchModulesAsync("%", null, 10, Ct));
        Assert.Empty(await index.SearchModulesAsync("_", null, 10, Ct));
        Assert.Empty(await index.SearchModulesAsync("'; DROP TABLE feed; --", null, 10, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => index.SearchModulesAsync("", null, ModuleSearch.MaxLimit + 1, Ct));
    }

    [Fact]
    public async Task Verifications_are_recorded_per_version_and_replaced()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        Assert.Empty(await index.ReadVerificationsAsync("v.example/m", Ct));
        await index.RecordVerificationAsync(new("v.example/m", "v1.0.0", "sum.golang.org", 1234, S0), Ct);
        await second.RecordVerificationAsync(new("v.example/m", "v1.1.0", "sum.golang.org", 1300, S0.AddMinutes(1)), Ct);
        await index.RecordVerificationAsync(new("v.example/m", "v1.0.0", "sum.golang.org", 1250, S0.AddMinutes(2)), Ct);
        await index.RecordVerificationAsync(new("v.example/other", "v1.0.0", "sum.golang.org", 1, S0), Ct);

        var records = (await second.ReadVerificationsAsync("v.example/m", Ct)).OrderBy(v => v.Version, StringComparer.Ordinal).ToList();
        Assert.Equal(
        [
            new VersionVerification("v.example/m", "v1.0.0", "sum.golang.org", 1250, S0.AddMinutes(2)),
            new VersionVerification("v.example/m", "v1.1.0", "sum.golang.org", 1300, S0.AddMinutes(1)),
        ], records);
    }
}
