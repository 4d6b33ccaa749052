using System.Net;
using Microsoft.AspNetCore.Http;
using Warren.Fetch.Direct.Discovery;
using Warren.Fetch.Direct.Egress;
using Warren.Fetch.Direct.Git;

namespace Warren.Fetch.Direct.Tests.Egress;

/// <summary>The real git CLI and HttpClient under the outbound policy, on 127.0.0.1 only. Names are resolved by a
/// fake resolver (no DNS query leaves the machine).</summary>
public sealed class GitEgressTests : IAsyncLifetime
{
    private readonly string _dir = TestPaths.NewTempDir("git-egress");
    private readonly string _repos;
    private GitServe _serve = null!;

    public GitEgressTests()
    {
        _repos = Path.Combine(_dir, "repos");
        Directory.CreateDirectory(_repos);
    }

    public async Task InitializeAsync() => _serve = await GitServe.StartAsync(_repos);

    public async Task DisposeAsync() => await _serve.DisposeAsync();

    private static EgressPolicy Policy(string allow, Dictionary<string, IPAddress>? names = null) =>
        new(EgressRule.ParseList(allow, out _), resolve: (host, _) =>
            Task.FromResult(names is not null && names.TryGetValue(host, out var a) ? new[] { a } : []));

    private GitMirrorManager NewManager(EgressPolicy policy) => new(new GitMirrorOptions
    {
        MirrorRoot = Path.Combine(_dir, "store-" + Guid.NewGuid().ToString("N")[..8]),
        GitConfigGlobal = "/dev/null",
        IgnoreSystemGitConfig = true,
        UseNetrc = false,
        NoProxy = "*",
        EgressPolicy = policy,
    });

    [Fact]
    public async Task Git_works_for_the_allowed_port_and_is_refused_for_another_without_connecting()
    {
        TestGit.CreateUpstream(_repos, "team/lib.git").Commit("first", "v1.0.0");
        using var internalPort = new CountingListener();
        using var manager = NewManager(Policy("127.0.0.1:" + _serve.Port));

        var (gitDir, ok) = await manager.EnsureAsync($"{_serve.Url}/team/lib", default);
        Assert.Equal(DirectResult.Success, ok);
        Assert.NotNull(gitDir);

        var (none, refused) = await manager.EnsureAsync($"http://127.0.0.1:{internalPort.Port}/team/lib", default);
        Assert.Null(none);
        Assert.Equal(DirectStatus.NotFound, refused.Status);
        Assert.Equal($"git ls-remote http://127.0.0.1:{internalPort.Port}/team/lib: destination 127.0.0.1:{internalPort.Port} refused by the egress policy (loopback address); allow it with --egress-allow", refused.Message);
        Assert.Equal(0, internalPort.Connections);
    }

    [Fact]
    public async Task Git_is_pinned_to_the_addresses_the_policy_checked()
    {
        // git.egress.test exists only in the policy's resolver: git can reach it only through http.curloptResolve.
        TestGit.CreateUpstream(_repos, "team/pinned.git").Commit("first", "v1.0.0");
        var names = new Dictionary<string, IPAddress> { ["git.egress.test"] = IPAddress.Loopback };
        using var manager = NewManager(Policy("git.egress.test:" + _serve.Port, names));
        var (gitDir, ok) = await manager.EnsureAsync($"http://git.egress.test:{_serve.Port}/team/pinned", default);
        Assert.Equal(DirectResult.Success, ok);
        Assert.Equal(["v1.0.0"], TestGit.Run(null, "--git-dir=" + gitDir, "tag", "--list").Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // The same name on a port the entry does not cover resolves to loopback, which is denied.
        using var other = NewManager(Policy("git.egress.test:" + _serve.Port, names));
        var (_, refused) = await other.EnsureAsync($"http://git.egress.test:{_serve.Port + 1}/team/pinned", default);
        Assert.Contains("(127.0.0.1) refused by the egress policy (loopback address)", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dot_git_probe_obeys_the_policy_after_insteadOf_rewriting()
    {
        using var internalPort = new CountingListener();
        var config = Path.Combine(_dir, "probe-gitconfig");
        await File.WriteAllTextAsync(config, $"[url \"http://127.0.0.1:{internalPort.Port}/\"]\n\tinsteadOf = https://git.egress.test/\n");
        async Task<RepoRoot?> ResolveAsync(string allow)
        {
            var discovery = new RepoDiscovery(new HttpClient(), new RepoDiscoveryOptions
            {
                // The scheme probe runs through the hardened git, which carries the policy.
                HardenedGit = new HardenedGit(new GitNetworkOptions
                {
                    GitConfigGlobal = config,
                    EgressPolicy = Policy(allow),
                    PrivateHome = Path.Combine(_dir, "probe-home-" + allow.Length),
                    UseNetrc = false,
                }),
                PingTimeout = TimeSpan.FromSeconds(20),
                CacheTtl = TimeSpan.Zero,
            });
            var (root, _) = await discovery.ResolveAsync("git.egress.test/team/repo.git/sub", default);
            return root;
        }

        // Every probe refused: the go command's fallback (git://) is then refused as insecure; nothing connected.
        Assert.Null(await ResolveAsync(""));
        Assert.Equal(0, internalPort.Connections);

        // Control: with the port allowed, the same probe does reach it.
        await ResolveAsync("127.0.0.1:" + internalPort.Port);
        Assert.True(internalPort.Connections > 0);
    }

    [Fact]
    public async Task Same_host_redirects_are_followed_and_cross_host_ones_are_not()
    {
        using var elsewhere = new CountingListener();
        var (app, url) = await LoopbackApp.StartAsync(async context =>
        {
            switch (context.Request.Path.Value)
            {
                case "/moved":
                    context.Response.Redirect("/here");
                    break;
                case "/away":
                    context.Response.Redirect($"http://127.0.0.2:{elsewhere.Port}/latest/meta-data/");
                    break;
                default:
                    await context.Response.WriteAsync("arrived");
                    break;
            }
        });
        try
        {
            var port = new Uri(url).Port;
            var policy = Policy($"127.0.0.1:{port},127.0.0.2:{elsewhere.Port}");
            using var client = new HttpClient(EgressHttpHandler.Create(policy, new SocketsHttpHandler()));
            Assert.Equal("arrived", await client.GetStringAsync(url + "/moved"));
            var ex = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetStringAsync(url + "/away"));
            Assert.Equal("cross-host redirect", EgressDeniedException.Find(ex)?.Kind);
            Assert.Equal(0, elsewhere.Connections);

            var denied = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetStringAsync($"http://127.0.0.1:{elsewhere.Port}/"));
            Assert.Equal("loopback", EgressDeniedException.Find(denied)?.Kind);
            Assert.Equal(0, elsewhere.Connections);
        }
        finally
        {
            await LoopbackApp.StopAsync(app);
        }
    }
}
