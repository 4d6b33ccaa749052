using System.Text;
using Microsoft.AspNetCore.Http;
using Warren.Core.SumDb;
using Warren.Tools.Reporting;

namespace Warren.Tools.Tests.Doctor;

/// <summary>A private module on a git server that demands basic authentication (git http-backend behind Kestrel on
/// 127.0.0.1, reached through url.insteadOf for github.com), required by a go.mod: the doctor's verdicts on access and
/// on the checksum database, each checked against what the real go client does.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DoctorPrivateModuleTests : IAsyncLifetime
{
    private const string User = "alice";
    private const string Module = "github.com/private/repo";
    private const string Version = "v1.0.0";

    private readonly string _secret = "pw-" + Guid.NewGuid().ToString("N");
    private readonly string _dir = TestPaths.NewTempDir("doctor-private");
    private HttpBackendServer _server = null!;
    private FakeUpstream _emptyProxy = null!;
    private string _gitConfig = null!;
    private string _moduleDir = null!;

    public async Task InitializeAsync()
    {
        (_server, _gitConfig) = await HttpBackendServer.StartPrivateModuleAsync(_dir, Module, Version, User, _secret);
        var empty = Path.Combine(_dir, "empty-proxy");
        Directory.CreateDirectory(empty);
        _emptyProxy = await FakeUpstream.StartAsync(empty);
        _moduleDir = Path.Combine(_dir, "use");
        Directory.CreateDirectory(_moduleDir);
        await File.WriteAllTextAsync(Path.Combine(_moduleDir, "go.mod"), $"module example.com/use\n\ngo 1.19\n\nrequire {Module} {Version}\n");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _emptyProxy.DisposeAsync();
        TestPaths.TryDeleteDirectory(_dir);
    }

    /// <summary>GOPRIVATE covers the module; git reads the insteadOf recipe and nothing else of the machine.</summary>
    private Dictionary<string, string?> PrivateEnvironment()
    {
        var env = DoctorSupport.Environment(_emptyProxy.Url + ",direct");
        env["GOPRIVATE"] = "github.com/private";
        env["GIT_CONFIG_GLOBAL"] = _gitConfig;
        env["GIT_TERMINAL_PROMPT"] = "0";
        env["NO_PROXY"] = "127.0.0.1,localhost";
        return env;
    }

    private static async Task WriteNetrcAsync(string home, string password, UnixFileMode mode)
    {
        var netrc = Path.Combine(home, ".netrc");
        await File.WriteAllTextAsync(netrc, $"machine 127.0.0.1\n  login {User}\n  password {password}\n");
        File.SetUnixFileMode(netrc, mode);
    }

    [Fact]
    public async Task Without_credentials_private_access_fails_like_the_go_command()
    {
        var env = PrivateEnvironment();
        var report = await DoctorSupport.RunAsync(env, _moduleDir);

        var finding = Assert.Single(report.Of("module.private-access"));
        Assert.Equal(Verdict.Fail, finding.Verdict);
        Assert.Equal($"{Module}@{Version}", finding.Subject);
        Assert.Contains("git ls-remote https://github.com/private/repo", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains($"insteadOf → {_server.BaseUrl.TrimEnd('/')}/github.com/private/repo", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("terminal prompts disabled", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("no machine 127.0.0.1", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("machine 127.0.0.1 login <user> password <token>", finding.Fix, StringComparison.Ordinal);
        Assert.True(_server.UnauthorizedRequests > 0);
        Assert.Equal(0, _server.AuthorizedRequests);
        Assert.Equal(2, report.ExitCode);

        // The go command agrees: it cannot fetch the module either.
        var go = await DoctorSupport.Go(env).RunAsync(_moduleDir, "mod", "download", $"{Module}@{Version}");
        Assert.True(go.ExitCode != 0, go.ToString());
    }

    [Fact]
    public async Task With_a_netrc_private_access_passes_and_the_go_command_downloads()
    {
        var env = PrivateEnvironment();
        await WriteNetrcAsync(env["HOME"]!, _secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        // The go command fetches with the same credentials; its sums complete go.sum.
        var go = await DoctorSupport.Go(env).RunAsync(_moduleDir, "mod", "download", "-json", $"{Module}@{Version}");
        Assert.True(go.ExitCode == 0, go.ToString());
        var o = GoRunner.JsonStream(go.Stdout).Single();
        await File.WriteAllTextAsync(Path.Combine(_moduleDir, "go.sum"),
            $"{Module} {Version} {o.GetProperty("Sum").GetString()}\n{Module} {Version}/go.mod {o.GetProperty("GoModSum").GetString()}\n");

        var report = await DoctorSupport.RunAsync(env, _moduleDir);

        var finding = Assert.Single(report.Of("module.private-access"));
        Assert.True(finding.Verdict == Verdict.Pass, report.Dump());
        Assert.Contains("has machine 127.0.0.1", finding.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain(_secret, report.ToJson(), StringComparison.Ordinal);
        Assert.True(report.Count(Verdict.Fail) == 0, report.Dump());
        Assert.Empty(report.Of("module.netrc"));
        Assert.Equal(1, report.ExitCode);
    }

    [Fact]
    public async Task A_netrc_readable_by_others_is_a_warning()
    {
        var env = PrivateEnvironment();
        await WriteNetrcAsync(env["HOME"]!, _secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var report = await DoctorSupport.RunAsync(env, _moduleDir);

        var warning = Assert.Single(report.Of("module.netrc"));
        Assert.Equal(Verdict.Warn, warning.Verdict);
        Assert.Contains("chmod 600", warning.Fix, StringComparison.Ordinal);
        Assert.Equal(Verdict.Pass, report.Of("module.private-access").Single().Verdict);
    }

    [Fact]
    public async Task GONOSUMDB_narrower_than_GONOPROXY_fails_and_the_go_command_really_sends_the_path_to_the_checksum_database()
    {
        await using var sumdb = await StartRecordingSumDbAsync("sum.doctor.test");
        var env = PrivateEnvironment();
        await WriteNetrcAsync(env["HOME"]!, _secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        env["GOPRIVATE"] = "";
        env["GONOPROXY"] = "github.com/private";
        env["GONOSUMDB"] = "github.com/private/other";
        env["GOSUMDB"] = $"{sumdb.Key} {sumdb.Server.Url}";

        var report = await DoctorSupport.RunAsync(env, _moduleDir);

        var finding = Assert.Single(report.Of("module.gonosumdb"));
        Assert.Equal(Verdict.Fail, finding.Verdict);
        Assert.Equal($"{Module}@{Version}", finding.Subject);
        Assert.Contains("sum.doctor.test", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("export GONOSUMDB=github.com/private/other,github.com/private", finding.Fix, StringComparison.Ordinal);
        Assert.Contains(report.Of("net.sumdb"), f => f.Verdict == Verdict.Pass && f.Evidence.Contains("verifies with the key", StringComparison.Ordinal));
        Assert.Equal(2, report.ExitCode);
        Assert.DoesNotContain(sumdb.Server.Requests, r => r.StartsWith("/lookup/", StringComparison.Ordinal));

        // The evidence: the go command itself (GONOSUMDB empty, -mod=mod) asks the checksum database for the private path.
        env["GONOSUMDB"] = "";
        var go = await DoctorSupport.Go(env).RunAsync(_moduleDir, "mod", "download", $"{Module}@{Version}");
        Assert.True(go.ExitCode != 0, go.ToString());
        Assert.Contains(sumdb.Server.Requests, r => r == $"/lookup/{Module}@{Version}");

        // With GONOSUMDB covering it the doctor is content and the go command succeeds without asking.
        env["GONOSUMDB"] = "github.com/private";
        var fixedReport = await DoctorSupport.RunAsync(env, _moduleDir);
        Assert.Equal(Verdict.Pass, fixedReport.Of("module.gonosumdb").Single().Verdict);
        var lookups = sumdb.Server.Requests.Count(r => r.StartsWith("/lookup/", StringComparison.Ordinal));
        var again = await DoctorSupport.Go(env).RunAsync(_moduleDir, "mod", "download", $"{Module}@{Version}");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(lookups, sumdb.Server.Requests.Count(r => r.StartsWith("/lookup/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_requirement_no_proxy_has_without_GOPRIVATE_fails_resolve_and_gonosumdb()
    {
        await using var sumdb = await StartRecordingSumDbAsync("sum.doctor.test");
        var env = PrivateEnvironment();
        env["GOPROXY"] = _emptyProxy.Url;
        env["GOPRIVATE"] = "";
        env["GOSUMDB"] = $"{sumdb.Key} {sumdb.Server.Url}";

        var report = await DoctorSupport.RunAsync(env, _moduleDir);

        var resolve = Assert.Single(report.Of("module.resolve"));
        Assert.Equal(Verdict.Fail, resolve.Verdict);
        Assert.Contains("not in any proxy", resolve.Evidence, StringComparison.Ordinal);
        Assert.Contains("GOPRIVATE=github.com/private", resolve.Evidence, StringComparison.Ordinal);
        Assert.Equal(Verdict.Fail, report.Of("module.gonosumdb").Single().Verdict);
        Assert.Contains(_emptyProxy.Requests, r => r == $"/{Module}/@v/{Version}.info");
        Assert.Equal(2, report.ExitCode);
    }

    /// <summary>A checksum database that serves a signed (empty) tree head and records lookups, answering them 404.</summary>
    private static async Task<RecordingSumDb> StartRecordingSumDbAsync(string name)
    {
        var (signerKey, verifierKey) = NoteKeys.GenerateKey(name);
        var latest = new TreeHead(0, LogHash.Zero).Sign(NoteSigner.Parse(signerKey));
        var root = TestPaths.NewTempDir("doctor-sumdb");
        var server = await FakeUpstream.StartAsync(root);
        server.Intercept = async ctx =>
        {
            var path = ctx.Request.Path.Value ?? "";
            if (path == "/latest")
            {
                await ctx.Response.Body.WriteAsync(latest);
                return true;
            }

            ctx.Response.StatusCode = 404;
            await ctx.Response.WriteAsync("not found\n", Encoding.UTF8);
            return true;
        };
        return new RecordingSumDb(server, verifierKey);
    }

    private sealed record RecordingSumDb(FakeUpstream Server, string Key) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }
}
