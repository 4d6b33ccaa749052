using Microsoft.Extensions.DependencyInjection;
using Warren.Core.Vulns;
using Warren.Server.Policy;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Tests.Vuln;

namespace Warren.Server.Tests.Policy;

/// <summary>denyVulnerable with the real go client, against a small in-test advisory catalog and against a real
/// loopback vulnerability database mirrored through --vulndb.</summary>
public sealed class PolicyVulnerableTests(PolicyTestModules modules) : IClassFixture<PolicyTestModules>
{
    private const string Lib = PolicyTestModules.Lib;

    /// <summary>A catalog whose advisories the test sets.</summary>
    private sealed class TestCatalog : IAdvisoryCatalog
    {
        private volatile IReadOnlyList<Advisory> _advisories = [];
        private long _generation = 1;

        public bool IsAvailable => true;

        public long Generation => Interlocked.Read(ref _generation);

        public void Set(params Advisory[] advisories)
        {
            _advisories = advisories;
            Interlocked.Increment(ref _generation);
        }

        public ValueTask<IReadOnlyList<Advisory>> ForModuleAsync(string modulePath, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<Advisory>>(_advisories.Where(a => a.For(modulePath).Any()).ToList());

        public ValueTask<IReadOnlyList<Advisory>> AllAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_advisories);
    }

    private static Advisory Advisory(string id, string alias, string introduced, string? fixedIn) =>
        new(id, DateTimeOffset.Parse("2023-06-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), null, null, [alias], "summary", "details",
        [
            new AffectedModule(Lib,
                [new AffectedRange(fixedIn is null
                    ? [new RangeEvent(RangeEventKind.Introduced, introduced)]
                    : [new RangeEvent(RangeEventKind.Introduced, introduced), new RangeEvent(RangeEventKind.Fixed, fixedIn)])],
                []),
        ]);

    [Fact]
    public async Task Vulnerable_versions_are_denied_with_the_advisory_and_the_fix_and_exceptions_stay_allowed()
    {
        var catalog = new TestCatalog();
        catalog.Set(
            Advisory("GO-2099-0001", "CVE-2099-1111", RangeEvent.Zero, "v1.2.0"),
            Advisory("GO-2099-0002", "CVE-2099-2222", "v1.3.0", null));
        var file = Path.Combine(TestPaths.NewTempDir("policy"), "policy.json");
        await File.WriteAllTextAsync(file, """{ "denyVulnerable": { "enabled": true, "exceptions": [ "CVE-2099-2222" ] } }""");
        await using var warren = await WarrenInstance.StartAsync(modules.Upstream.Url, o => o.PolicyFile = file,
            services: s => s.AddSingleton<IAdvisoryCatalog>(catalog));
        var go = new GoRunner(warren.Url);

        var vulnerable = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.1.0");
        Assert.NotEqual(0, vulnerable.ExitCode);
        Assert.Contains("server response: denied by policy: GO-2099-0001 (CVE-2099-1111) affects example.com/pol/lib v1.1.0; fixed in v1.2.0",
            vulnerable.Stderr, StringComparison.Ordinal);

        // v1.3.0 is affected only by the excepted advisory (named by its CVE alias); v1.2.0 by none.
        var excepted = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.3.0", Lib + "@v1.2.0");
        Assert.True(excepted.ExitCode == 0, excepted.ToString());
        Assert.Equal("v1.2.0\nv1.3.0\n", await warren.Client.GetStringAsync(Lib + "/@v/list"));
        var metrics = warren.Services.GetRequiredService<PolicyMetrics>();
        Assert.Equal(1, metrics.Count(denied: true, "vulnerable"));
        Assert.Equal(1, metrics.Count(denied: false, "exception"));
        Assert.Equal(1, metrics.Count(denied: false, "none"));

        // A new copy of the database changes the answers at once (nothing of it is cached by the policy).
        catalog.Set(Advisory("GO-2099-0003", "GHSA-aaaa-bbbb-cccc", "v1.2.0", null));
        Assert.Equal("v1.0.0\nv1.1.0\n", await warren.Client.GetStringAsync(Lib + "/@v/list"));
        var latest = await go.RunAsync(PolicyTestModules.WorkDir(), "list", "-m", Lib + "@latest");
        Assert.Equal(Lib + " v1.1.0", latest.Stdout.Trim());
        var zip = await warren.Client.GetAsync(Lib + "/@v/v1.3.0.zip");
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, zip.StatusCode);
        Assert.Equal("denied by policy: GO-2099-0003 (GHSA-aaaa-bbbb-cccc) affects example.com/pol/lib v1.3.0; no fixed version\n", await zip.Content.ReadAsStringAsync());
    }

    /// <summary>A database in the current layout with two advisories against the test module: GO-2099-0011 (below
    /// v1.2.0, fixed there) and GO-2099-0012 (from v1.3.0, no fix).</summary>
    private static string WriteDb()
    {
        const string Modified = "2026-01-02T00:00:00Z";
        (string Id, string Alias, string Introduced, string? Fixed)[] advisories = [("GO-2099-0011", "CVE-2099-1111", "0", "1.2.0"), ("GO-2099-0012", "CVE-2099-2222", "1.3.0", null)];
        var dir = TestPaths.NewTempDir("policy-vulndb");
        Directory.CreateDirectory(Path.Combine(dir, "index"));
        Directory.CreateDirectory(Path.Combine(dir, "ID"));
        foreach (var (id, alias, introduced, fixedIn) in advisories)
        {
            var events = "{\"introduced\":\"" + introduced + "\"}" + (fixedIn is null ? "" : ",{\"fixed\":\"" + fixedIn + "\"}");
            File.WriteAllText(Path.Combine(dir, "ID", id + ".json"),
                "{\"schema_version\":\"1.3.1\",\"id\":\"" + id + "\",\"modified\":\"" + Modified + "\",\"published\":\"2026-01-01T00:00:00Z\",\"aliases\":[\"" + alias + "\"]," +
                "\"summary\":\"test\",\"details\":\"test\",\"affected\":[{\"package\":{\"name\":\"" + Lib + "\",\"ecosystem\":\"Go\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[" + events + "]}]}]}");
        }

        File.WriteAllText(Path.Combine(dir, "index", "db.json"), "{\"modified\":\"" + Modified + "\"}");
        File.WriteAllText(Path.Combine(dir, "index", "vulns.json"),
            "[" + string.Join(',', advisories.Select(a => "{\"id\":\"" + a.Id + "\",\"modified\":\"" + Modified + "\",\"aliases\":[\"" + a.Alias + "\"]}")) + "]");
        File.WriteAllText(Path.Combine(dir, "index", "modules.json"),
            "[{\"path\":\"" + Lib + "\",\"vulns\":[" + string.Join(',', advisories.Select(a => "{\"id\":\"" + a.Id + "\",\"modified\":\"" + Modified + "\"}")) + "]}]");
        return dir;
    }

    [Fact]
    public async Task With_a_real_loopback_database_the_go_client_is_denied_the_affected_version_and_gets_the_fixed_and_excepted_ones()
    {
        var db = await VulnDbUpstream.StartAsync(WriteDb());
        try
        {
            var file = Path.Combine(TestPaths.NewTempDir("policy"), "policy.json");
            await File.WriteAllTextAsync(file, """{ "denyVulnerable": { "enabled": true, "exceptions": [ "GO-2099-0012" ] } }""");
            await using var warren = await WarrenInstance.StartAsync(modules.Upstream.Url, o =>
            {
                o.PolicyFile = file;
                o.VulnDb = db.Url;
            });
            Assert.IsType<Warren.Server.Vulns.VulnDbMirror>(warren.Services.GetRequiredService<IAdvisoryCatalog>());
            var go = new GoRunner(warren.Url);

            var vulnerable = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.1.0");
            Assert.NotEqual(0, vulnerable.ExitCode);
            var response = Assert.Single(vulnerable.Stderr.Split('\n'), l => l.Contains("server response:", StringComparison.Ordinal));
            Assert.Contains("server response: denied by policy: GO-2099-0011 (CVE-2099-1111) affects example.com/pol/lib v1.1.0; fixed in v1.2.0", response, StringComparison.Ordinal);
            Assert.Equal(0, modules.Upstream.HitsFor("/" + Lib + "/@v/v1.1.0.zip"));

            // v1.2.0 is the fix; v1.3.0 is affected only by the advisory listed in exceptions.
            var allowed = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.2.0", Lib + "@v1.3.0");
            Assert.True(allowed.ExitCode == 0, allowed.ToString());
            Assert.True(File.Exists(Path.Combine(go.ModCache, "cache", "download", Lib, "@v", "v1.2.0.zip")));
            Assert.True(File.Exists(Path.Combine(go.ModCache, "cache", "download", Lib, "@v", "v1.3.0.zip")));

            // The database came from the loopback server, entries and all.
            Assert.Contains(db.Log, l => l.Path == "ID/GO-2099-0011.json" && l.Status == 200);
            var metrics = warren.Services.GetRequiredService<PolicyMetrics>();
            Assert.Equal(1, metrics.Count(denied: true, "vulnerable"));
            Assert.Equal(1, metrics.Count(denied: false, "exception"));
        }
        finally
        {
            await db.DisposeAsync();
        }
    }
}
