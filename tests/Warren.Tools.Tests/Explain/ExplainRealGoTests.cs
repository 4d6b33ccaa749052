using Warren.Core.SumDb;
using Warren.Tools.Explain;
using Warren.Tools.Reporting;
using static Warren.Tools.Tests.Explain.ExplainGoLogs;

namespace Warren.Tools.Tests.Explain;

/// <summary>explain on logs of the real go command (Go 1.19) failing against servers on 127.0.0.1.</summary>
public sealed class ExplainRealGoTests
{
    [Fact]
    public async Task Proxy_on_a_closed_port_is_connection_refused()
    {
        var go = new GoRunner($"http://127.0.0.1:{Loopback.FreePort()}");
        var dir = NewModule();
        var (log, exit) = await RunAsync(go, dir, "mod", "download", "-json", $"{Leaf.Path}@{Leaf.Version}");
        Assert.NotEqual(0, exit);

        var report = ExplainLog(log, exit);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((ExplainIds.NetRefused, Verdict.Fail, Leaf.ToString()), (finding.Check, finding.Verdict, finding.Subject));
        Assert.Contains("connection refused", finding.Evidence, StringComparison.Ordinal);
        Assert.Equal(ReportExitCodes.Failures, report.ExitCode);

        // The same failure from go get, as text on stderr.
        var (getLog, getExit) = await RunAsync(go, dir, "get", $"{Leaf.Path}@{Leaf.Version}");
        Assert.NotEqual(0, getExit);
        Assert.Contains(ExplainIds.NetRefused, ExplainLog(getLog, getExit).Findings.Select(f => f.Check));
    }

    [Fact]
    public async Task Https_to_a_plain_http_proxy_is_tls()
    {
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var go = new GoRunner($"https://127.0.0.1:{proxy.Port}");
        var (log, exit) = await RunAsync(go, NewModule(), "mod", "download", "-json", Leaf.ToString());
        Assert.NotEqual(0, exit);

        var finding = Assert.Single(ExplainLog(log, exit).Findings);
        Assert.Equal((ExplainIds.NetTls, Leaf.ToString()), (finding.Check, finding.Subject));
        Assert.Contains("http://", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_importing_a_package_no_required_module_provides()
    {
        const string main = "package main\n\nimport _ \"gopkg.in/ini.v1\"\n\nfunc main() {}\n";
        var dir = NewModule(mainGo: main);

        // go build's default (-mod=readonly from go.mod's go version) and an explicit -mod=readonly over GOFLAGS=-mod=mod
        // word it differently.
        var byDefault = await RunAsync(new GoRunner("off").With("GOFLAGS", ""), dir, "build", "./...");
        var explicitly = await RunAsync(new GoRunner("off"), dir, "build", "-mod=readonly", "./...");
        Assert.Contains("no required module provides package", byDefault.Log, StringComparison.Ordinal);
        Assert.Contains("import lookup disabled", explicitly.Log, StringComparison.Ordinal);
        foreach (var (log, exit) in new[] { byDefault, explicitly })
        {
            Assert.NotEqual(0, exit);
            var finding = Assert.Single(ExplainLog(log, exit).Findings);
            Assert.Equal((ExplainIds.MissingRequirement, "gopkg.in/ini.v1"), (finding.Check, finding.Subject));
            Assert.Contains("go get gopkg.in/ini.v1", finding.Fix, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(500, "500 Internal Server Error", ExplainIds.ProxyError)]
    [InlineData(502, "502 Bad Gateway", ExplainIds.ProxyError)]
    [InlineData(410, "410 Gone", ExplainIds.Gone)]
    [InlineData(404, "404 Not Found", ExplainIds.NotFound)]
    public async Task Proxy_error_statuses(int status, string statusLine, string id)
    {
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        proxy.Intercept = Answer(status, "upstream says no\n");
        var go = new GoRunner(proxy.Url);
        var (log, exit) = await RunAsync(go, NewModule(), "get", $"{Leaf.Path}@{Leaf.Version}");
        Assert.NotEqual(0, exit);
        Assert.Contains(statusLine, log, StringComparison.Ordinal);

        var finding = Assert.Single(ExplainLog(log, exit).Findings);
        Assert.Equal((id, Verdict.Fail), (finding.Check, finding.Verdict));
        Assert.Contains("upstream says no", finding.Evidence, StringComparison.Ordinal);
        if (id == ExplainIds.ProxyError)
        {
            Assert.Contains($"HTTP {status}", finding.Fix, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task Proxy_refusing_credentials_is_auth(int status)
    {
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        proxy.Intercept = Answer(status, "credentials required\n");
        var go = new GoRunner(proxy.Url);
        var (log, exit) = await RunAsync(go, NewModule(), "mod", "download", "-json", $"{Leaf.Path}@{Leaf.Version}");
        Assert.NotEqual(0, exit);

        var finding = Assert.Single(ExplainLog(log, exit).Findings);
        Assert.Equal((ExplainIds.Auth, Leaf.ToString()), (finding.Check, finding.Subject));
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), finding.Evidence, StringComparison.Ordinal);
        Assert.Contains(".netrc", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Direct_mode_git_without_credentials_is_auth()
    {
        const string module = "github.com/private/repo";
        var root = TestPaths.NewTempDir("explain-git");
        var repos = Path.Combine(root, "repos");
        TestGit.CreateUpstream(repos, module + ".git")
            .Write("go.mod", $"module {module}\n\ngo 1.19\n")
            .Write("repo.go", "package repo\n")
            .Commit("first", "v1.0.0");
        await using var server = await HttpBackendServer.StartAsync(repos, "alice", "pw-" + Guid.NewGuid().ToString("N"));
        var gitConfig = TestGit.WriteGitHubInsteadOf(Path.Combine(root, "gitconfig"), server.BaseUrl);
        var go = new GoRunner("direct").WithGitConfig(gitConfig).With("NO_PROXY", "127.0.0.1,localhost");
        var (log, exit) = await RunAsync(go, NewModule(), "mod", "download", "-json", $"{module}@v1.0.0");
        Assert.NotEqual(0, exit);
        Assert.True(server.UnauthorizedRequests > 0, log);

        var finding = Assert.Single(ExplainLog(log, exit).Findings);
        Assert.Equal((ExplainIds.Auth, $"{module}@v1.0.0"), (finding.Check, finding.Subject));
        Assert.Contains("terminal prompts disabled", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Modules_and_versions_the_proxy_does_not_have()
    {
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var go = new GoRunner(proxy.Url);
        var dir = NewModule();

        // A module that is not in the corpus, and a version of a corpus module that does not exist.
        var (log, exit) = await RunAsync(go, dir, "mod", "download", "-json", "example.net/not/there@v1.0.0", $"{Leaf.Path}@v1.99.0");
        Assert.NotEqual(0, exit);
        var report = ExplainLog(log, exit);
        Assert.Equal(
            new HashSet<(string, string?)> { (ExplainIds.NotFound, "example.net/not/there@v1.0.0"), (ExplainIds.NotFound, $"{Leaf.Path}@v1.99.0") },
            Classes(report));
        Assert.All(report.Findings, f => Assert.Contains("404 Not Found", f.Evidence, StringComparison.Ordinal));

        // A revision that is not a version: the proxy's 404 under "invalid version".
        var (revLog, revExit) = await RunAsync(go, dir, "get", $"{Leaf.Path}@0123abcd");
        Assert.NotEqual(0, revExit);
        var rev = Assert.Single(ExplainLog(revLog, revExit).Findings);
        Assert.Equal((ExplainIds.UnknownRevision, $"{Leaf.Path}@0123abcd"), (rev.Check, rev.Subject));

        // A query no listed version matches.
        var (queryLog, queryExit) = await RunAsync(go, dir, "get", $"{Leaf.Path}@v1.99");
        Assert.NotEqual(0, queryExit);
        var query = Assert.Single(ExplainLog(queryLog, queryExit).Findings);
        Assert.Equal(ExplainIds.InvalidVersion, query.Check);
        Assert.Contains("no matching versions", query.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Poisoned_zip_against_the_genuine_go_sum_is_a_checksum_mismatch()
    {
        var poisoned = PoisonedZip(Leaf.ZipPath);
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var zipUrl = $"/{Leaf.Path}/@v/{Leaf.Version}.zip";
        proxy.Intercept = async context =>
        {
            if (context.Request.Path.Value != zipUrl)
            {
                return false;
            }

            await proxy.SendFileAsync(context, poisoned);
            return true;
        };
        var go = new GoRunner(proxy.Url);
        var dir = NewModule(Leaf, GoSumLines(Leaf));
        var (log, exit) = await RunAsync(go, dir, "mod", "download", Leaf.Path);
        Assert.NotEqual(0, exit);
        Assert.Equal(1, proxy.HitsFor(zipUrl));

        var report = ExplainLog(log, exit);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((ExplainIds.ChecksumMismatch, Leaf.ToString()), (finding.Check, finding.Subject));
        Assert.Contains(Leaf.ZipHash, finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("go clean -modcache", finding.Fix, StringComparison.Ordinal);
        Assert.Contains("do not delete", finding.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(410)]
    public async Task Module_path_sent_to_a_checksum_database_that_does_not_know_it(int status)
    {
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var sumdb = await FakeUpstream.StartAsync(TestPaths.NewTempDir("explain-sumdb"));
        sumdb.Intercept = Answer(status, $"not found: {Leaf}: invalid version: unknown revision {Leaf.Version}\n");
        var key = NoteKeys.GenerateKey("sum.test.example").VerifierKey;
        var go = new GoRunner(proxy.Url).With("GOSUMDB", $"{key} {sumdb.Url}").With("GONOSUMDB", "");
        var (log, exit) = await RunAsync(go, NewModule(), "mod", "download", "-json", Leaf.ToString());
        Assert.NotEqual(0, exit);
        Assert.Contains(sumdb.Requests, r => r.StartsWith("/lookup/", StringComparison.Ordinal));

        var finding = Assert.Single(ExplainLog(log, exit).Findings);
        Assert.Equal((ExplainIds.SumDbPrivatePath, Leaf.ToString()), (finding.Check, finding.Subject));
        Assert.Contains("GOPRIVATE=gopkg.in", finding.Fix, StringComparison.Ordinal);
        Assert.Contains("GONOSUMDB=gopkg.in", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checksum_database_on_a_closed_port_is_unreachable()
    {
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var key = NoteKeys.GenerateKey("sum.test.example").VerifierKey;
        var go = new GoRunner(proxy.Url).With("GOSUMDB", $"{key} http://127.0.0.1:{Loopback.FreePort()}").With("GONOSUMDB", "");
        var (log, exit) = await RunAsync(go, NewModule(), "get", Leaf.ToString());
        Assert.NotEqual(0, exit);

        var finding = Assert.Single(ExplainLog(log, exit).Findings);
        Assert.Equal((ExplainIds.SumDbUnreachable, Leaf.ToString()), (finding.Check, finding.Subject));
        Assert.Contains("net.refused", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_with_an_incomplete_go_sum_is_gosum_missing()
    {
        const string main = "package main\n\nimport _ \"gopkg.in/ini.v1\"\n\nfunc main() {}\n";
        var dir = NewModule(Leaf, goSum: "", mainGo: main);
        var go = new GoRunner("off");
        var (log, exit) = await RunAsync(go, dir, "build", "-mod=readonly", "./...");
        Assert.NotEqual(0, exit);

        var finding = Assert.Single(ExplainLog(log, exit).Findings);
        Assert.Equal(ExplainIds.GoSumMissing, finding.Check);
        Assert.Contains("missing go.sum entry", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_json_errors_behind_a_swallowed_exit_code_are_a_false_success()
    {
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var go = new GoRunner(proxy.Url);
        var result = await go.RunAsync(NewModule(), "mod", "download", "-json", Leaf.ToString(), "example.net/not/there@v1.0.0");
        Assert.Equal(1, result.ExitCode);
        var json = result.Stdout;
        Assert.Contains("\"Error\"", json, StringComparison.Ordinal);

        // As if `go mod download -json || true` had run: exit 0.
        var report = ExplainLog(json, exitCode: 0);
        var falseSuccess = Assert.Single(report.Findings, f => f.Check == ExplainIds.FalseSuccess);
        Assert.Equal((Verdict.Fail, "example.net/not/there@v1.0.0"), (falseSuccess.Verdict, falseSuccess.Subject));
        Assert.Contains((ExplainIds.NotFound, "example.net/not/there@v1.0.0"), Classes(report));
        Assert.DoesNotContain(report.Findings, f => f.Subject == Leaf.ToString());
        Assert.Equal(ReportExitCodes.Failures, report.ExitCode);

        // No exit code and nothing in the log that records a failed exit: also a false success.
        Assert.Contains(ExplainLog(json).Findings, f => f.Check == ExplainIds.FalseSuccess);

        // The real exit code, or a log that records it: a failure, not a false success.
        Assert.DoesNotContain(ExplainLog(json, result.ExitCode).Findings, f => f.Check == ExplainIds.FalseSuccess);
        Assert.DoesNotContain(ExplainLog(AsBuildKit(json, 1)).Findings, f => f.Check == ExplainIds.FalseSuccess);
    }

    [Fact]
    public async Task Docker_logs_of_real_runs_classify_like_the_bare_logs()
    {
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var forbidden = await FakeUpstream.StartAsync(TestPaths.Corpus);
        forbidden.Intercept = Answer(403, "forbidden\n");
        var dir = NewModule();
        var logs = new List<(string Log, int Exit)>
        {
            await RunAsync(new GoRunner(proxy.Url), dir, "mod", "download", "-json", "example.net/not/there@v1.0.0", $"{Leaf.Path}@v1.99.0"),
            await RunAsync(new GoRunner(proxy.Url), dir, "get", $"{Leaf.Path}@0123abcd"),
            await RunAsync(new GoRunner(forbidden.Url), dir, "get", Leaf.ToString()),
            await RunAsync(new GoRunner($"http://127.0.0.1:{Loopback.FreePort()}"), dir, "get", Leaf.ToString()),
        };

        foreach (var (log, exit) in logs)
        {
            Assert.NotEqual(0, exit);
            var bare = Classes(ExplainLog(log, exit));
            Assert.NotEmpty(bare);
            Assert.DoesNotContain(bare, c => c.Check == ExplainIds.Unknown);
            Assert.Equal(bare, Classes(ExplainLog(AsBuildKit(log, exit))));
            Assert.Equal(bare, Classes(ExplainLog(AsClassicDocker(log, exit))));
        }

        // All four in one BuildKit log.
        var all = Classes(ExplainLog(string.Concat(logs.Select(l => AsBuildKit(l.Log, l.Exit)))));
        Assert.Equal(
            new HashSet<string> { ExplainIds.NotFound, ExplainIds.UnknownRevision, ExplainIds.Auth, ExplainIds.NetRefused },
            all.Select(c => c.Check).ToHashSet());
    }

    [Fact]
    public async Task Cli_reads_a_real_log_from_stdin_and_prints_json()
    {
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var go = new GoRunner(proxy.Url);
        var (log, exit) = await RunAsync(go, NewModule(), "mod", "download", "-json", "example.net/not/there@v1.0.0");
        Assert.NotEqual(0, exit);
        var dockerLog = AsBuildKit(log, exit);

        var dll = Path.Combine(AppContext.BaseDirectory, "warren.dll");
        var result = await Processes.RunAsync("dotnet", null, null, [dll, "explain", "-", "--json"], stdin: dockerLog);
        Assert.True(result.ExitCode == ReportExitCodes.Failures, result.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal("explain", root.GetProperty("command").GetString());
        Assert.Equal(2, root.GetProperty("exitCode").GetInt32());
        var finding = Assert.Single(root.GetProperty("findings").EnumerateArray());
        Assert.Equal("notfound", finding.GetProperty("check").GetString());
        Assert.Equal("Fail", finding.GetProperty("verdict").GetString());
        Assert.Equal("example.net/not/there@v1.0.0", finding.GetProperty("subject").GetString());

        // A file argument and the table for people.
        var file = Path.Combine(TestPaths.NewTempDir("explain-cli"), "build.log");
        await File.WriteAllTextAsync(file, dockerLog);
        var table = await Processes.RunAsync("dotnet", null, null, [dll, "explain", file]);
        Assert.True(table.ExitCode == ReportExitCodes.Failures, table.ToString());
        Assert.Contains("notfound", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 failures", table.Stdout, StringComparison.Ordinal);

        // A missing file is a usage error.
        var missing = await Processes.RunAsync("dotnet", null, null, [dll, "explain", file + ".nope"]);
        Assert.Equal(64, missing.ExitCode);

        // The same JSON with the exit code swallowed: a false success as well.
        var swallowed = await Processes.RunAsync("dotnet", null, null, [dll, "explain", "-", "--json", "--exit-code", "0"], stdin: log);
        Assert.Equal(ReportExitCodes.Failures, swallowed.ExitCode);
        Assert.Contains("\"false-success\"", swallowed.Stdout, StringComparison.Ordinal);
    }
}
