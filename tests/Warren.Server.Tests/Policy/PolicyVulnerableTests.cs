using Microsoft.Extensions.DependencyInjection;
using Warren.Core.Vulns;
using Warren.Server.Policy;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Policy;

/// <summary>denyVulnerable with the real go client, against a small in-test advisory catalog.</summary>
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
}
