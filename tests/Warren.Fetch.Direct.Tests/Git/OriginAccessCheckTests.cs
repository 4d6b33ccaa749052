using Warren.Fetch.Direct.Git;

namespace Warren.Fetch.Direct.Tests.Git;

/// <summary><see cref="GitMirrorManager.CheckAccessAsync"/> (origin authorization): one ls-remote with the client's
/// credential and no other, against a repository served only with basic authentication.</summary>
public sealed class OriginAccessCheckTests : IAsyncLifetime
{
    private const string User = "alice";

    private readonly string _secret = "pw-" + Guid.NewGuid().ToString("N");
    private readonly string _dir = TestPaths.NewTempDir("origin-access");
    private readonly CapturingLogger _log = new();
    private HttpBackendServer _server = null!;

    private string Url => $"{_server.BaseUrl}/team/private.git";

    private string Authority => new Uri(_server.BaseUrl).Authority;

    public async Task InitializeAsync()
    {
        var repos = Path.Combine(_dir, "repos");
        TestGit.CreateUpstream(repos, "team/private.git").Commit("first", "v1.0.0");
        _server = await HttpBackendServer.StartAsync(repos, User, _secret);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TestPaths.TryDeleteDirectory(_dir);
    }

    [Fact]
    public async Task The_clients_credential_decides_never_the_configured_or_netrc_one_and_it_stays_out_of_command_lines()
    {
        // Warren itself may read the repository, by configuration and by .netrc.
        var netrc = Path.Combine(_dir, "netrc");
        await File.WriteAllTextAsync(netrc, $"machine 127.0.0.1 login {User} password {_secret}\n");
        var recorder = new RecordingGitRunner();
        using var manager = NewManager(recorder, netrc, new Dictionary<string, GitCredential> { [Authority] = new(User, _secret) });
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");

        var refused = await manager.CheckAccessAsync(Url, new GitCredential(User, wrong), TimeSpan.FromSeconds(30), default);
        Assert.Equal(DirectStatus.NotFound, refused.Status);
        Assert.Equal($"git ls-remote {Url}: authentication failed (no credentials or credentials refused)", refused.Message);

        var otherUser = await manager.CheckAccessAsync(Url, new GitCredential("mallory", _secret), TimeSpan.FromSeconds(30), default);
        Assert.Equal(DirectStatus.NotFound, otherUser.Status);

        _server.Delay = TimeSpan.FromMilliseconds(300);
        var (allowed, scan) = await ProcFs.ScanWhileAsync(_secret,
            () => manager.CheckAccessAsync(Url, new GitCredential(User, _secret), TimeSpan.FromSeconds(30), default),
            "WARREN_GIT_CREDENTIAL_PASSWORD=" + _secret);
        Assert.Equal(DirectResult.Success, allowed);
        Assert.Empty(scan.Leaks);
        Assert.True(scan.EnvironmentProbeSeen);

        var missing = await manager.CheckAccessAsync($"{_server.BaseUrl}/team/none.git", new GitCredential(User, _secret), TimeSpan.FromSeconds(30), default);
        Assert.Equal(DirectStatus.NotFound, missing.Status);

        // git ran with the private HOME (no ~/.netrc for curl), never with a secret in its arguments, and no mirror was made.
        var lsRemotes = recorder.Runs.Where(r => r.Args.Contains("HEAD")).ToList();
        Assert.Equal(4, lsRemotes.Count);
        Assert.All(recorder.Runs, r =>
        {
            Assert.DoesNotContain(r.Args, a => a.Contains(_secret, StringComparison.Ordinal) || a.Contains(wrong, StringComparison.Ordinal));
            var home = r.Environment["HOME"];
            // The hardened private home holds only git's empty configuration: no .netrc, no credential store.
            Assert.True(Directory.Exists(home), home);
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories),
                f => Path.GetFileName(f) is ".netrc" or "_netrc" or ".git-credentials" || (File.Exists(f) && new FileInfo(f).Length > 0));
        });
        Assert.Equal(wrong, lsRemotes[0].Environment["WARREN_GIT_CREDENTIAL_PASSWORD"]);
        Assert.Equal("mallory", lsRemotes[1].Environment["WARREN_GIT_CREDENTIAL_USERNAME"]);
        Assert.False(Directory.Exists(manager.GetMirrorDirectory(Url)));
        Assert.Equal(0, manager.GetStats(Url).RemoteChecks);
        Assert.All(_log.Lines, l => Assert.DoesNotContain(wrong, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Over_plain_http_without_permission_no_credential_is_sent_and_no_helper_may_answer()
    {
        var recorder = new RecordingGitRunner();
        using var manager = NewManager(recorder, null, new Dictionary<string, GitCredential> { [Authority] = new(User, _secret) }, allowHttp: false);

        var result = await manager.CheckAccessAsync(Url, new GitCredential(User, _secret), TimeSpan.FromSeconds(30), default);

        Assert.Equal(DirectStatus.NotFound, result.Status);
        Assert.Equal(0, _server.AuthorizedRequests);
        var ls = recorder.Runs.Single(r => r.Args.Contains("HEAD"));
        Assert.False(ls.Environment.ContainsKey("WARREN_GIT_CREDENTIAL_PASSWORD"));
        var count = int.Parse(ls.Environment["GIT_CONFIG_COUNT"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("credential.helper", ls.Environment[$"GIT_CONFIG_KEY_{count - 1}"]);
        Assert.Equal("", ls.Environment[$"GIT_CONFIG_VALUE_{count - 1}"]);
    }

    [Fact]
    public async Task A_host_that_refuses_connections_is_a_failure_not_a_refusal()
    {
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        using var manager = NewManager(new RecordingGitRunner(), null, new Dictionary<string, GitCredential>());

        var result = await manager.CheckAccessAsync($"http://127.0.0.1:{port}/team/private.git", new GitCredential(User, _secret), TimeSpan.FromSeconds(30), default);

        Assert.Equal(DirectStatus.Failed, result.Status);
        Assert.DoesNotContain(_secret, result.Message, StringComparison.Ordinal);
    }

    private GitMirrorManager NewManager(GitRunner git, string? netrc, IReadOnlyDictionary<string, GitCredential> credentials, bool allowHttp = true) =>
        new(new GitMirrorOptions
        {
            MirrorRoot = Path.Combine(_dir, "mirrors-" + Guid.NewGuid().ToString("N")[..6]),
            GitConfigGlobal = "/dev/null",
            IgnoreSystemGitConfig = true,
            UseNetrc = netrc is not null,
            NetrcPath = netrc,
            Credentials = credentials,
            AllowCredentialsOverHttp = allowHttp,
            NoProxy = "127.0.0.1,localhost",
        }, git, _log);

    /// <summary>Runs the real git and keeps each invocation's arguments and extra environment.</summary>
    private sealed class RecordingGitRunner : GitRunner
    {
        public System.Collections.Concurrent.ConcurrentQueue<(IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Environment)> Runs { get; } = new();

        public override Task<GitRun> RunAsync(string? workingDirectory, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken,
            string? stdoutFile = null, IReadOnlyDictionary<string, string>? extraEnvironment = null)
        {
            Runs.Enqueue((args.ToList(), new Dictionary<string, string>(extraEnvironment ?? new Dictionary<string, string>())));
            return base.RunAsync(workingDirectory, args, timeout, cancellationToken, stdoutFile, extraEnvironment);
        }
    }
}
