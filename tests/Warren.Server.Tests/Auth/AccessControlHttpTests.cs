using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Auth;

/// <summary>Authentication and authorization over HTTP: Basic and Bearer, 401/403 and their bodies, expiry, revocation
/// and reload without restart, /metrics, /healthz, sumdb, anonymous patterns and Cache-Control.</summary>
public sealed class AccessControlHttpTests : IAsyncLifetime
{
    private const string Color = "github.com/fatih/color/@v/v1.13.0.info";
    private const string Isatty = "github.com/mattn/go-isatty/@v/v0.0.14.info";
    private readonly CapturingLoggerProvider _logs = new();
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private Task<WarrenInstance> StartAsync(string authFile, Action<Configuration.WarrenOptionsBuilder>? configure = null) =>
        WarrenInstance.StartAsync(_upstream.Url, o =>
        {
            o.AuthFile = authFile;
            configure?.Invoke(o);
        }, beforeStart: app => app.Services.GetRequiredService<ILoggerFactory>().AddProvider(_logs));

    [Fact]
    public async Task Basic_with_any_user_and_Bearer_work_no_credential_is_401_with_the_challenge_and_a_missing_grant_403()
    {
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", "github.com/fatih");
        await using var warren = await StartAsync(file);

        var (basic, _, _) = await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Basic(alice));
        Assert.Equal(200, basic);
        var (bearer, body, _) = await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(alice));
        Assert.Equal(200, bearer);
        Assert.Contains("v1.13.0", body, StringComparison.Ordinal);

        var (none, noneBody, noneResponse) = await AuthTestFiles.GetAsync(warren.Client, Color);
        Assert.Equal(401, none);
        Assert.Equal("Basic realm=\"warren\"", noneResponse.Headers.WwwAuthenticate.Single().ToString());
        Assert.Equal("unauthorized: no credential; github.com/fatih/color needs a token with a grant for it\n", noneBody);

        var (forbidden, forbiddenBody, _) = await AuthTestFiles.GetAsync(warren.Client, Isatty, AuthTestFiles.Bearer(alice));
        Assert.Equal(403, forbidden);
        Assert.Equal("forbidden: token \"alice\" has no grant matching github.com/mattn/go-isatty (its grants: github.com/fatih)\n", forbiddenBody);

        var (bad, badBody, badResponse) = await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(alice[..^4] + "0000"));
        Assert.Equal(401, bad);
        Assert.Equal("unauthorized: unknown or revoked token\n", badBody);
        Assert.NotEmpty(badResponse.Headers.WwwAuthenticate);

        var (notWarren, _, _) = await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Basic("ghp_somebodyelsestoken"));
        Assert.Equal(401, notWarren);

        // Every refusal is logged with the principal, module@version, artifact and status.
        Assert.Contains(_logs.Lines, l => l.Contains("Denied alice github.com/mattn/go-isatty@v0.0.14 info: 403", StringComparison.Ordinal));
        Assert.Contains(_logs.Lines, l => l.Contains("Denied anonymous github.com/fatih/color@v1.13.0 info: 401", StringComparison.Ordinal));
        Assert.Contains(_logs.Lines, l => l.Contains("Served private github.com/fatih/color@v1.13.0 info to alice: 200", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(alice, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refusals_are_the_same_for_an_existing_and_a_nonexistent_private_module()
    {
        var file = AuthTestFiles.NewFile();
        var bob = AuthTestFiles.Add(file, "bob", "github.com/mattn");
        await using var warren = await StartAsync(file);

        // Warm the existing one so it sits in the store.
        var admin = AuthTestFiles.Add(file, "all", "*");
        await WaitForReloadAsync(warren, admin);
        Assert.Equal(200, (await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(admin))).Status);

        foreach (var auth in new[] { null, AuthTestFiles.Bearer(bob) })
        {
            var existing = await AuthTestFiles.GetAsync(warren.Client, "github.com/fatih/color/@v/v1.13.0.zip", auth);
            var missing = await AuthTestFiles.GetAsync(warren.Client, "github.com/fatih/colour/@v/v1.13.0.zip", auth);
            Assert.Equal(auth is null ? 401 : 403, existing.Status);
            Assert.Equal(existing.Status, missing.Status);
            Assert.Equal(existing.Body.Replace("color", "colour", StringComparison.Ordinal), missing.Body);
            Assert.Equal(existing.Response.Headers.Select(h => h.Key).Order(), missing.Response.Headers.Select(h => h.Key).Order());
        }

        Assert.Equal(0, _upstream.HitsFor("/github.com/fatih/colour/@v/v1.13.0.zip"));
    }

    [Fact]
    public async Task An_expired_token_is_401_and_a_token_revoked_on_disk_is_refused_without_a_restart_while_a_broken_file_keeps_the_last_good_one()
    {
        var file = AuthTestFiles.NewFile();
        var old = AuthTestFiles.Add(file, "old", "github.com/fatih", expires: DateTimeOffset.UtcNow.AddDays(1));
        var carol = AuthTestFiles.Add(file, "carol", "github.com/fatih");
        await using var warren = await StartAsync(file);
        Assert.Equal(200, (await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(carol))).Status);
        Assert.Equal(200, (await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(old))).Status);

        // Expiry moves into the past (edited on disk): the cached verification must not outlive it.
        Warren.Server.Auth.AuthFile.Edit(file, doc => doc.Principals.Single(p => p.Name == "old").Expires = DateTimeOffset.UtcNow.AddSeconds(-1));
        await WaitUntilAsync(async () => (await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(old))).Status == 401);
        var (status, body, response) = await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(old));
        Assert.Equal(401, status);
        Assert.StartsWith("unauthorized: token expired on ", body, StringComparison.Ordinal);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);

        // A broken file: the last good version stays in force, and an error is logged.
        var good = await File.ReadAllTextAsync(file);
        await File.WriteAllTextAsync(file, "{ \"version\": 1, \"principals\": [ { \"name\": ");
        await WaitUntilAsync(() => Task.FromResult(_logs.Lines.Any(l => l.Contains("cannot be used; keeping the last good version", StringComparison.Ordinal))));
        Assert.Equal(200, (await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(carol))).Status);
        await File.WriteAllTextAsync(file, good);

        // Revoked while running: refused within a few seconds, no restart.
        AuthTestFiles.Revoke(file, "carol");
        await WaitUntilAsync(async () => (await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(carol))).Status == 401);
        Assert.Equal("unauthorized: unknown or revoked token\n", (await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(carol))).Body);
    }

    [Fact]
    public async Task Metrics_need_an_admin_token_healthz_and_readyz_stay_open()
    {
        var file = AuthTestFiles.NewFile();
        var user = AuthTestFiles.Add(file, "user", "*");
        var ops = AuthTestFiles.Add(file, "ops", "", admin: true);
        await using var warren = await StartAsync(file);

        Assert.Equal(401, (await AuthTestFiles.GetAsync(warren.Client, "metrics")).Status);
        var (forbidden, body, _) = await AuthTestFiles.GetAsync(warren.Client, "metrics", AuthTestFiles.Bearer(user));
        Assert.Equal(403, forbidden);
        Assert.Equal("forbidden: token \"user\" is not an admin token; /metrics needs one\n", body);
        var (ok, metrics, _) = await AuthTestFiles.GetAsync(warren.Client, "metrics", AuthTestFiles.Basic(ops));
        Assert.Equal(200, ok);
        Assert.Contains("warren_http_requests_total", metrics, StringComparison.Ordinal);

        Assert.Equal(200, (await AuthTestFiles.GetAsync(warren.Client, "healthz")).Status);
        Assert.Equal(200, (await AuthTestFiles.GetAsync(warren.Client, "readyz")).Status);
    }

    [Fact]
    public async Task Checksum_database_data_tiles_which_list_every_logged_module_need_an_admin_token()
    {
        var file = AuthTestFiles.NewFile();
        var user = AuthTestFiles.Add(file, "user", "*");
        var ops = AuthTestFiles.Add(file, "ops", "", admin: true);
        await using var warren = await StartAsync(file);

        const string data = "sumdb/sum.golang.org/tile/8/data/000";
        Assert.Equal(401, (await AuthTestFiles.GetAsync(warren.Client, data)).Status);
        var (forbidden, body, _) = await AuthTestFiles.GetAsync(warren.Client, data, AuthTestFiles.Bearer(user));
        Assert.Equal(403, forbidden);
        Assert.Equal("forbidden: token \"user\" is not an admin token; a checksum database data tile (it lists every logged module) needs one\n", body);

        // An admin passes access control (the database itself is off here, so the proxy then answers as it does for anyone).
        Assert.NotEqual(403, (await AuthTestFiles.GetAsync(warren.Client, data, AuthTestFiles.Bearer(ops))).Status);
        Assert.NotEqual(401, (await AuthTestFiles.GetAsync(warren.Client, data, AuthTestFiles.Bearer(ops))).Status);

        // Hash tiles, which the go command reads to verify proofs, stay readable by any principal.
        Assert.NotEqual(403, (await AuthTestFiles.GetAsync(warren.Client, "sumdb/sum.golang.org/tile/8/0/000", AuthTestFiles.Bearer(user))).Status);
    }

    [Fact]
    public async Task The_admin_listener_serves_metrics_without_a_token_and_nothing_else()
    {
        var file = AuthTestFiles.NewFile();
        AuthTestFiles.Add(file, "user", "*");
        var port = Loopback.FreePort();
        var adminPort = Loopback.FreePort();
        var app = WarrenHost.Build(o =>
        {
            o.Listen = $"127.0.0.1:{port}";
            o.AdminListen = $"127.0.0.1:{adminPort}";
            o.Root = TestPaths.NewTempDir("store");
            o.Upstream = _upstream.Url;
            o.SumDb = "off";
            o.Private = "";
            o.Fsync = false;
            o.AuthFile = file;
        }, getEnv: _ => null);
        await app.StartAsync();
        try
        {
            using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}/") };
            using var main = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            var (status, metrics, _) = await AuthTestFiles.GetAsync(admin, "metrics");
            Assert.Equal(200, status);
            Assert.Contains("warren_http_requests_total", metrics, StringComparison.Ordinal);
            Assert.Equal(404, (await AuthTestFiles.GetAsync(admin, Color)).Status);
            Assert.Equal(401, (await AuthTestFiles.GetAsync(main, "metrics")).Status);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Sumdb_lookups_follow_the_module_rules_and_the_other_sumdb_endpoints_need_any_principal()
    {
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", "github.com/fatih");
        await using var warren = await StartAsync(file, o => o.SumDb = "sum.golang.org http://127.0.0.1:9");

        // Decided before anything is fetched: the sumdb URL above is never contacted for a refused request.
        Assert.Equal(401, (await AuthTestFiles.GetAsync(warren.Client, "sumdb/sum.golang.org/lookup/github.com/fatih/color@v1.13.0")).Status);
        var (forbidden, body, _) = await AuthTestFiles.GetAsync(warren.Client, "sumdb/sum.golang.org/lookup/github.com/mattn/go-isatty@v0.0.14", AuthTestFiles.Bearer(alice));
        Assert.Equal(403, forbidden);
        Assert.Contains("github.com/mattn/go-isatty", body, StringComparison.Ordinal);
        Assert.Equal(401, (await AuthTestFiles.GetAsync(warren.Client, "sumdb/sum.golang.org/supported")).Status);
        Assert.Equal(200, (await AuthTestFiles.GetAsync(warren.Client, "sumdb/sum.golang.org/supported", AuthTestFiles.Bearer(alice))).Status);
    }

    [Fact]
    public async Task Anonymous_patterns_are_readable_without_a_token_and_public_while_granted_ones_are_private()
    {
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", "github.com/fatih");
        await using var warren = await StartAsync(file, o => o.Anonymous = "github.com/mattn");

        var (open, _, openResponse) = await AuthTestFiles.GetAsync(warren.Client, Isatty);
        Assert.Equal(200, open);
        Assert.Equal("public, max-age=31536000, immutable", CacheControl(openResponse));

        foreach (var path in new[] { Color, "github.com/fatih/color/@v/v1.13.0.mod", "github.com/fatih/color/@v/v1.13.0.zip", "github.com/fatih/color/@v/list" })
        {
            var (status, _, response) = await AuthTestFiles.GetAsync(warren.Client, path, AuthTestFiles.Bearer(alice));
            Assert.Equal(200, status);
            Assert.True(response.Headers.CacheControl!.Private, path + ": " + response.Headers.CacheControl);
            Assert.False(response.Headers.CacheControl.Public, path);
        }

        // A second time, from Warren's in-memory caches, still private.
        var (_, _, again) = await AuthTestFiles.GetAsync(warren.Client, Color, AuthTestFiles.Bearer(alice));
        Assert.Equal("private, max-age=31536000, immutable", CacheControl(again));
    }

    [Fact]
    public async Task Without_an_auth_file_everything_is_open_and_private_paths_are_sent_Cache_Control_private()
    {
        // Private paths are fetched direct, never from a proxy: the store is filled first, with nothing private.
        var root = TestPaths.NewTempDir("store");
        await using (var fill = await WarrenInstance.StartAsync(_upstream.Url, root: root))
        {
            foreach (var ext in new[] { "info", "mod", "zip" })
            {
                Assert.Equal(200, (await AuthTestFiles.GetAsync(fill.Client, "github.com/fatih/color/@v/v1.13.0." + ext)).Status);
            }

            var (_, _, before) = await AuthTestFiles.GetAsync(fill.Client, "github.com/fatih/color/@v/v1.13.0.zip");
            Assert.Equal("public, max-age=31536000, immutable", CacheControl(before));
        }

        // (Only stored versions are asked for: a private path goes direct, which has no origin to reach here.)
        await using var warren = await WarrenInstance.StartAsync(_upstream.Url, o => o.Private = "github.com/fatih", root: root);
        foreach (var path in new[] { "github.com/fatih/color/@v/v1.13.0.zip", "github.com/fatih/color/@v/v1.13.0.info", "github.com/fatih/color/@v/v1.13.0.mod" })
        {
            var (status, body, response) = await AuthTestFiles.GetAsync(warren.Client, path);
            Assert.True(status == 200, $"{path}: {status} {body}");
            Assert.Equal("private, max-age=31536000, immutable", CacheControl(response));
        }

        var (publicStatus, _, publicResponse) = await AuthTestFiles.GetAsync(warren.Client, Isatty);
        Assert.Equal(200, publicStatus);
        Assert.Equal("public, max-age=31536000, immutable", CacheControl(publicResponse));
        Assert.Equal(HttpStatusCode.OK, (await warren.Client.GetAsync("metrics")).StatusCode);
    }

    private static string CacheControl(HttpResponseMessage response) => response.Headers.NonValidated["Cache-Control"].ToString();

    private async Task WaitForReloadAsync(WarrenInstance warren, string token) =>
        await WaitUntilAsync(async () => (await AuthTestFiles.GetAsync(warren.Client, "healthz", AuthTestFiles.Bearer(token))).Status == 200 &&
                                         (await AuthTestFiles.GetAsync(warren.Client, "sumdb/x/supported", AuthTestFiles.Bearer(token))).Status != 401);

    private async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("condition not met within 10 s; log:\n" + _logs.Lines.Count + " lines\n" + string.Join("\n", _logs.Lines.Where(l => !l.Contains("Lifetime", StringComparison.Ordinal)).TakeLast(30)));
    }
}
