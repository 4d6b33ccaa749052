using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

/// <summary>`warren serve` started by a user whose own git configuration would leak: HOME holds a .gitconfig whose
/// credential helper writes a marker file and a .netrc with only a "default" entry. The real go client downloads a
/// ".git"-suffix module (discovery probes the repository with git ls-remote) from a repository served only with basic
/// authentication on 127.0.0.1; Warren's own .netrc has the right machine entry and its GitConfig maps the made-up host
/// (for https and ssh, so nothing leaves loopback) to the test server. The marker never appears, the default entry's
/// password is never sent, and the private home under the store is what git saw.</summary>
public sealed class HardenedGitServeTests : IAsyncLifetime
{
    private const string User = "alice";
    private const string Host = "git.example.test";
    private const string Module = Host + "/team/private.git";
    private const string Version = "v1.0.0";

    private readonly string _secret = "pw-" + Guid.NewGuid().ToString("N");
    private readonly string _defaultSecret = "default-" + Guid.NewGuid().ToString("N");
    private readonly string _dir = TestPaths.NewTempDir("serve-hardened");
    private HttpBackendServer _server = null!;

    public async Task InitializeAsync()
    {
        var repos = Path.Combine(_dir, "repos");
        TestGit.CreateUpstream(repos, "team/private")
            .Write("go.mod", $"module {Module}\n\ngo 1.19\n")
            .Write("p.go", "package p\n\n// Answer is the answer.\nfunc Answer() int { return 42 }\n")
            .Commit("first", Version);
        _server = await HttpBackendServer.StartAsync(repos, User, _secret);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TestPaths.TryDeleteDirectory(_dir);
    }

    [Fact]
    public async Task The_git_probe_and_mirror_of_warren_serve_ignore_the_users_git_config_and_netrc()
    {
        var home = Directory.CreateDirectory(Path.Combine(_dir, "user-home")).FullName;
        var marker = Path.Combine(_dir, "helper-was-called");
        await File.WriteAllTextAsync(Path.Combine(home, ".gitconfig"),
            $"[credential]\n\thelper = \"!f() {{ echo called >> '{marker}'; echo username={User}; echo password={_defaultSecret}; }}; f\"\n");
        await File.WriteAllTextAsync(Path.Combine(home, ".netrc"), $"default login {User} password {_defaultSecret}\n");

        var gitConfig = Path.Combine(_dir, "warren-gitconfig");
        await File.WriteAllTextAsync(gitConfig,
            $"[url \"{_server.BaseUrl}/\"]\n\tinsteadOf = https://{Host}/\n\tinsteadOf = ssh://{Host}/\n\tinsteadOf = git+ssh://{Host}/\n");
        var netrc = Path.Combine(_dir, "warren-netrc");
        await File.WriteAllTextAsync(netrc, $"machine 127.0.0.1 login {User} password {_secret}\ndefault login {User} password {_defaultSecret}\n");

        var root = TestPaths.NewTempDir("serve-hardened-store");
        var env = new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["XDG_CONFIG_HOME"] = Path.Combine(home, ".config"),
            ["GIT_CONFIG_GLOBAL"] = Path.Combine(home, ".gitconfig"),
            ["NETRC"] = Path.Combine(home, ".netrc"),
            ["WARREN_NETRC"] = netrc,
            ["WARREN_GITCONFIG"] = gitConfig,
            ["WARREN_GITCREDENTIALSOVERHTTP"] = "true",
            ["WARREN_OUTBOUNDPROXYBYPASS"] = "127.0.0.1,localhost",
        };
        var port = new Uri(_server.BaseUrl).Port;
        using var warren = await WarrenProcess.StartAsync(root, "direct", env, "--egress-allow", $"127.0.0.1:{port}");
        var go = new GoRunner(warren.Url);

        var result = await go.RunAsync(TestPaths.NewTempDir("serve-hardened-go"), "mod", "download", "-json", $"{Module}@{Version}");

        Assert.True(result.ExitCode == 0, result + "\n" + warren.Output);
        Assert.StartsWith("h1:", GoRunner.JsonStream(result.Stdout).Single().GetProperty("Sum").GetString(), StringComparison.Ordinal);
        Assert.True(_server.AuthorizedRequests > 0);
        Assert.Contains(_secret, _server.BasicPasswords);
        Assert.DoesNotContain(_defaultSecret, _server.BasicPasswords);
        Assert.False(File.Exists(marker), "the user's credential helper was called");

        var privateHome = Path.Combine(root, ".warren", "home");
        Assert.True(Directory.Exists(privateHome));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(privateHome));
        }

        Assert.DoesNotContain(_secret, warren.Output, StringComparison.Ordinal);
    }
}
