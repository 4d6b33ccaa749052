using Warren.Fetch.Direct.Discovery;
using Warren.Fetch.Direct.Git;

namespace Warren.Fetch.Direct.Tests.Git;

/// <summary>Git children never see the configuration or .netrc of the user Warren runs as: a fake user HOME holds a
/// .gitconfig whose credential helper writes a marker file and a .netrc with a "default" entry; both would leak
/// (the helper is shown a 401; libcurl would send the default password) if git read them. The repository is served
/// only with basic authentication on 127.0.0.1; the server records every Authorization header.</summary>
public sealed class HardenedGitTests : IAsyncLifetime
{
    private const string User = "alice";
    private const string ProbeHost = "git.example.test";

    private readonly string _secret = "pw-" + Guid.NewGuid().ToString("N");
    private readonly string _defaultSecret = "default-" + Guid.NewGuid().ToString("N");
    private readonly string _dir = TestPaths.NewTempDir("git-hardened");
    private HttpBackendServer _server = null!;
    private string _userHome = null!;
    private string _marker = null!;

    private string Url => $"{_server.BaseUrl}/team/private";

    public async Task InitializeAsync()
    {
        var repos = Path.Combine(_dir, "repos");
        TestGit.CreateUpstream(repos, "team/private").Commit("first", "v1.0.0");
        _server = await HttpBackendServer.StartAsync(repos, User, _secret);

        // The user's own files: a credential helper that leaves a trace, a .netrc whose only usable entry is "default".
        _userHome = Directory.CreateDirectory(Path.Combine(_dir, "user-home")).FullName;
        _marker = Path.Combine(_dir, "helper-was-called");
        await File.WriteAllTextAsync(Path.Combine(_userHome, ".gitconfig"),
            $"[credential]\n\thelper = \"!f() {{ echo called >> '{_marker}'; echo username={User}; echo password={_defaultSecret}; }}; f\"\n");
        await File.WriteAllTextAsync(Path.Combine(_userHome, ".netrc"), $"machine other.example.com login bob password nope\ndefault login {User} password {_defaultSecret}\n");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TestPaths.TryDeleteDirectory(_dir);
    }

    /// <summary>A runner as Warren would inherit it: HOME is the user's, nothing else overrides git's configuration.</summary>
    private GitRunner UserRunner()
    {
        var runner = new GitRunner();
        runner.Environment["HOME"] = _userHome;
        runner.Environment["XDG_CONFIG_HOME"] = Path.Combine(_userHome, ".config");
        runner.RemovedEnvironment.Add("GIT_CONFIG_GLOBAL");
        runner.RemovedEnvironment.Add("GIT_CONFIG_NOSYSTEM");
        runner.RemovedEnvironment.Add("NETRC");
        return runner;
    }

    private HardenedGit Hardened(string? netrc = null, bool overHttp = true, string? gitConfig = null) =>
        new(new GitNetworkOptions
        {
            PrivateHome = Path.Combine(_dir, "warren-home-" + Guid.NewGuid().ToString("N")[..6]),
            GitConfigGlobal = gitConfig,
            UseNetrc = netrc is not null,
            NetrcPath = netrc,
            AllowCredentialsOverHttp = overHttp,
            NoProxy = "127.0.0.1,localhost",

            // No ssh or git:// probes: they would resolve the made-up host name.
            AllowedSchemes = ["https", "http"],
        }, UserRunner());

    private async Task<string> WriteAsync(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        await File.WriteAllTextAsync(path, content);
        return path;
    }

    [Fact]
    public async Task Control_plain_git_with_the_user_home_calls_the_helper_and_sends_the_netrc_default_entry()
    {
        // Proves the fixture can see both leaks, so their absence below means something.
        var run = await UserRunner().RunAsync(_dir, ["ls-remote", Url], TimeSpan.FromSeconds(60), default);

        Assert.True(File.Exists(_marker) || _server.BasicPasswords.Contains(_defaultSecret), run.Stderr);
    }

    [Fact]
    public async Task The_git_suffix_probe_runs_hardened_and_ignores_the_user_configuration()
    {
        // The operator's configuration (the only one git reads) sends the made-up host to the test server.
        var gitConfig = await WriteAsync("warren-gitconfig", $"[url \"{_server.BaseUrl}/\"]\n\tinsteadOf = https://{ProbeHost}/\n");
        var hardened = Hardened(gitConfig: gitConfig);
        using var http = new HttpClient(new NoNetworkHandler());
        var discovery = new RepoDiscovery(http, new RepoDiscoveryOptions { HardenedGit = hardened, PingTimeout = TimeSpan.FromSeconds(60) });

        await discovery.ResolveAsync($"{ProbeHost}/team/private.git", default);

        Assert.True(_server.UnauthorizedRequests > 0, "the probe reached the server and was asked for credentials");
        Assert.False(File.Exists(_marker), "the user's credential helper was called");
        Assert.DoesNotContain(_defaultSecret, _server.BasicPasswords);
        Assert.Equal(0, _server.AuthorizedRequests);
        Assert.Equal("", await File.ReadAllTextAsync(Path.Combine(hardened.Home, HardenedGit.EmptyConfigName)));
    }

    [Fact]
    public async Task The_git_suffix_probe_uses_a_netrc_machine_entry_through_warrens_helper()
    {
        var gitConfig = await WriteAsync("warren-gitconfig2", $"[url \"{_server.BaseUrl}/\"]\n\tinsteadOf = https://{ProbeHost}/\n");
        var netrc = await WriteAsync("netrc-machine", $"machine 127.0.0.1 login {User} password {_secret}\ndefault login {User} password {_defaultSecret}\n");
        using var http = new HttpClient(new NoNetworkHandler());
        var discovery = new RepoDiscovery(http, new RepoDiscoveryOptions { HardenedGit = Hardened(netrc, gitConfig: gitConfig), PingTimeout = TimeSpan.FromSeconds(60) });

        var (root, result) = await discovery.ResolveAsync($"{ProbeHost}/team/private.git/sub", default);

        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(new RepoRoot($"{ProbeHost}/team/private.git", "git", $"https://{ProbeHost}/team/private"), root);
        Assert.True(_server.AuthorizedRequests > 0);
        Assert.Contains(_secret, _server.BasicPasswords);
        Assert.DoesNotContain(_defaultSecret, _server.BasicPasswords);
        Assert.False(File.Exists(_marker));
    }

    [Fact]
    public async Task A_netrc_default_entry_is_never_sent_while_a_machine_entry_is_used()
    {
        // Warren's .netrc and the user's ~/.netrc both have the default entry; neither git, libcurl nor Warren may use it.
        var onlyDefault = await WriteAsync("netrc-default", $"machine other.example.com login bob password nope\ndefault login {User} password {_defaultSecret}\n");
        using (var manager = new GitMirrorManager(MirrorOptions(onlyDefault), Hardened(onlyDefault)))
        {
            var (gitDir, result) = await manager.EnsureAsync(Url, default);

            Assert.Null(gitDir);
            Assert.Equal(DirectStatus.NotFound, result.Status);
            Assert.Contains("authentication failed", result.Message, StringComparison.Ordinal);
        }

        Assert.True(_server.UnauthorizedRequests > 0);
        Assert.DoesNotContain(_defaultSecret, _server.BasicPasswords);
        Assert.False(File.Exists(_marker));

        var withMachine = await WriteAsync("netrc-machine2", $"machine 127.0.0.1 login {User} password {_secret}\ndefault login {User} password {_defaultSecret}\n");
        using (var manager = new GitMirrorManager(MirrorOptions(withMachine), Hardened(withMachine)))
        {
            var (gitDir, result) = await manager.EnsureAsync(Url, default);

            Assert.Equal(DirectResult.Success, result);
            Assert.NotNull(gitDir);
        }

        Assert.Contains(_secret, _server.BasicPasswords);
        Assert.DoesNotContain(_defaultSecret, _server.BasicPasswords);
        Assert.False(File.Exists(_marker));
    }

    [Fact]
    public async Task Netrc_credentials_never_go_over_plain_http_unless_allowed()
    {
        // Also in the user's ~/.netrc: libcurl would send it over http if it could read that file.
        var netrc = await WriteAsync("netrc-http", $"machine 127.0.0.1 login {User} password {_secret}\n");
        await File.WriteAllTextAsync(Path.Combine(_userHome, ".netrc"), $"machine 127.0.0.1 login {User} password {_secret}\n");
        var hardened = Hardened(netrc, overHttp: false);
        using (var manager = new GitMirrorManager(MirrorOptions(netrc, overHttp: false), hardened))
        {
            var (_, refused) = await manager.EnsureAsync(Url, default);
            Assert.Equal(DirectStatus.NotFound, refused.Status);
        }

        var (probe, _) = await hardened.LsRemoteAsync(Url, TimeSpan.FromSeconds(60), default);
        Assert.Equal(DirectStatus.NotFound, probe.Status);

        Assert.True(_server.UnauthorizedRequests > 0);
        Assert.Empty(_server.AuthorizationHeaders);

        // Allowed: the same .netrc entry is used.
        var (allowed, _) = await Hardened(netrc, overHttp: true).LsRemoteAsync(Url, TimeSpan.FromSeconds(60), default);
        Assert.Equal(DirectResult.Success, allowed);
        Assert.Contains(_secret, _server.BasicPasswords);
    }

    [Fact]
    public async Task Git_children_get_a_private_home_and_no_inherited_configuration_variables()
    {
        var hardened = Hardened();
        var env = hardened.BaseEnvironment;

        Assert.Equal(hardened.Home, env["HOME"]);
        Assert.StartsWith(hardened.Home, env["XDG_CONFIG_HOME"], StringComparison.Ordinal);
        Assert.Equal(Path.Combine(hardened.Home, HardenedGit.EmptyConfigName), env["GIT_CONFIG_GLOBAL"]);
        Assert.Equal("1", env["GIT_CONFIG_NOSYSTEM"]);
        Assert.Equal("https:http", env["GIT_ALLOW_PROTOCOL"]);
        Assert.Contains("BatchMode=yes", env["GIT_SSH_COMMAND"], StringComparison.Ordinal);
        Assert.Contains("GIT_CONFIG_PARAMETERS", hardened.Runner.RemovedEnvironment);
        Assert.Contains("GIT_CONFIG_COUNT", hardened.Runner.RemovedEnvironment);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(hardened.Home));
        }

        // git itself sees the private home and an empty global configuration.
        var run = await hardened.RunLocalAsync(null, ["config", "--global", "--list", "--show-origin"], TimeSpan.FromSeconds(30), default);
        Assert.DoesNotContain("credential", run.StdoutText + run.Stderr, StringComparison.Ordinal);

        // Something left in the home by an earlier run is removed when the next one starts.
        await File.WriteAllTextAsync(Path.Combine(hardened.Home, ".netrc"), "default login x password y\n");
        var again = new HardenedGit(new GitNetworkOptions { PrivateHome = hardened.Home, UseNetrc = false });
        Assert.False(File.Exists(Path.Combine(again.Home, ".netrc")));
    }

    [Fact]
    public async Task Git_children_get_the_proxies_of_the_options_and_no_other()
    {
        // "env" stands in for git: it prints the environment a git child is started with.
        async Task<string> ChildEnvironmentAsync(GitNetworkOptions options)
        {
            var run = await new HardenedGit(options, new GitRunner("env")).RunLocalAsync(null, [], TimeSpan.FromSeconds(30), default);
            Assert.True(run.Ok, run.Stderr);
            return run.StdoutText;
        }

        // Without proxies in the options, none of the variables reaches git (whatever this process's environment holds).
        var home = Path.Combine(_dir, "proxy-home");
        var none = (await ChildEnvironmentAsync(new GitNetworkOptions { PrivateHome = home, UseNetrc = false })).Split('\n');
        Assert.DoesNotContain(none, l => l.StartsWith("http_proxy=", StringComparison.OrdinalIgnoreCase)
            || l.StartsWith("https_proxy=", StringComparison.OrdinalIgnoreCase) || l.StartsWith("no_proxy=", StringComparison.OrdinalIgnoreCase));

        var some = await ChildEnvironmentAsync(new GitNetworkOptions { PrivateHome = home, UseNetrc = false, HttpsProxy = "http://proxy.example:3128", NoProxy = "127.0.0.1" });
        var lines = some.Split('\n');
        Assert.Contains("https_proxy=http://proxy.example:3128", lines);
        Assert.Contains("HTTPS_PROXY=http://proxy.example:3128", lines);
        Assert.Contains("no_proxy=127.0.0.1", lines);
        Assert.Contains("NO_PROXY=127.0.0.1", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("http_proxy=", StringComparison.OrdinalIgnoreCase));
    }

    private GitMirrorOptions MirrorOptions(string netrc, bool overHttp = true) => new()
    {
        MirrorRoot = Path.Combine(_dir, "mirrors-" + Guid.NewGuid().ToString("N")[..6]),
        NetrcPath = netrc,
        AllowCredentialsOverHttp = overHttp,
        NoProxy = "127.0.0.1,localhost",
    };

    /// <summary>".git"-suffix paths need no HTTP request; any would go to a made-up host.</summary>
    private sealed class NoNetworkHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no HTTP request expected: " + request.RequestUri);
    }
}
