using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Warren.Server.Auth;
using Warren.Server.Configuration;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Auth;

/// <summary>Origin permissions: Warren in direct mode (with its own credential for the origin) serves a module matching
/// --authorize-by-origin only to clients whose Basic password the origin accepts; the origin is Kestrel in front of git
/// http-backend on 127.0.0.1 with basic authentication for one user, reached through url.insteadOf for github.com.</summary>
public sealed class OriginAuthorizationTests : IAsyncLifetime
{
    private const string User = "alice";
    private const string Module = "github.com/private/repo";
    private const string Version = "v1.0.0";

    // Unique, so finding them anywhere can only mean a leak from this test.
    private readonly string _secret = "pw-" + Guid.NewGuid().ToString("N");
    private readonly string _wrong = "wrong-" + Guid.NewGuid().ToString("N");
    private readonly string _dir = TestPaths.NewTempDir("origin-authz");
    private readonly CapturingLoggerProvider _logs = new();
    private HttpBackendServer _server = null!;
    private string _gitConfig = null!;
    private string _noNetrc = null!;

    private int GitPort => new Uri(_server.BaseUrl).Port;

    private int GitRequests => _server.AuthorizedRequests + _server.UnauthorizedRequests;

    public async Task InitializeAsync()
    {
        (_server, _gitConfig) = await HttpBackendServer.StartPrivateModuleAsync(_dir, Module, Version, User, _secret);
        _noNetrc = Path.Combine(_dir, "empty-netrc");
        await File.WriteAllTextAsync(_noNetrc, "");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TestPaths.TryDeleteDirectory(_dir);
    }

    [Fact]
    public async Task The_go_client_gets_the_module_only_with_a_netrc_password_the_origin_accepts_even_once_it_is_cached()
    {
        await using var warren = await StartWarrenAsync();
        await using var front = await OriginAuthorizationHttpsFront.StartAsync(warren.Url, _dir);

        var good = await GoClient(front, User, _secret).RunAsync(TestPaths.NewTempDir("origin-go"), "mod", "download", "-json", $"{Module}@{Version}");
        Assert.True(good.ExitCode == 0, good.ToString());
        var downloaded = GoRunner.JsonStream(good.Stdout).Single();
        Assert.StartsWith("h1:", downloaded.GetProperty("Sum").GetString(), StringComparison.Ordinal);
        var cachedZip = Path.Combine(warren.Root, "github.com", "private", "repo", "@v", Version + ".zip");
        Assert.True(File.Exists(cachedZip), "the module should now be in Warren's store");

        // The module sits in the cache, and Warren's own credential could read the origin: only the client's counts.
        foreach (var (user, password) in new[] { (User, _wrong), ("mallory", _secret) })
        {
            var denied = await GoClient(front, user, password).RunAsync(TestPaths.NewTempDir("origin-go"), "mod", "download", "-json", $"{Module}@{Version}");
            Assert.True(denied.ExitCode != 0, denied.ToString());
            Assert.Contains("403 Forbidden", denied.Stdout + denied.Stderr, StringComparison.Ordinal);
            Assert.Contains("origin", denied.Stdout + denied.Stderr, StringComparison.Ordinal);
        }

        var anonymous = await GoClient(front, null, null).RunAsync(TestPaths.NewTempDir("origin-go"), "mod", "download", "-json", $"{Module}@{Version}");
        Assert.True(anonymous.ExitCode != 0, anonymous.ToString());
        Assert.Contains("401 Unauthorized", anonymous.Stdout + anonymous.Stderr, StringComparison.Ordinal);

        // One event per refusal and per artifact served, naming the principal, never a password.
        var lines = _logs.Lines.ToArray();
        Assert.Contains(lines, l => l.Contains($"served to {User}: 200", StringComparison.Ordinal) && l.Contains($"zip of {Module}@{Version}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"Denied info of {Module}@{Version} to mallory: 403", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"Denied info of {Module}@{Version} to {User}: 403", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"Denied info of {Module}@{Version} to -: 401", StringComparison.Ordinal));
        AssertSecretsNowhere(warren, good.Stdout, good.Stderr);
    }

    [Fact]
    public async Task Every_endpoint_of_a_covered_module_is_checked_and_no_answer_tells_whether_the_module_exists()
    {
        // The checksum database stays off (no packet leaves 127.0.0.1): the middleware answers lookups before the sumdb proxy.
        await using var warren = await StartWarrenAsync();
        string[] endpoints =
        [
            "{0}/@v/v1.0.0.info", "{0}/@v/v1.0.0.mod", "{0}/@v/v1.0.0.zip", "{0}/@v/list", "{0}/@latest", "{0}/@v/master.info",
            "sumdb/sum.golang.org/lookup/{0}@v1.0.0",
        ];
        foreach (var endpoint in endpoints)
        {
            var existing = string.Format(System.Globalization.CultureInfo.InvariantCulture, endpoint, Module);
            var missing = string.Format(System.Globalization.CultureInfo.InvariantCulture, endpoint, "github.com/private/no-such-repo");
            foreach (var (label, header) in new (string, AuthenticationHeaderValue?)[]
                     {
                         ("none", null), ("bearer", new AuthenticationHeaderValue("Bearer", _secret)),
                         ("wrong", Basic(User, _wrong)), ("other user", Basic("mallory", _secret)),
                     })
            {
                var (status, body, response) = await GetAsync(warren, existing, header);
                var (missingStatus, missingBody, _) = await GetAsync(warren, missing, header);
                var expected = label is "none" or "bearer" ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden;
                Assert.True(status == expected, $"{existing} with {label}: {(int)status} {body}");
                Assert.Equal(status, missingStatus);
                Assert.Equal(body, missingBody);
                Assert.Single(body.TrimEnd('\n').Split('\n'));
                Assert.Contains("\"github.com/private\"", body, StringComparison.Ordinal);
                Assert.DoesNotContain(Module, body, StringComparison.Ordinal);
                Assert.DoesNotContain("no-such-repo", missingBody, StringComparison.Ordinal);
                if (expected == HttpStatusCode.Unauthorized)
                {
                    Assert.Equal("Basic realm=\"warren\"", response.Headers.WwwAuthenticate.ToString());
                }
            }

            // The right credential on a repository that does not exist gets the same 403 as a refused one.
            var (noRepo, noRepoBody, _) = await GetAsync(warren, missing, Basic(User, _secret));
            Assert.Equal(HttpStatusCode.Forbidden, noRepo);
            Assert.Equal((await GetAsync(warren, missing, Basic(User, _wrong))).Body, noRepoBody);
        }

        foreach (var path in endpoints.Take(5))
        {
            var (status, body, response) = await GetAsync(warren, string.Format(System.Globalization.CultureInfo.InvariantCulture, path, Module), Basic(User, _secret));
            Assert.True(status == HttpStatusCode.OK, $"{path}: {(int)status} {body}");
            var cacheControl = response.Headers.CacheControl;
            Assert.True(cacheControl is { Private: true, Public: false }, $"{path}: Cache-Control {cacheControl}");
        }

        // Paths no pattern covers are untouched.
        var (health, _, _) = await GetAsync(warren, "healthz", null);
        Assert.Equal(HttpStatusCode.OK, health);
        var (uncovered, uncoveredBody, _) = await GetAsync(warren, "github.com/public/repo/@v/list", null);
        Assert.True(uncovered is HttpStatusCode.NotFound or HttpStatusCode.Gone, $"{(int)uncovered} {uncoveredBody}");
        AssertSecretsNowhere(warren);
    }

    [Fact]
    public async Task A_decision_is_remembered_for_the_TTL_shared_by_concurrent_requests_and_checked_again_after_it()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        // The mirror stays fresh across the advanced clock (git mirrors read the same clock), so only authorization checks reach the origin.
        await using var warren = await StartWarrenAsync(o =>
        {
            o.OriginAuthzTtl = TimeSpan.FromMinutes(5);
            o.GitFreshness = TimeSpan.FromHours(1);
        }, s => s.AddSingleton<TimeProvider>(clock));
        var authorizer = warren.Services.GetRequiredService<OriginAuthorizer>();
        var info = $"{Module}/@v/{Version}.info";

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(warren, info, Basic(User, _secret))).Status);
        Assert.Equal(1, authorizer.Checks);

        // That answer may have come from a shallow fetch while the mirror's clone went on (GitShallowAfter): once the
        // clone is done and its shallow copy gone, any further request to the origin is an authorization check.
        var mirrors = Path.Combine(warren.Root, ".warren", "git");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Directory.GetDirectories(mirrors).Length == 0 || Directory.GetDirectories(mirrors, ".tmp-*").Length > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the mirror's clone did not finish");
            await Task.Delay(50);
        }

        // Within the TTL: no ls-remote at the origin, whatever is asked.
        var requests = GitRequests;
        clock.Advance(TimeSpan.FromMinutes(4));
        foreach (var path in new[] { info, $"{Module}/@v/{Version}.mod", $"{Module}/@v/{Version}.zip", info })
        {
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(warren, path, Basic(User, _secret))).Status);
        }

        Assert.Equal(requests, GitRequests);
        Assert.Equal(1, authorizer.Checks);

        // After it: the origin is asked again.
        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(warren, info, Basic(User, _secret))).Status);
        Assert.Equal(2, authorizer.Checks);
        Assert.True(GitRequests > requests);

        // Refusals are remembered too, per credential.
        requests = GitRequests;
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(warren, info, Basic(User, _wrong))).Status);
        Assert.Equal(3, authorizer.Checks);
        Assert.True(GitRequests > requests);
        requests = GitRequests;
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(warren, info, Basic(User, _wrong))).Status);
        Assert.Equal(requests, GitRequests);
        Assert.Equal(3, authorizer.Checks);

        // Concurrent requests with a new credential share one check.
        _server.Delay = TimeSpan.FromMilliseconds(500);
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => GetAsync(warren, info, Basic("mallory", _wrong))));
        Assert.All(concurrent, r => Assert.Equal(HttpStatusCode.Forbidden, r.Status));
        Assert.Equal(4, authorizer.Checks);
        Assert.Equal(3, authorizer.CachedDecisions);
        AssertSecretsNowhere(warren);
    }

    [Fact]
    public async Task Warrens_own_netrc_never_stands_in_for_the_clients_credential()
    {
        var netrc = Path.Combine(_dir, "warren-netrc");
        await File.WriteAllTextAsync(netrc, $"machine 127.0.0.1\n  login {User}\n  password {_secret}\n");
        await using var warren = await StartWarrenAsync(o =>
        {
            o.GitCredentials.Clear();
            o.Netrc = netrc;
        });

        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(warren, $"{Module}/@v/{Version}.info", Basic(User, _wrong))).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(warren, $"{Module}/@v/{Version}.info", Basic(User, _secret))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(warren, $"{Module}/@v/{Version}.zip", Basic("mallory", _wrong))).Status);
    }

    [Fact]
    public async Task An_unreachable_origin_is_a_502_and_a_slow_one_a_504_and_neither_is_remembered()
    {
        // Another loopback port with nothing listening stands for a Git host that is down.
        var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var closedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var downConfig = TestGit.WriteGitHubInsteadOf(Path.Combine(_dir, "gitconfig-down"), $"http://127.0.0.1:{closedPort}");
        await using (var warren = await StartWarrenAsync(o =>
        {
            o.GitConfig = downConfig;
            o.EgressAllow = $"127.0.0.1:{GitPort},127.0.0.1:{closedPort}";
        }))
        {
            var authorizer = warren.Services.GetRequiredService<OriginAuthorizer>();
            for (var i = 1; i <= 2; i++)
            {
                var (status, body, _) = await GetAsync(warren, $"{Module}/@v/{Version}.info", Basic(User, _secret));
                Assert.True(status == HttpStatusCode.BadGateway, $"{(int)status} {body}");
                Assert.StartsWith("bad gateway: could not check the credential with the origin repository", body, StringComparison.Ordinal);
                Assert.Equal(i, authorizer.Checks);
            }

            Assert.Equal(0, authorizer.CachedDecisions);
        }

        await using (var warren = await StartWarrenAsync(o => o.GitTimeout = TimeSpan.FromSeconds(1)))
        {
            _server.Delay = TimeSpan.FromSeconds(3);
            var (status, body, _) = await GetAsync(warren, $"{Module}/@v/{Version}.info", Basic(User, _secret));
            Assert.True(status == HttpStatusCode.GatewayTimeout, $"{(int)status} {body}");
            Assert.StartsWith("gateway timeout:", body, StringComparison.Ordinal);
            Assert.Equal(0, warren.Services.GetRequiredService<OriginAuthorizer>().CachedDecisions);
        }

        Assert.Contains(_logs.Lines, l => l.Contains("Could not check alice's access to the origin of", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_the_option_nothing_is_asked_of_the_client()
    {
        await using var warren = await StartWarrenAsync(o => o.AuthorizeByOrigin = null);
        var (status, body, _) = await GetAsync(warren, $"{Module}/@v/{Version}.info", null);
        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
        Assert.Equal(0, warren.Services.GetRequiredService<OriginAuthorizer>().Checks);
    }

    private Task<WarrenInstance> StartWarrenAsync(Action<WarrenOptionsBuilder>? configure = null, Action<IServiceCollection>? services = null) =>
        WarrenInstance.StartAsync("direct", o =>
        {
            o.GitConfig = _gitConfig;
            o.OutboundProxyBypass = "127.0.0.1,localhost";
            o.Netrc = _noNetrc;
            o.GitCredentialsOverHttp = true;
            o.GitCredentials[new Uri(_server.BaseUrl).Authority] = $"{User}:{_secret}";
            o.AuthorizeByOrigin = "github.com/private";
            o.EgressAllow = $"127.0.0.1:{GitPort}";
            configure?.Invoke(o);
        }, beforeStart: app => app.Services.GetRequiredService<ILoggerFactory>().AddProvider(_logs), services: services);

    /// <summary>A go client through the https front, with a .netrc for 127.0.0.1 when a user is given.</summary>
    private static GoRunner GoClient(OriginAuthorizationHttpsFront front, string? user, string? password)
    {
        var home = TestPaths.NewTempDir("origin-gohome");
        if (user is not null)
        {
            File.WriteAllText(Path.Combine(home, ".netrc"), $"machine 127.0.0.1\n  login {user}\n  password {password}\n");
        }

        return new GoRunner(front.Url, home).With("SSL_CERT_FILE", front.CertificateFile).With("NETRC", Path.Combine(home, ".netrc"));
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));

    private static async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> GetAsync(WarrenInstance warren, string path, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = authorization;
        var response = await warren.Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    /// <summary>Neither password is in a log line, a file of the store, or the texts.</summary>
    private void AssertSecretsNowhere(WarrenInstance warren, params string[] texts)
    {
        Assert.NotEmpty(_logs.Lines);
        foreach (var secret in new[] { _secret, _wrong })
        {
            Assert.All(_logs.Lines, l => Assert.DoesNotContain(secret, l, StringComparison.Ordinal));
            Assert.All(texts, t => Assert.DoesNotContain(secret, t, StringComparison.Ordinal));
            var bytes = Encoding.UTF8.GetBytes(secret);
            var read = 0;
            foreach (var file in Directory.EnumerateFiles(warren.Root, "*", SearchOption.AllDirectories))
            {
                byte[] content;
                try
                {
                    content = File.ReadAllBytes(file);
                }
                catch (IOException) when (Path.GetFileName(file) is ".lock" or "serve.lock")
                {
                    continue;
                }

                read++;
                Assert.True(content.AsSpan().IndexOf(bytes) < 0, $"a password is in {file}");
            }

            Assert.True(read > 0);
        }
    }

    private sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
    {
        private long _ticks = start.UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
