using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Warren.Server.Policy;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Policy;

/// <summary>Policy at the proxy with the real go client on loopback: denied zips fail with the reason, list and
/// @latest leave denied versions out, the policy file is reloaded without a restart.</summary>
public sealed class PolicyGoTests(PolicyTestModules modules) : IClassFixture<PolicyTestModules>
{
    private const string Lib = PolicyTestModules.Lib;

    private async Task<(WarrenInstance Warren, string PolicyFile)> StartAsync(string policyJson, CapturingLoggerProvider? logs = null)
    {
        var file = Path.Combine(TestPaths.NewTempDir("policy"), "policy.json");
        await File.WriteAllTextAsync(file, policyJson);
        var warren = await WarrenInstance.StartAsync(modules.Upstream.Url, o =>
        {
            o.PolicyFile = file;
            o.PolicyPollInterval = TimeSpan.FromMilliseconds(200);
        }, beforeStart: logs is null ? null : (Microsoft.AspNetCore.Builder.WebApplication app) => app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs));
        return (warren, file);
    }

    [Fact]
    public async Task A_denied_version_fails_go_mod_download_with_the_reason_and_another_version_still_downloads()
    {
        var logs = new CapturingLoggerProvider();
        var (warren, _) = await StartAsync("""
            { "deny": [ { "module": "example.com/pol/lib", "versions": ">=v1.2.0 <v1.3.0", "reason": "CVE-2099-0001 in the parser; use v1.3.0" } ] }
            """, logs);
        await using var _ = warren;
        var go = new GoRunner(warren.Url);

        var denied = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.2.0");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("403 Forbidden", denied.Stderr, StringComparison.Ordinal);
        Assert.Contains("server response: denied by policy: CVE-2099-0001 in the parser; use v1.3.0 (example.com/pol/lib v1.2.0)", denied.Stderr, StringComparison.Ordinal);

        var allowed = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", "-json", Lib + "@v1.3.0");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.True(File.Exists(Path.Combine(go.ModCache, "cache", "download", Lib, "@v", "v1.3.0.zip")));

        // The .mod and .info of the denied version stay served (build lists need them); the zip was never fetched.
        Assert.Equal(HttpStatusCode.OK, (await warren.Client.GetAsync(Lib + "/@v/v1.2.0.mod")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await warren.Client.GetAsync(Lib + "/@v/v1.2.0.info")).StatusCode);
        var zip = await warren.Client.GetAsync(Lib + "/@v/v1.2.0.zip");
        Assert.Equal(HttpStatusCode.Forbidden, zip.StatusCode);
        Assert.Equal("no-store", zip.Headers.CacheControl?.ToString());
        Assert.Equal(0, modules.Upstream.HitsFor("/" + Lib + "/@v/v1.2.0.zip"));

        // Every decision is counted and audited.
        var metrics = warren.Services.GetRequiredService<PolicyMetrics>();
        Assert.Equal(2, metrics.Count(denied: true, "deny"));
        Assert.Equal(1, metrics.Count(denied: false, "none"));
        Assert.Contains("warren_policy_decisions_total{decision=\"deny\",rule=\"deny\"} 2", warren.Metrics.Render(), StringComparison.Ordinal);
        Assert.Contains(logs.Lines, l => l.Contains("Policy denied example.com/pol/lib@v1.2.0 zip to anonymous: deny: denied by policy: CVE-2099-0001", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.Contains("Policy allowed example.com/pol/lib@v1.3.0 zip to anonymous: none", StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_and_latest_leave_denied_versions_out_and_are_not_cacheable()
    {
        var (warren, _) = await StartAsync("""
            { "deny": [
                { "module": "example.com/pol/lib", "versions": "v1.2.0", "reason": "broken" },
                { "module": "example.com/pol/*", "versions": ">=v1.3.0", "reason": "not reviewed yet" } ] }
            """);
        await using var _ = warren;
        var go = new GoRunner(warren.Url);

        var versions = await go.RunAsync(PolicyTestModules.WorkDir(), "list", "-m", "-versions", Lib);
        Assert.True(versions.ExitCode == 0, versions.ToString());
        Assert.Equal(Lib + " v1.0.0 v1.1.0", versions.Stdout.Trim());

        // @latest's own answer (v1.3.0, the highest) is denied: the highest allowed version is answered instead.
        var latest = await go.RunAsync(PolicyTestModules.WorkDir(), "list", "-m", Lib + "@latest");
        Assert.True(latest.ExitCode == 0, latest.ToString());
        Assert.Equal(Lib + " v1.1.0", latest.Stdout.Trim());

        var get = await go.RunAsync(PolicyTestModules.WorkDir(), "get", Lib);
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Contains("added example.com/pol/lib v1.1.0", get.Stderr, StringComparison.Ordinal);

        var list = await warren.Client.GetAsync(Lib + "/@v/list");
        Assert.Equal("v1.0.0\nv1.1.0\n", await list.Content.ReadAsStringAsync());
        Assert.Equal("no-cache", list.Headers.CacheControl?.ToString());
        var info = await warren.Client.GetAsync(Lib + "/@latest");
        Assert.Contains("\"v1.1.0\"", await info.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("no-cache", info.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task A_policy_change_takes_effect_without_a_restart_and_an_invalid_one_keeps_the_previous()
    {
        var logs = new CapturingLoggerProvider();
        var (warren, file) = await StartAsync("""{ "deny": [ { "module": "example.com/pol/lib", "versions": "v1.2.0", "reason": "first policy" } ] }""", logs);
        await using var _ = warren;
        var go = new GoRunner(warren.Url);
        var before = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.2.0");
        Assert.Contains("server response: denied by policy: first policy", before.Stderr, StringComparison.Ordinal);

        // An invalid file is refused: the first policy stays in force, and the problem is logged with its line.
        PolicyTestModules.WritePolicy(file, "{\n  \"deny\": [ { \"module\": \"example.com/pol/lib\", \"versions\": \"<1.0\", \"reason\": \"r\" } ],\n  \"denyRetracted\": \"yes\"\n}\n");
        await WaitAsync(() => logs.Lines.Count(l => l.Contains("is invalid, the previous policy stays in force", StringComparison.Ordinal)) >= 2);
        await Task.Delay(600); // a few polls: the same invalid content is reported once
        Assert.Single(logs.Lines, l => l.Contains("is invalid, the previous policy stays in force: policy " + file + " line 2: deny[0]: bad version range \"<1.0\"", StringComparison.Ordinal));
        Assert.Single(logs.Lines, l => l.Contains("line 3: \"denyRetracted\" must be true or false, not a string", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Forbidden, (await warren.Client.GetAsync(Lib + "/@v/v1.2.0.zip")).StatusCode);

        // A valid rewrite comes into force at once: v1.2.0 downloads, v1.0.0 is denied now, the list follows.
        PolicyTestModules.WritePolicy(file, """{ "deny": [ { "module": "example.com/pol/lib", "versions": "<v1.1.0", "reason": "second policy" } ] }""");
        await WaitAsync(async () => (await warren.Client.GetAsync(Lib + "/@v/v1.2.0.zip")).StatusCode == HttpStatusCode.OK);
        var after = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.2.0");
        Assert.True(after.ExitCode == 0, after.ToString());
        var old = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.0.0");
        Assert.Contains("server response: denied by policy: second policy (example.com/pol/lib v1.0.0)", old.Stderr, StringComparison.Ordinal);
        Assert.Equal("v1.1.0\nv1.2.0\nv1.3.0\n", await warren.Client.GetStringAsync(Lib + "/@v/list"));

        // A policy that denies nothing: answers are as without a policy (cacheable again).
        PolicyTestModules.WritePolicy(file, "{}");
        await WaitAsync(async () => (await warren.Client.GetAsync(Lib + "/@v/v1.0.0.zip")).StatusCode == HttpStatusCode.OK);
        Assert.Equal("v1.0.0\nv1.1.0\nv1.2.0\nv1.3.0\n", await warren.Client.GetStringAsync(Lib + "/@v/list"));
    }

    [Fact]
    public async Task Allowlist_mode_denies_everything_not_allowed()
    {
        var (warren, _) = await StartAsync("""{ "allow": [ { "module": "example.com/pol/other", "versions": ">=v0.2.0" } ] }""");
        await using var _ = warren;
        var go = new GoRunner(warren.Url);
        var ok = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", PolicyTestModules.Other + "@v0.2.0");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        var old = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", PolicyTestModules.Other + "@v0.1.0");
        Assert.Contains("server response: denied by policy: example.com/pol/other v0.1.0 is not on the allow list", old.Stderr, StringComparison.Ordinal);
        var lib = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.0.0");
        Assert.Contains("server response: denied by policy: example.com/pol/lib v1.0.0 is not on the allow list", lib.Stderr, StringComparison.Ordinal);

        // No version of lib is allowed: @latest is not found, and the go command says there is nothing to choose.
        Assert.Equal(HttpStatusCode.NotFound, (await warren.Client.GetAsync(Lib + "/@latest")).StatusCode);
        Assert.Equal("", await warren.Client.GetStringAsync(Lib + "/@v/list"));
        var get = await go.RunAsync(PolicyTestModules.WorkDir(), "get", Lib);
        Assert.NotEqual(0, get.ExitCode);
        Assert.Contains("no matching versions", get.Stderr, StringComparison.Ordinal);

        var metrics = warren.Services.GetRequiredService<PolicyMetrics>();
        Assert.Equal(1, metrics.Count(denied: false, "allow"));
        Assert.Equal(2, metrics.Count(denied: true, "allowlist"));
    }

    [Fact]
    public async Task Retracted_versions_are_denied_from_the_latest_go_mod()
    {
        var (warren, _) = await StartAsync("""{ "denyRetracted": true }""");
        await using var _ = warren;
        var go = new GoRunner(warren.Url);
        var retracted = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.1.0");
        Assert.NotEqual(0, retracted.ExitCode);
        Assert.Contains($"server response: denied by policy: example.com/pol/lib v1.1.0 is retracted by its author (go.mod of v1.3.0): {PolicyTestModules.RetractRationale}",
            retracted.Stderr, StringComparison.Ordinal);
        var fine = await go.RunAsync(PolicyTestModules.WorkDir(), "mod", "download", Lib + "@v1.0.0");
        Assert.True(fine.ExitCode == 0, fine.ToString());
        Assert.Equal("v1.0.0\nv1.2.0\nv1.3.0\n", await warren.Client.GetStringAsync(Lib + "/@v/list"));
        Assert.Equal(1, warren.Services.GetRequiredService<PolicyMetrics>().Count(denied: true, "retracted"));
    }

    private static async Task WaitAsync(Func<bool> condition) => await WaitAsync(() => Task.FromResult(condition()));

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not come true in 20 s");
            await Task.Delay(50);
        }
    }
}
