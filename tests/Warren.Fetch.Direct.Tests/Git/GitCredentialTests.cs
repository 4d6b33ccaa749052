using Warren.Fetch.Direct.Git;

namespace Warren.Fetch.Direct.Tests.Git;

/// <summary>A repository served only with HTTP basic authentication (Kestrel in front of git http-backend).</summary>
public sealed class GitCredentialTests : IAsyncLifetime
{
    private const string User = "alice";

    // Unique, so finding it anywhere can only mean a leak from this test.
    private readonly string _secret = "pw-" + Guid.NewGuid().ToString("N");
    private readonly string _dir = TestPaths.NewTempDir("git-auth");
    private readonly CapturingLogger _log = new();
    private HttpBackendServer _server = null!;
    private UpstreamRepo _upstream = null!;

    private string Url => $"{_server.BaseUrl}/team/private.git";

    private string Authority => new Uri(_server.BaseUrl).Authority;

    public async Task InitializeAsync()
    {
        var repos = Path.Combine(_dir, "repos");
        _upstream = TestGit.CreateUpstream(repos, "team/private.git");
        _upstream.Commit("first", "v1.0.0");
        _server = await HttpBackendServer.StartAsync(repos, User, _secret);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private GitMirrorManager NewManager(IReadOnlyDictionary<string, GitCredential>? credentials = null, string? netrc = null, bool allowHttp = true) =>
        new(new GitMirrorOptions
        {
            MirrorRoot = Path.Combine(_dir, "mirrors-" + Guid.NewGuid().ToString("N")[..6]),
            GitConfigGlobal = "/dev/null",
            IgnoreSystemGitConfig = true,
            UseNetrc = netrc is not null,
            NetrcPath = netrc,
            Credentials = credentials ?? new Dictionary<string, GitCredential>(),
            AllowCredentialsOverHttp = allowHttp,
            NoProxy = "127.0.0.1,localhost",
        }, logger: _log);

    /// <summary>Runs the operation while polling every process's command line; returns what git processes were seen.
    /// As a control, it also checks that a git-remote-http process was caught holding the secret in its environment
    /// (the intended channel), so the scan demonstrably ran while the secret was in use.</summary>
    private async Task<(T Result, IReadOnlyList<string> GitCommandLines)> WhileScanningAsync<T>(Func<Task<T>> operation)
    {
        var (result, scan) = await ProcFs.ScanWhileAsync(_secret, operation, "WARREN_GIT_CREDENTIAL_PASSWORD=" + _secret);
        Assert.Empty(scan.Leaks);
        Assert.True(scan.EnvironmentProbeSeen);
        return (result, scan.GitCommandLines);
    }

    private void AssertNoSecretAnywhere(GitMirrorManager manager, params DirectResult[] results)
    {
        foreach (var r in results)
        {
            Assert.DoesNotContain(_secret, r.Message, StringComparison.Ordinal);
        }

        Assert.All(_log.Lines, l => Assert.DoesNotContain(_secret, l, StringComparison.Ordinal));
        foreach (var file in Directory.EnumerateFiles(manager.MirrorRoot, "*", SearchOption.AllDirectories))
        {
            if (!file.Contains($"{Path.DirectorySeparatorChar}objects{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                Assert.DoesNotContain(_secret, File.ReadAllText(file), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Without_credentials_the_repository_is_not_found_for_authentication()
    {
        using var manager = NewManager();

        var (gitDir, result) = await manager.EnsureAsync(Url, default);

        Assert.Null(gitDir);
        Assert.Equal(DirectStatus.NotFound, result.Status);
        Assert.Equal($"git ls-remote {Url}: authentication failed (no credentials or credentials refused)", result.Message);
        Assert.True(_server.UnauthorizedRequests > 0);
        Assert.Equal(0, _server.AuthorizedRequests);
    }

    [Fact]
    public async Task Refused_credentials_are_not_found_and_not_repeated_in_the_message()
    {
        const string wrong = "wrong-password-123";
        using var manager = NewManager(new Dictionary<string, GitCredential> { [Authority] = new(User, wrong) });

        var (_, result) = await manager.EnsureAsync(Url, default);

        Assert.Equal(DirectStatus.NotFound, result.Status);
        Assert.Contains("authentication failed", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, result.Message, StringComparison.Ordinal);
        Assert.All(_log.Lines, l => Assert.DoesNotContain(wrong, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Netrc_credentials_work_and_never_appear_in_a_command_line_message_or_log()
    {
        var netrc = Path.Combine(_dir, "netrc");
        await File.WriteAllTextAsync(netrc, $"machine other.example.com login bob password nope\nmachine 127.0.0.1\n  login {User}\n  password {_secret}\n");
        using var manager = NewManager(netrc: netrc);
        _server.Delay = TimeSpan.FromMilliseconds(400);

        var ((gitDir, ensure), seen) = await WhileScanningAsync(() => manager.EnsureAsync(Url, default));

        Assert.Equal(DirectResult.Success, ensure);
        Assert.Contains(seen, c => c.Contains("remote-http", StringComparison.Ordinal));
        Assert.Equal("v1.0.0", TestGit.Run(null, "--git-dir=" + gitDir, "tag", "--list"));

        // An incremental fetch authenticates the same way.
        _upstream.Commit("second", "v1.1.0");
        var (refresh, seenFetch) = await WhileScanningAsync(() => manager.RefreshAsync(Url, force: true, default));
        Assert.Equal(DirectResult.Success, refresh);
        Assert.Contains(seenFetch, c => c.Contains("remote-http", StringComparison.Ordinal));
        Assert.Equal(1, manager.GetStats(Url).Fetches);
        Assert.Contains("v1.1.0", TestGit.Run(null, "--git-dir=" + gitDir, "tag", "--list"), StringComparison.Ordinal);
        AssertNoSecretAnywhere(manager, ensure, refresh);
    }

    [Fact]
    public async Task Host_configured_credentials_work_and_never_appear_in_a_command_line_message_or_log()
    {
        using var manager = NewManager(new Dictionary<string, GitCredential> { [Authority] = new(User, _secret) });
        _server.Delay = TimeSpan.FromMilliseconds(400);

        var ((_, result), seen) = await WhileScanningAsync(() => manager.EnsureAsync(Url, default));

        Assert.Equal(DirectResult.Success, result);
        Assert.Contains(seen, c => c.Contains("remote-http", StringComparison.Ordinal));
        Assert.True(_server.AuthorizedRequests >= 2);
        AssertNoSecretAnywhere(manager, result);
    }

    [Fact]
    public async Task Host_name_key_without_port_and_a_token_credential_work()
    {
        using var manager = NewManager(new Dictionary<string, GitCredential> { ["127.0.0.1"] = GitCredential.FromToken(_secret, User) });

        var (_, result) = await manager.EnsureAsync(Url, default);

        Assert.Equal(DirectResult.Success, result);
        Assert.DoesNotContain(_secret, GitCredential.FromToken(_secret).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credentials_in_the_url_are_taken_out_of_it()
    {
        using var manager = NewManager();
        var withSecret = Url.Replace("http://", $"http://{User}:{_secret}@", StringComparison.Ordinal);
        _server.Delay = TimeSpan.FromMilliseconds(300);

        var ((gitDir, result), _) = await WhileScanningAsync(() => manager.EnsureAsync(withSecret, default));

        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(Url, TestGit.Run(null, "--git-dir=" + gitDir, "config", "remote.origin.url"));
        Assert.Equal(manager.GetMirrorDirectory(Url), gitDir);
        AssertNoSecretAnywhere(manager, result);
        Assert.DoesNotContain(_secret, manager.Redact($"fatal: unable to access '{withSecret}/'"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credentials_are_not_sent_over_plain_http_unless_allowed_nor_to_another_host()
    {
        using var noHttp = NewManager(new Dictionary<string, GitCredential> { [Authority] = new(User, _secret) }, allowHttp: false);
        var (_, refused) = await noHttp.EnsureAsync(Url, default);
        Assert.Equal(DirectStatus.NotFound, refused.Status);
        Assert.Contains("authentication failed", refused.Message, StringComparison.Ordinal);

        using var otherHost = NewManager(new Dictionary<string, GitCredential> { ["git.example.com"] = new(User, _secret) });
        var (_, other) = await otherHost.EnsureAsync(Url, default);
        Assert.Equal(DirectStatus.NotFound, other.Status);
        Assert.Equal(0, _server.AuthorizedRequests);
    }

    [Fact]
    public async Task Per_host_limit_bounds_concurrent_git_network_operations()
    {
        var repos = Path.Combine(_dir, "repos");
        for (var i = 0; i < 3; i++)
        {
            TestGit.CreateUpstream(repos, $"team/r{i}.git").Commit("first", "v1.0.0");
        }

        using var manager = new GitMirrorManager(new GitMirrorOptions
        {
            MirrorRoot = Path.Combine(_dir, "limited"),
            GitConfigGlobal = "/dev/null",
            UseNetrc = false,
            AllowCredentialsOverHttp = true,
            Credentials = new Dictionary<string, GitCredential> { ["127.0.0.1"] = new(User, _secret) },
            MaxConcurrentOperationsPerHost = 1,
            NoProxy = "127.0.0.1",
        });
        _server.Delay = TimeSpan.FromMilliseconds(150);

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => manager.EnsureAsync($"{_server.BaseUrl}/team/r{i}.git", default)));

        Assert.All(results, r => Assert.Equal(DirectResult.Success, r.Result));
        Assert.Equal(1, _server.MaxConcurrentRequests);
    }

    [Fact]
    public async Task A_slow_server_hits_the_operation_timeout()
    {
        using var manager = new GitMirrorManager(new GitMirrorOptions
        {
            MirrorRoot = Path.Combine(_dir, "timeout"),
            GitConfigGlobal = "/dev/null",
            UseNetrc = false,
            OperationTimeout = TimeSpan.FromSeconds(1),
            NoProxy = "127.0.0.1",
        });
        _server.Delay = TimeSpan.FromSeconds(4);

        var (gitDir, result) = await manager.EnsureAsync(Url, default);

        Assert.Null(gitDir);
        Assert.Equal(DirectResult.TimedOut($"git ls-remote {Url}: timed out after 1s"), result);
        Assert.Empty(Directory.GetFileSystemEntries(manager.MirrorRoot));
    }
}
