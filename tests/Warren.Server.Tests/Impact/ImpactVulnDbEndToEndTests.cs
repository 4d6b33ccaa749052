using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Warren.Core.Vulns;
using Warren.Server.Tests.Auth;
using Warren.Server.Tests.Vuln;
using Warren.Server.Vulns;
using Warren.Storage;
using Warren.Tools.Impact;

namespace Warren.Server.Tests.Impact;

/// <summary>Who is affected with the real vulnerability database mirror: a loopback database served as --vulndb, two
/// tokens downloading with the go client, a database refresh that brings an advisory triggering the webhook once (across
/// a failed first delivery and a restart), and the impact report naming the token that downloaded the affected version.</summary>
public sealed class ImpactVulnDbEndToEndTests
{
    private const string Module = "github.com/mattn/go-isatty";

    private static string Entry(string id, string fixedIn, string modified) =>
        "{\"schema_version\":\"1.3.1\",\"id\":\"" + id + "\",\"modified\":\"" + modified + "\",\"published\":\"2026-01-01T00:00:00Z\"," +
        "\"aliases\":[\"CVE-" + id[3..] + "\"],\"summary\":\"IsTerminal misbehaves (test advisory)\",\"details\":\"A test.\"," +
        "\"affected\":[{\"package\":{\"name\":\"" + Module + "\",\"ecosystem\":\"Go\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"" + fixedIn + "\"}]}]," +
        "\"ecosystem_specific\":{\"imports\":[{\"path\":\"" + Module + "\",\"symbols\":[\"IsTerminal\"]}]}}]}";

    /// <summary>Writes a database in the current layout with the given (id, fixed) advisories against go-isatty.</summary>
    private static void WriteDb(string dir, string modified, params (string Id, string Fixed)[] advisories)
    {
        Directory.CreateDirectory(Path.Combine(dir, "index"));
        Directory.CreateDirectory(Path.Combine(dir, "ID"));
        foreach (var (id, fixedIn) in advisories)
        {
            File.WriteAllText(Path.Combine(dir, "ID", id + ".json"), Entry(id, fixedIn, modified));
        }

        File.WriteAllText(Path.Combine(dir, "index", "db.json"), "{\"modified\":\"" + modified + "\"}");
        File.WriteAllText(Path.Combine(dir, "index", "vulns.json"),
            "[" + string.Join(',', advisories.Select(a => "{\"id\":\"" + a.Id + "\",\"modified\":\"" + modified + "\",\"aliases\":[\"CVE-" + a.Id[3..] + "\"]}")) + "]");
        File.WriteAllText(Path.Combine(dir, "index", "modules.json"),
            "[{\"path\":\"" + Module + "\",\"vulns\":[" + string.Join(',', advisories.Select(a => "{\"id\":\"" + a.Id + "\",\"modified\":\"" + modified + "\",\"fixed\":\"" + a.Fixed + "\"}")) + "]}]");
    }

    [Fact]
    public async Task A_database_refresh_bringing_an_advisory_alerts_once_and_the_report_names_the_right_token()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var posts = new ConcurrentQueue<(int Status, string Body)>();
        var failures = 1;
        var (receiver, receiverUrl) = await LoopbackApp.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var status = Interlocked.Decrement(ref failures) >= 0 ? 500 : 200;
            posts.Enqueue((status, body));
            context.Response.StatusCode = status;
        });
        var dbDir = TestPaths.NewTempDir("impact-vulndb");
        WriteDb(dbDir, "2026-01-02T00:00:00Z", ("GO-2099-0100", "0.0.1"));
        var db = await VulnDbUpstream.StartAsync(dbDir);
        try
        {
            var file = AuthTestFiles.NewFile();
            var alice = AuthTestFiles.Add(file, "alice", "github.com/mattn");
            var bob = AuthTestFiles.Add(file, "bob", "github.com/mattn");
            var security = AuthTestFiles.Add(file, "security", "", admin: true);
            var root = TestPaths.NewTempDir("impact-vulndb-store");
            void Configure(Configuration.WarrenOptionsBuilder o)
            {
                o.AuthFile = file;
                o.VulnDb = db.Url;
                o.AlertWebhook = receiverUrl + "/hook";
                o.EgressAllow = "127.0.0.1:" + new Uri(receiverUrl).Port;
            }

            await using (var warren = await TlsWarren.StartAsync(upstream.Url, Configure, root))
            {
                var a = await warren.Go(alice).RunAsync(TestPaths.NewTempDir("impact-db-alice"), "mod", "download", "-json", $"{Module}@v0.0.14");
                Assert.True(a.ExitCode == 0, a.ToString());
                var b = await warren.Go(bob).RunAsync(TestPaths.NewTempDir("impact-db-bob"), "mod", "download", "-json", $"{Module}@v0.0.16");
                Assert.True(b.ExitCode == 0, b.ToString());

                // The first copy's advisory (fixed in v0.0.1) affects neither version: nothing is sent.
                var mirror = (VulnDbMirror)warren.Warren.Services.GetRequiredService<IAdvisoryCatalog>();
                var first = DateTime.UtcNow.AddSeconds(20);
                while (!mirror.IsAvailable && DateTime.UtcNow < first)
                {
                    await Task.Delay(50);
                }

                Assert.True(mirror.IsAvailable);

                // A refresh brings an advisory fixed in v0.0.15: alice's version is affected, bob's is not.
                WriteDb(dbDir, "2026-02-03T00:00:00Z", ("GO-2099-0100", "0.0.1"), ("GO-2099-0101", "0.0.15"));
                Assert.True(await mirror.RefreshAsync(CancellationToken.None));

                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (posts.Count(p => p.Status == 200) == 0 && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }

                Assert.Equal([500, 200], posts.Select(p => p.Status));
                var evt = JsonDocument.Parse(posts.Last().Body).RootElement;
                Assert.Equal("GO-2099-0101", evt.GetProperty("advisory").GetProperty("id").GetString());
                var version = Assert.Single(evt.GetProperty("versions").EnumerateArray());
                Assert.Equal(("v0.0.14", "v0.0.15"), (version.GetProperty("version").GetString(), version.GetProperty("fixed").GetString()));
                Assert.Equal("alice", Assert.Single(version.GetProperty("clients").EnumerateArray()).GetProperty("client").GetString());

                using var http = new HttpClient();
                var report = await new ServedImpactClient(http).GetAsync(new Uri(warren.Warren.Url), "90d", security, CancellationToken.None);
                Assert.True(report.Succeeded, report.Error);
                var affected = Assert.Single(report.Report!.Versions);
                Assert.Equal(("v0.0.14", "GO-2099-0101", "alice"), (affected.Version, Assert.Single(affected.Advisories).Id, Assert.Single(affected.Clients).Client));
            }

            // Restarted: the first load tells of every entry again; the sent marker holds.
            await using (var warren = await TlsWarren.StartAsync(upstream.Url, Configure, root))
            {
                // The copy loads in the background (from the store, then the upstream); its observers run then.
                var restarted = warren.Warren.Services.GetRequiredService<IAdvisoryCatalog>();
                var loaded = DateTime.UtcNow.AddSeconds(20);
                while (!restarted.IsAvailable && DateTime.UtcNow < loaded)
                {
                    await Task.Delay(50);
                }

                Assert.True(restarted.IsAvailable);
                await Task.Delay(2000);
                Assert.Equal(2, posts.Count);
                var alert = Assert.Single(await warren.Warren.Services.GetRequiredService<IModuleIndex>().ReadAlertsAsync(CancellationToken.None));
                Assert.Equal(("GO-2099-0101", "v0.0.14"), (alert.AdvisoryId, alert.Version));
                Assert.NotNull(alert.SentAt);
            }
        }
        finally
        {
            await db.DisposeAsync();
            await LoopbackApp.StopAsync(receiver);
        }
    }
}
