using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Warren.Server.Configuration;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

/// <summary>Warren in direct mode against a private repository served only with HTTP basic authentication (Kestrel in
/// front of git http-backend on 127.0.0.1), reached through the url.insteadOf recipe for github.com; the real go client
/// downloads through Warren. The secret must never show in a command line, a log line, a response or the store.</summary>
public sealed class DirectModeCredentialsTests : IAsyncLifetime
{
    private const string User = "alice";
    private const string Module = "github.com/private/repo";
    private const string Version = "v1.0.0";

    // Unique, so finding it anywhere can only mean a leak from this test.
    private readonly string _secret = "pw-" + Guid.NewGuid().ToString("N");
    private readonly string _dir = TestPaths.NewTempDir("direct-auth");
    private readonly CapturingLoggerProvider _logs = new();
    private readonly ResponseRecorder _responses = new();
    private HttpBackendServer _server = null!;
    private string _gitConfig = null!;
    private string _noNetrc = null!;

    /// <summary>The credentials key Warren looks up: host:port of the repository URL.</summary>
    private string HostKey => new Uri(_server.BaseUrl).Authority;

    public async Task InitializeAsync()
    {
        (_server, _gitConfig) = await HttpBackendServer.StartPrivateModuleAsync(_dir, Module, Version, User, _secret);

        // Warren must never fall back to the ~/.netrc of whoever runs the tests.
        _noNetrc = Path.Combine(_dir, "empty-netrc");
        await File.WriteAllTextAsync(_noNetrc, "");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TestPaths.TryDeleteDirectory(_dir);
    }

    [Fact]
    public async Task Without_credentials_the_go_command_fails_and_Warren_answers_not_found_for_authentication()
    {
        // Warren knows the secret, but for another host only: it must neither send it here nor show it.
        await using var warren = await StartWarrenAsync(o => o.GitCredentials["git.example.com"] = $"{User}:{_secret}");

        var go = await new GoRunner(warren.Url).RunAsync(TestPaths.NewTempDir("auth-go"), "mod", "download", "-json", $"{Module}@{Version}");
        Assert.True(go.ExitCode != 0, go.ToString());
        Assert.Contains("authentication failed", go.Stdout, StringComparison.Ordinal);

        foreach (var path in new[] { $"{Module}/@v/{Version}.info", $"{Module}/@v/list", $"{Module}/@latest" })
        {
            using var response = await warren.Client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone, $"{path}: {(int)response.StatusCode} {body}");
            Assert.Contains("authentication failed", body, StringComparison.Ordinal);
        }

        Assert.True(_server.UnauthorizedRequests > 0);
        Assert.Equal(0, _server.AuthorizedRequests);
        AssertSecretNowhere(warren, go.Stdout, go.Stderr);
    }

    [Fact]
    public async Task Host_credentials_let_the_go_command_download_the_module_with_the_sums_of_direct_mode()
    {
        await using var warren = await StartWarrenAsync(o => o.GitCredentials[HostKey] = $"{User}:{_secret}");

        await AssertDownloadsLikeDirectModeAsync(warren);
    }

    [Fact]
    public async Task Netrc_credentials_let_the_go_command_download_the_module_with_the_sums_of_direct_mode()
    {
        var netrc = Path.Combine(_dir, "warren-netrc");
        await File.WriteAllTextAsync(netrc, $"machine other.example.com login bob password nope\nmachine 127.0.0.1\n  login {User}\n  password {_secret}\n");
        await using var warren = await StartWarrenAsync(o => o.Netrc = netrc);

        await AssertDownloadsLikeDirectModeAsync(warren);
    }

    private Task<WarrenInstance> StartWarrenAsync(Action<WarrenOptionsBuilder> credentials) =>
        WarrenInstance.StartAsync("direct", o =>
        {
            o.GitConfig = _gitConfig;
            o.OutboundProxyBypass = "127.0.0.1,localhost";
            o.Netrc = _noNetrc;

            // Loopback is refused by the egress policy unless allowed: exactly the git server's port.
            o.EgressAllow = HostKey;

            // The test server is plain http on loopback; https-only is the default.
            o.GitCredentialsOverHttp = true;
            credentials(o);
        }, beforeStart: app =>
        {
            app.Services.GetRequiredService<ILoggerFactory>().AddProvider(_logs);
            _responses.Attach(app);
        });

    /// <summary>The go client downloads the module through Warren (while every command line is watched), gets the h1 sums
    /// the go command itself gets in direct mode (with a .netrc) from the same server, and `go mod verify` passes.</summary>
    private async Task AssertDownloadsLikeDirectModeAsync(WarrenInstance warren)
    {
        // Slow answers keep git's processes alive long enough to be seen by the scan.
        _server.Delay = TimeSpan.FromMilliseconds(300);
        var go = new GoRunner(warren.Url);
        var work = TestPaths.NewTempDir("auth-go");
        await File.WriteAllTextAsync(Path.Combine(work, "go.mod"), $"module example.com/use\n\ngo 1.19\n\nrequire {Module} {Version}\n");
        var (download, gitCommandLines) = await WhileScanningAsync(() => go.RunAsync(work, "mod", "download", "-json", $"{Module}@{Version}"));
        Assert.True(download.ExitCode == 0, download.ToString());
        Assert.Contains(gitCommandLines, c => c.Contains("remote-http", StringComparison.Ordinal));
        Assert.True(_server.AuthorizedRequests > 0);
        _server.Delay = TimeSpan.Zero;

        var verify = await go.RunAsync(work, "mod", "verify");
        Assert.True(verify.ExitCode == 0 && verify.Stdout.Contains("all modules verified", StringComparison.Ordinal), verify.ToString());

        var direct = await DirectModeDownloadAsync();
        Assert.Equal(Sums(direct), Sums(download));
        AssertSecretNowhere(warren, download.Stdout, download.Stderr, verify.Stdout, verify.Stderr);
    }

    /// <summary>The go command itself in direct mode against the same server: git reads the credentials from ~/.netrc.</summary>
    private async Task<ProcessResult> DirectModeDownloadAsync()
    {
        var home = TestPaths.NewTempDir("auth-direct");
        await File.WriteAllTextAsync(Path.Combine(home, ".netrc"), $"machine 127.0.0.1\n  login {User}\n  password {_secret}\n");
        var go = new GoRunner("direct", home).WithGitConfig(_gitConfig).With("NO_PROXY", "127.0.0.1,localhost");
        var result = await go.RunAsync(home, "mod", "download", "-json", $"{Module}@{Version}");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private static string Sums(ProcessResult download)
    {
        var o = GoRunner.JsonStream(download.Stdout).Single();
        var sum = o.GetProperty("Sum").GetString();
        Assert.StartsWith("h1:", sum, StringComparison.Ordinal);
        return $"{o.GetProperty("Path").GetString()} {o.GetProperty("Version").GetString()} {sum} {o.GetProperty("GoModSum").GetString()}";
    }

    /// <summary>Runs the operation while polling every process's command line; fails if one holds the secret. As a control,
    /// a git remote-http process must have been caught with the secret in its environment (the intended channel), so the
    /// scan demonstrably ran while the secret was in use. Returns the result and the git command lines seen.</summary>
    private async Task<(T Result, IReadOnlyList<string> GitCommandLines)> WhileScanningAsync<T>(Func<Task<T>> operation)
    {
        var (result, scan) = await ProcFs.ScanWhileAsync(_secret, operation, remoteHttpEnvironmentProbe: _secret);
        Assert.Empty(scan.Leaks);
        Assert.True(scan.EnvironmentProbeSeen, "no git remote-http process was seen holding the credentials");
        return (result, scan.GitCommandLines);
    }

    /// <summary>The secret is in no log line, no response Warren sent, no file of its store, and none of the texts.</summary>
    private void AssertSecretNowhere(WarrenInstance warren, params string[] texts)
    {
        var secret = Encoding.UTF8.GetBytes(_secret);
        Assert.NotEmpty(_logs.Lines);
        Assert.All(_logs.Lines, l => Assert.DoesNotContain(_secret, l, StringComparison.Ordinal));
        Assert.NotEmpty(_responses.Responses);
        Assert.All(_responses.Responses, r => Assert.True(r.Body.AsSpan().IndexOf(secret) < 0, $"the secret is in the response to {r.Path}"));
        var read = 0;
        foreach (var file in Directory.EnumerateFiles(warren.Root, "*", SearchOption.AllDirectories))
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (IOException) when (Path.GetFileName(file) is ".lock" or Storage.StoreLock.LockName)
            {
                // Held exclusively by the running server; a lock file is not where a credential could be written.
                continue;
            }

            read++;
            Assert.True(bytes.AsSpan().IndexOf(secret) < 0, $"the secret is in {file}");
        }

        Assert.True(read > 0);

        Assert.All(texts, t => Assert.DoesNotContain(_secret, t, StringComparison.Ordinal));
    }
}
