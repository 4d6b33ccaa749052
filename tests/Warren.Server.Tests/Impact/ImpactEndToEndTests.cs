using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Warren.Core.Vulns;
using Warren.Server.Impact;
using Warren.Server.Tests.Auth;
using Warren.Storage;
using Warren.Tools.Impact;
using Warren.Tools.Reporting;

namespace Warren.Server.Tests.Impact;

/// <summary>Who is affected, end to end: two tokens download different versions with the real go client; the impact
/// report names exactly the one that downloaded the affected version; the webhook gets one event per (advisory,
/// version) across a failed first delivery and a restart.</summary>
public sealed class ImpactEndToEndTests
{
    private const string Module = "github.com/mattn/go-isatty";
    private const string Affected = "v0.0.14";
    private const string Unaffected = "v0.0.16";

    /// <summary>A loopback webhook receiver: records every POST; answers 500 to the first failFirst of them.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly Microsoft.AspNetCore.Builder.WebApplication _app;
        private int _failures;

        private Receiver(Microsoft.AspNetCore.Builder.WebApplication app, string url, int failFirst)
        {
            _app = app;
            Url = url;
            _failures = failFirst;
        }

        public string Url { get; }

        public int Port => new Uri(Url).Port;

        public ConcurrentQueue<(int Status, string Body, string? Key)> Posts { get; } = new();

        public static async Task<Receiver> StartAsync(int failFirst)
        {
            Receiver? receiver = null;
            var (app, url) = await LoopbackApp.StartAsync(async context =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync();
                var status = Interlocked.Decrement(ref receiver!._failures) >= 0 ? 500 : 204;
                receiver.Posts.Enqueue((status, body, context.Request.Headers["Idempotency-Key"].FirstOrDefault()));
                context.Response.StatusCode = status;
            });
            receiver = new Receiver(app, url, failFirst);
            return receiver;
        }

        public IReadOnlyList<JsonElement> Delivered() =>
            Posts.Where(p => p.Status < 300).Select(p => JsonDocument.Parse(p.Body).RootElement.Clone()).ToList();

        public async Task WaitForAsync(int posts)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Posts.Count < posts && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.True(Posts.Count >= posts, $"the webhook got {Posts.Count} posts, not {posts}");
        }

        public ValueTask DisposeAsync() => LoopbackApp.StopAsync(_app);
    }

    [Fact]
    public async Task The_report_names_exactly_the_token_that_downloaded_the_affected_version_and_the_webhook_gets_one_event_across_a_retry_and_a_restart()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var receiver = await Receiver.StartAsync(failFirst: 1);
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", "github.com/mattn");
        var bob = AuthTestFiles.Add(file, "bob", "github.com/mattn");
        var security = AuthTestFiles.Add(file, "security", "", admin: true);
        var root = TestPaths.NewTempDir("impact-store");
        var catalog = new TestAdvisoryCatalog();
        void Configure(Configuration.WarrenOptionsBuilder o)
        {
            o.AuthFile = file;
            o.NodeName = "node-1";
            o.AlertWebhook = receiver.Url + "/hook?secret=s3";
            o.EgressAllow = "127.0.0.1:" + receiver.Port;
        }

        var advisory = TestAdvisoryCatalog.Against("GO-2026-0001", Module, "v0.0.15", "CVE-2026-0001");
        await using (var warren = await TlsWarren.StartAsync(upstream.Url, Configure, root, s => s.AddSingleton<IAdvisoryCatalog>(catalog)))
        {
            var first = await warren.Go(alice).RunAsync(TestPaths.NewTempDir("impact-alice"), "mod", "download", "-json", $"{Module}@{Affected}");
            Assert.True(first.ExitCode == 0, first.ToString());
            var second = await warren.Go(bob).RunAsync(TestPaths.NewTempDir("impact-bob"), "mod", "download", "-json", $"{Module}@{Unaffected}");
            Assert.True(second.ExitCode == 0, second.ToString());

            // The impact report through the client library, as `warren audit --served` calls it; admin tokens only.
            using var http = new HttpClient();
            var client = new ServedImpactClient(http);
            await catalog.RefreshAsync(warren.Warren.Services, [], firstLoad: true);
            var none = await client.GetAsync(new Uri(warren.Warren.Url), "90d", security, CancellationToken.None);
            Assert.True(none.Succeeded, none.Error);
            Assert.Empty(none.Report!.Versions);

            await catalog.RefreshAsync(warren.Warren.Services, [advisory]);
            var result = await client.GetAsync(new Uri(warren.Warren.Url), "90d", security, CancellationToken.None);
            Assert.True(result.Succeeded, result.Error);
            var version = Assert.Single(result.Report!.Versions);
            Assert.Equal((Module, Affected), (version.Module, version.Version));
            var named = Assert.Single(version.Advisories);
            Assert.Equal(("GO-2026-0001", "v0.0.15", "CVE-2026-0001"), (named.Id, named.Fixed, Assert.Single(named.Aliases)));
            var who = Assert.Single(version.Clients);
            Assert.Equal(("alice", 1L, "node-1"), (who.Client, who.Downloads, Assert.Single(who.Nodes)));
            var lines = new StringWriter();
            ServedImpactRenderer.WriteText(result.Report, lines, new ReportStyle(false, false, null));
            Assert.Contains($"{Module}@{Affected} GO-2026-0001(CVE-2026-0001) fixed v0.0.15 client alice downloads 1", lines.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("bob", lines.ToString(), StringComparison.Ordinal);

            var refused = await client.GetAsync(new Uri(warren.Warren.Url), "90d", alice, CancellationToken.None);
            Assert.False(refused.Succeeded);
            Assert.Contains("HTTP 403", refused.Error, StringComparison.Ordinal);
            Assert.Contains("HTTP 401", (await client.GetAsync(new Uri(warren.Warren.Url), null, null, CancellationToken.None)).Error, StringComparison.Ordinal);
            using (var bad = new HttpRequestMessage(HttpMethod.Get, warren.Warren.Url + "/admin/impact?since=soon"))
            {
                bad.Headers.Authorization = new AuthenticationHeaderValue("Bearer", security);
                using var answer = await http.SendAsync(bad);
                Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
            }

            // The refresh that brought the advisory queued one alert; the first delivery got a 500, the retry went through.
            await receiver.WaitForAsync(2);
            var posts = receiver.Posts.ToList();
            Assert.Equal([500, 204], posts.Select(p => p.Status));
            Assert.Equal(posts[0].Key, posts[1].Key);
            var evt = Assert.Single(receiver.Delivered());
            Assert.Equal("GO-2026-0001", evt.GetProperty("advisory").GetProperty("id").GetString());
            Assert.Equal(["v0.0.15"], evt.GetProperty("advisory").GetProperty("fixed").EnumerateArray().Select(e => e.GetString()));
            var sent = Assert.Single(evt.GetProperty("versions").EnumerateArray());
            Assert.Equal(Affected, sent.GetProperty("version").GetString());
            var sentClient = Assert.Single(sent.GetProperty("clients").EnumerateArray());
            Assert.Equal(("alice", 1), (sentClient.GetProperty("client").GetString(), sentClient.GetProperty("downloads").GetInt32()));

            // The same refresh again: nothing new.
            await catalog.RefreshAsync(warren.Warren.Services, [advisory], firstLoad: true);
            await Task.Delay(1500);
            Assert.Equal(2, receiver.Posts.Count);
        }

        // Restarted on the same store: the database's first load tells of every advisory again; the sent marker holds.
        var restarted = new TestAdvisoryCatalog();
        await using (var warren = await TlsWarren.StartAsync(upstream.Url, Configure, root, s => s.AddSingleton<IAdvisoryCatalog>(restarted)))
        {
            await restarted.RefreshAsync(warren.Warren.Services, [advisory], firstLoad: true);
            await Task.Delay(1500);
            Assert.Equal(2, receiver.Posts.Count);

            // A new advisory against the same version is a new (advisory, version): one more event.
            var another = TestAdvisoryCatalog.Against("GO-2026-0002", Module, "v0.0.16");
            await restarted.RefreshAsync(warren.Warren.Services, [advisory, another]);
            await receiver.WaitForAsync(3);
            await Task.Delay(1000);
            Assert.Equal(3, receiver.Posts.Count);
            Assert.Equal(["GO-2026-0001", "GO-2026-0002"], receiver.Delivered().Select(e => e.GetProperty("advisory").GetProperty("id").GetString()));
            var alerts = await warren.Warren.Services.GetRequiredService<IModuleIndex>().ReadAlertsAsync(CancellationToken.None);
            Assert.Equal(2, alerts.Count);
            Assert.All(alerts, a => Assert.NotNull(a.SentAt));
        }
    }

    [Fact]
    public async Task A_webhook_the_egress_policy_does_not_allow_is_refused_and_the_alert_stays_pending()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var receiver = await Receiver.StartAsync(failFirst: 0);
        var catalog = new TestAdvisoryCatalog();
        var root = TestPaths.NewTempDir("impact-egress");
        var warren = await Infrastructure.WarrenInstance.StartAsync(upstream.Url, o => o.AlertWebhook = receiver.Url + "/hook",
            root: root, services: s => s.AddSingleton<IAdvisoryCatalog>(catalog));
        using (var zip = await warren.Client.GetAsync($"{Module}/@v/{Affected}.zip"))
        {
            Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
        }

        await catalog.RefreshAsync(warren.Services, [TestAdvisoryCatalog.Against("GO-2026-0003", Module, "v0.0.15")], firstLoad: true);
        var index = warren.Services.GetRequiredService<IModuleIndex>();
        AlertEntry? alert = null;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && alert?.LastError is null)
        {
            await Task.Delay(100);
            alert = (await index.ReadAlertsAsync(CancellationToken.None)).SingleOrDefault();
        }

        Assert.NotNull(alert);
        Assert.Contains("refused by the egress policy", alert.LastError, StringComparison.Ordinal);
        Assert.Null(alert.SentAt);
        Assert.Empty(receiver.Posts);

        // Without an auth file the report is open (as /metrics is), and the download was anonymous.
        var report = await new ServedImpactClient(warren.Client).GetAsync(new Uri(warren.Url), "1d", null, CancellationToken.None);
        Assert.True(report.Succeeded, report.Error);
        Assert.Equal("anonymous", Assert.Single(Assert.Single(report.Report!.Versions).Clients).Client);
        await warren.DisposeAsync();

        // The queued alert outlives the process: restarted with the receiver allowed, Warren delivers it, once.
        await using var restarted = await Infrastructure.WarrenInstance.StartAsync(upstream.Url, o =>
        {
            o.AlertWebhook = receiver.Url + "/hook";
            o.EgressAllow = "127.0.0.1:" + receiver.Port;
        }, root: root);
        await receiver.WaitForAsync(1);
        await Task.Delay(1000);
        Assert.Equal("GO-2026-0003", Assert.Single(receiver.Delivered()).GetProperty("advisory").GetProperty("id").GetString());
        Assert.NotNull(Assert.Single(await restarted.Services.GetRequiredService<IModuleIndex>().ReadAlertsAsync(CancellationToken.None)).SentAt);
    }
}
