using Warren.Storage;

namespace Warren.Storage.Tests;

/// <summary>Download counts and the alert outbox, on every provider.</summary>
public abstract partial class ModuleIndexContract
{
    private static readonly DateTimeOffset D0 = new(2026, 3, 10, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Downloads_add_up_per_version_client_node_and_day_and_keep_the_latest()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        var day = DateOnly.FromDateTime(D0.UtcDateTime);
        Assert.Empty(await index.ReadDownloadsAsync(DateOnly.MinValue, null, Ct));
        await index.RecordDownloadsAsync(
        [
            new("m.example/d", "v1.0.0", "alice", "node-a", day, 2, D0.AddMinutes(5)),
            new("m.example/d", "v1.0.0", "alice", "node-a", day, 1, D0.AddMinutes(1)),
            new("m.example/d", "v1.0.0", "bob", "node-a", day, 1, D0),
            new("m.example/e", "v2.0.0", "anonymous", "node-b", day.AddDays(1), 4, D0.AddDays(1)),
        ], Ct);
        await second.RecordDownloadsAsync([new("m.example/d", "v1.0.0", "alice", "node-a", day, 3, D0.AddMinutes(2))], Ct);
        await second.RecordDownloadsAsync([new("m.example/d", "v1.0.0", "alice", "node-b", day, 1, D0.AddMinutes(3))], Ct);
        await index.RecordDownloadsAsync([], Ct);

        var rows = await index.ReadDownloadsAsync(DateOnly.MinValue, null, Ct);
        Assert.Equal(4, rows.Count);
        var alice = rows.Single(r => r.Client == "alice" && r.Node == "node-a");
        Assert.Equal((6L, D0.AddMinutes(5), day), (alice.Downloads, alice.LastDownload, alice.Day));
        Assert.Equal(1L, rows.Single(r => r.Client == "alice" && r.Node == "node-b").Downloads);
        Assert.Equal(["m.example/d", "m.example/d", "m.example/d"], (await index.ReadDownloadsAsync(DateOnly.MinValue, "m.example/d", Ct)).Select(r => r.ModulePath));
        Assert.Equal("anonymous", (await second.ReadDownloadsAsync(day.AddDays(1), null, Ct)).Single().Client);
    }

    [Fact]
    public async Task Downloads_of_days_before_the_retention_limit_are_pruned()
    {
        var index = await CreateIndexAsync();
        var day = DateOnly.FromDateTime(D0.UtcDateTime);
        await index.RecordDownloadsAsync(
        [
            new("m.example/p", "v1.0.0", "alice", "n", day.AddDays(-401), 1, D0.AddDays(-401)),
            new("m.example/p", "v1.0.0", "alice", "n", day.AddDays(-400), 1, D0.AddDays(-400)),
            new("m.example/p", "v1.0.0", "alice", "n", day, 1, D0),
        ], Ct);
        Assert.Equal(1, await index.PruneDownloadsAsync(day.AddDays(-400), Ct));
        Assert.Equal([day.AddDays(-400), day], (await index.ReadDownloadsAsync(DateOnly.MinValue, null, Ct)).Select(r => r.Day).Order());
        Assert.Equal(0, await index.PruneDownloadsAsync(day.AddDays(-400), Ct));
        Assert.Single(await index.ReadDownloadsAsync(day.AddDays(-1), null, Ct));
    }

    [Fact]
    public async Task An_alert_is_enqueued_once_claimed_by_one_claimer_deferred_and_sent_once()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        AlertEntry Alert(string advisory, string version) => new(advisory, "m.example/v", version, "{\"id\":\"" + advisory + "\"}", D0, 0, D0, null);

        Assert.Equal(2, await index.EnqueueAlertsAsync([Alert("GO-2026-0001", "v1.0.0"), Alert("GO-2026-0001", "v1.1.0")], Ct));
        // The same (advisory, version) again, from another node or after a restart: not new.
        Assert.Equal(1, await second.EnqueueAlertsAsync([Alert("GO-2026-0001", "v1.0.0"), Alert("GO-2026-0002", "v1.0.0")], Ct));

        Assert.Equal(D0, await second.NextAlertAttemptAsync(Ct));
        var first = await index.ClaimAlertsAsync("node-a", D0, TimeSpan.FromMinutes(1), 2, Ct);
        Assert.Equal(2, first.Count);
        Assert.Equal("{\"id\":\"GO-2026-0001\"}", first[0].Advisory);
        // Claimed: another claimer gets only what is left, until the claim expires.
        var other = await second.ClaimAlertsAsync("node-b", D0, TimeSpan.FromMinutes(1), 10, Ct);
        Assert.Equal("GO-2026-0002", Assert.Single(other).AdvisoryId);
        Assert.Empty(await second.ClaimAlertsAsync("node-b", D0.AddSeconds(30), TimeSpan.FromMinutes(1), 10, Ct));

        // A failed delivery: due again only at its next attempt, counted.
        await index.DeferAlertsAsync([("GO-2026-0001", "m.example/v", "v1.0.0")], D0.AddSeconds(10), "HTTP 500", Ct);
        await index.CompleteAlertsAsync([("GO-2026-0001", "m.example/v", "v1.1.0")], D0.AddSeconds(1), Ct);
        Assert.Empty(await index.ClaimAlertsAsync("node-a", D0.AddSeconds(5), TimeSpan.FromMinutes(1), 10, Ct));
        // Pending: the deferred one at D0+10s, the one node-b claimed until D0+1min.
        Assert.Equal(D0.AddSeconds(10), await index.NextAlertAttemptAsync(Ct));
        var retry = Assert.Single(await second.ClaimAlertsAsync("node-b", D0.AddSeconds(10), TimeSpan.FromMinutes(1), 10, Ct));
        Assert.Equal(("v1.0.0", 1, "HTTP 500"), (retry.Version, retry.Attempts, retry.LastError));
        await second.CompleteAlertsAsync([("GO-2026-0001", "m.example/v", "v1.0.0"), ("GO-2026-0002", "m.example/v", "v1.0.0")], D0.AddSeconds(11), Ct);

        // Sent: the marker stays, it is never claimed again, and enqueuing it again adds nothing.
        Assert.Empty(await index.ClaimAlertsAsync("node-a", D0.AddHours(1), TimeSpan.FromMinutes(1), 10, Ct));
        Assert.Null(await index.NextAlertAttemptAsync(Ct));
        Assert.Equal(0, await index.EnqueueAlertsAsync([Alert("GO-2026-0001", "v1.0.0"), Alert("GO-2026-0001", "v1.1.0")], Ct));
        var all = await index.ReadAlertsAsync(Ct);
        Assert.Equal(3, all.Count);
        Assert.All(all, a => Assert.NotNull(a.SentAt));
        Assert.Equal(D0.AddSeconds(1), all.Single(a => a.Version == "v1.1.0").SentAt);
        // A late deferral of a sent alert (a slow claimer whose claim expired) changes nothing.
        await index.DeferAlertsAsync([("GO-2026-0001", "m.example/v", "v1.1.0")], D0.AddDays(1), "late", Ct);
        Assert.NotNull((await index.ReadAlertsAsync(Ct)).Single(a => a.Version == "v1.1.0").SentAt);
    }
}
