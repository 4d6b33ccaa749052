using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Warren.Core.SumDb;
using Warren.Tools.Reporting;

namespace Warren.Tools.Tests.Doctor;

/// <summary>warren doctor against broken and healthy set-ups built from real servers on 127.0.0.1 and the real go client.</summary>
public sealed class DoctorTests(DoctorCorpusFixture corpus) : IClassFixture<DoctorCorpusFixture>
{
    [Fact]
    public async Task Healthy_setup_passes_with_only_the_GOSUMDB_off_warning()
    {
        var env = DoctorSupport.Environment(corpus.Proxy.Url + ",direct");
        env["GOMODCACHE"] = corpus.ModCache;
        var report = await DoctorSupport.RunAsync(env, corpus.CopyModule());

        Assert.True(report.Count(Verdict.Fail) == 0, report.Dump());
        Assert.Equal(1, report.ExitCode);
        var warning = Assert.Single(report.Findings, f => f.Verdict == Verdict.Warn);
        Assert.Equal("env.gosumdb", warning.Check);
        Assert.Contains("checksums", warning.Evidence, StringComparison.Ordinal);
        foreach (var check in new[] { "env.goproxy", "env.goflags", "net.proxy", "module.gomod", "module.resolve", "module.gosum", "disk.gomodcache", "disk.gocache", "disk.leftovers" })
        {
            Assert.True(report.Of(check).Any(f => f.Verdict == Verdict.Pass), $"{check} did not pass: {report.Dump()}");
        }

        var requires = File.ReadAllText(Path.Combine(corpus.Module, "go.mod")).Split('\n').Count(l => l.StartsWith('\t'));
        Assert.True(requires > 5, "the tidy module has requirements");
        Assert.Contains($"{requires} of {requires} requirements resolve", report.Of("module.resolve").Single().Evidence, StringComparison.Ordinal);
        Assert.Contains("answers 200", report.Of("net.proxy").Single().Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_on_a_closed_port_fails_net_proxy()
    {
        var url = $"http://127.0.0.1:{Loopback.FreePort()}";
        var env = DoctorSupport.Environment(url);
        var report = await DoctorSupport.RunAsync(env, TestPaths.NewTempDir("doctor-empty"));

        var finding = Assert.Single(report.Of("net.proxy"));
        Assert.Equal(Verdict.Fail, finding.Verdict);
        Assert.Equal(url, finding.Subject);
        Assert.Contains("connection refused", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains(" ms", finding.Evidence, StringComparison.Ordinal);
        Assert.Equal(2, report.ExitCode);
    }

    [Theory]
    [InlineData(500, "answers 500", "'|' in GOPROXY")]
    [InlineData(401, "wants credentials", ".netrc")]
    [InlineData(403, "wants credentials", ".netrc")]
    public async Task Proxy_failing_or_wanting_credentials_fails_net_proxy_with_its_fix(int status, string evidence, string fix)
    {
        await using var broken = await FakeUpstream.StartAsync(TestPaths.Corpus);
        broken.Intercept = async ctx =>
        {
            ctx.Response.StatusCode = status;
            await ctx.Response.WriteAsync("no\n");
            return true;
        };
        var report = await DoctorSupport.RunAsync(DoctorSupport.Environment(broken.Url + ",direct"), corpus.CopyModule());

        var finding = Assert.Single(report.Of("net.proxy"));
        Assert.Equal(Verdict.Fail, finding.Verdict);
        Assert.Contains(evidence, finding.Evidence, StringComparison.Ordinal);
        Assert.Contains(fix, finding.Fix, StringComparison.Ordinal);
        Assert.Contains(report.Of("module.resolve"), f => f.Verdict == Verdict.Fail && f.Evidence.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.True(broken.Requests.Any(r => r.EndsWith("/@v/list", StringComparison.Ordinal)), "the probe asks for a module of the go.mod");
        Assert.Equal(2, report.ExitCode);
    }

    [Fact]
    public async Task Go_sum_missing_lines_fails_module_gosum_naming_the_module()
    {
        var dir = corpus.CopyModule();
        var goSum = Path.Combine(dir, "go.sum");
        var lines = File.ReadAllLines(goSum);
        var victim = lines.First(l => !l.Contains("/go.mod ", StringComparison.Ordinal)).Split(' ');
        File.WriteAllLines(goSum, lines.Where(l => !l.StartsWith($"{victim[0]} {victim[1]} ", StringComparison.Ordinal)));

        var report = await DoctorSupport.RunAsync(DoctorSupport.Environment(corpus.Proxy.Url), dir);

        var finding = Assert.Single(report.Of("module.gosum"), f => f.Verdict == Verdict.Fail);
        Assert.Equal($"{victim[0]}@{victim[1]}", finding.Subject);
        Assert.Contains($"\"{victim[0]} {victim[1]} h1:\"", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("go mod tidy", finding.Fix, StringComparison.Ordinal);
        Assert.Equal(2, report.ExitCode);
    }

    [Fact]
    public async Task Half_written_download_in_the_module_cache_is_named()
    {
        var env = DoctorSupport.Environment(corpus.Proxy.Url);
        var partial = Path.Combine(env["GOMODCACHE"]!, "cache", "download", "example.com", "half", "@v", "v1.0.0.zip.partial");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        await File.WriteAllTextAsync(partial, "PK");

        var report = await DoctorSupport.RunAsync(env, TestPaths.NewTempDir("doctor-empty"));

        var finding = Assert.Single(report.Of("disk.leftovers"));
        Assert.Equal(Verdict.Warn, finding.Verdict);
        Assert.Contains(partial, finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("go clean -modcache", finding.Fix, StringComparison.Ordinal);
        Assert.True(report.Count(Verdict.Fail) == 0, report.Dump());
        Assert.Equal(1, report.ExitCode);
    }

    [Fact]
    public async Task Variables_with_bad_syntax_or_meaning_are_named()
    {
        var env = DoctorSupport.Environment(corpus.Proxy.Url);
        env["GOPRIVATE"] = "example.com/[";
        env["GOFLAGS"] = "-mod=vendor -frobnicate";
        env["GOSUMDB"] = "sum.example.com";
        var report = await DoctorSupport.RunAsync(env, corpus.CopyModule());

        Assert.Equal(Verdict.Fail, report.Of("env.goprivate").Single().Verdict);
        Assert.Contains(report.Of("env.goflags"), f => f.Verdict == Verdict.Fail && f.Evidence.Contains("no vendor directory", StringComparison.Ordinal));
        Assert.Contains(report.Of("env.goflags"), f => f.Verdict == Verdict.Warn && f.Evidence.Contains("-frobnicate", StringComparison.Ordinal));
        Assert.Contains("no verifier key", report.Of("env.gosumdb").Single().Evidence, StringComparison.Ordinal);
        Assert.Contains("no direct", report.Of("env.goproxy").Single().Evidence, StringComparison.Ordinal);
        Assert.Equal(2, report.ExitCode);
    }

    [Fact]
    public async Task Proxies_are_reached_through_HTTP_PROXY_unless_NO_PROXY_exempts_them()
    {
        // The GOPROXY host does not exist; only the outbound proxy (the corpus server, taking absolute-form requests) knows it.
        const string Unresolvable = "http://goproxy.doctor.invalid";
        var env = DoctorSupport.Environment(Unresolvable);
        env["HTTP_PROXY"] = corpus.Proxy.Url;
        var report = await DoctorSupport.RunAsync(env, corpus.CopyModule());

        var reached = Assert.Single(report.Of("net.proxy"));
        Assert.True(reached.Verdict == Verdict.Pass, report.Dump());
        Assert.Contains($"via outbound proxy {corpus.Proxy.Url}", reached.Evidence, StringComparison.Ordinal);
        Assert.Equal(Verdict.Pass, report.Of("module.resolve").Single().Verdict);

        env["NO_PROXY"] = "localhost,.doctor.invalid";
        var direct = await DoctorSupport.RunAsync(env, corpus.CopyModule());
        var failed = Assert.Single(direct.Of("net.proxy"));
        Assert.Equal(Verdict.Fail, failed.Verdict);
        Assert.Contains("DNS lookup failed", failed.Evidence, StringComparison.Ordinal);
        Assert.Equal(2, direct.ExitCode);
    }

    [Theory]
    [InlineData("github.com/org/repo/sub/v2", "https://github.com/org/repo")]
    [InlineData("git.example.com/team/lib.git/v3", "https://git.example.com/team/lib.git")]
    [InlineData("example.com/team/lib/v2", "https://example.com/team/lib")]
    public void Repository_urls_are_guessed_like_the_go_command_without_discovery(string module, string url) =>
        Assert.Equal(url, Warren.Tools.Doctor.DoctorRunner.RepositoryUrl(module));

    [Fact]
    public void The_longest_insteadOf_prefix_wins()
    {
        (string, string)[] rules = [("ssh://git@host/", "https://host/"), ("https://mirror/team/", "https://host/team/")];
        Assert.Equal("https://mirror/team/repo", Warren.Tools.Doctor.DoctorRunner.ApplyInsteadOf("https://host/team/repo", rules));
        Assert.Equal("ssh://git@host/other/repo", Warren.Tools.Doctor.DoctorRunner.ApplyInsteadOf("https://host/other/repo", rules));
        Assert.Equal("https://elsewhere/x", Warren.Tools.Doctor.DoctorRunner.ApplyInsteadOf("https://elsewhere/x", rules));
    }

    [Fact]
    public async Task A_proxy_slower_than_the_timeout_fails_with_timeout()
    {
        await using var slow = await FakeUpstream.StartAsync(TestPaths.Corpus);
        slow.Delay = TimeSpan.FromSeconds(3);
        var env = DoctorSupport.Environment(slow.Url);
        var report = await DoctorSupport.RunAsync(env, TestPaths.NewTempDir("doctor-empty"), timeoutSeconds: 0.5);

        var finding = Assert.Single(report.Of("net.proxy"));
        Assert.Equal(Verdict.Fail, finding.Verdict);
        Assert.Contains("timeout (no answer within 0.5 s)", finding.Evidence, StringComparison.Ordinal);
        Assert.Equal(2, report.ExitCode);
    }

    [Fact]
    public async Task Only_a_lock_still_held_after_ten_minutes_is_reported()
    {
        var env = DoctorSupport.Environment(corpus.Proxy.Url);
        var dir = Path.Combine(env["GOMODCACHE"]!, "cache", "download", "example.com", "m", "@v");
        Directory.CreateDirectory(dir);
        var held = Path.Combine(dir, "v1.0.0.lock");
        var released = Path.Combine(dir, "v1.1.0.lock");
        foreach (var file in new[] { held, released })
        {
            await File.WriteAllTextAsync(file, "");
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-20));
        }

        // The go command leaves its lock files behind; only one still locked (flock) means a stuck process.
        using (new FileStream(held, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var report = await DoctorSupport.RunAsync(env, TestPaths.NewTempDir("doctor-empty"));
            var finding = Assert.Single(report.Of("disk.locks"));
            Assert.Equal(Verdict.Warn, finding.Verdict);
            Assert.Contains(held, finding.Evidence, StringComparison.Ordinal);
            Assert.DoesNotContain(released, finding.Evidence, StringComparison.Ordinal);
        }

        var after = await DoctorSupport.RunAsync(env, TestPaths.NewTempDir("doctor-empty"));
        Assert.Empty(after.Of("disk.locks"));
        Assert.Equal(Verdict.Pass, after.Of("disk.leftovers").Single().Verdict);
    }

    [Fact]
    public async Task The_checksum_database_is_checked_through_the_proxy_that_serves_it()
    {
        const string Name = "sum.doctor.test";
        var (signerKey, verifierKey) = NoteKeys.GenerateKey(Name);
        var (otherSigner, _) = NoteKeys.GenerateKey(Name);
        var latest = new TreeHead(7, LogHash.Zero).Sign(NoteSigner.Parse(signerKey));
        await using var proxy = await FakeUpstream.StartAsync(TestPaths.Corpus);
        proxy.Intercept = async ctx =>
        {
            switch (ctx.Request.Path.Value)
            {
                case $"/sumdb/{Name}/supported":
                    return true;
                case $"/sumdb/{Name}/latest":
                    await ctx.Response.Body.WriteAsync(latest);
                    return true;
                default:
                    return false;
            }
        };
        var env = DoctorSupport.Environment(proxy.Url + ",direct");
        env["GOSUMDB"] = verifierKey;

        var report = await DoctorSupport.RunAsync(env, TestPaths.NewTempDir("doctor-empty"));

        Assert.Equal(Verdict.Pass, report.Of("env.gosumdb").Single().Verdict);
        var sumdb = report.Of("net.sumdb").ToList();
        Assert.True(sumdb.All(f => f.Verdict == Verdict.Pass), report.Dump());
        Assert.Contains(sumdb, f => f.Evidence.Contains("through this proxy", StringComparison.Ordinal));
        Assert.Contains(sumdb, f => f.Evidence.Contains("signed tree of 7 records verifies", StringComparison.Ordinal));
        Assert.Equal(0, report.ExitCode);

        // A tree head signed by another key is named, not trusted.
        latest = new TreeHead(7, LogHash.Zero).Sign(NoteSigner.Parse(otherSigner));
        var forged = await DoctorSupport.RunAsync(env, TestPaths.NewTempDir("doctor-empty"));
        Assert.Contains(forged.Of("net.sumdb"), f => f.Verdict == Verdict.Fail && f.Evidence.Contains("does not verify", StringComparison.Ordinal));
        Assert.Equal(2, forged.ExitCode);
    }

    [Fact]
    public async Task A_file_proxy_is_a_directory_that_must_exist()
    {
        var missing = Path.Combine(TestPaths.NewTempDir("doctor-gone"), "nothing");
        var env = DoctorSupport.Environment($"file://{missing},file://{TestPaths.Corpus}");
        var report = await DoctorSupport.RunAsync(env, corpus.CopyModule());

        var proxies = report.Of("net.proxy").ToList();
        Assert.Equal(2, proxies.Count);
        Assert.Equal(Verdict.Fail, proxies[0].Verdict);
        Assert.Contains("does not exist", proxies[0].Evidence, StringComparison.Ordinal);
        Assert.Equal(Verdict.Pass, proxies[1].Verdict);

        // 404 from the first entry falls through to the corpus, which has every requirement.
        Assert.Equal(Verdict.Pass, report.Of("module.resolve").Single().Verdict);
        Assert.Equal(2, report.ExitCode);
    }

    [Fact]
    public async Task The_cli_prints_the_report_as_json_with_the_exit_code()
    {
        var env = DoctorSupport.Environment(corpus.Proxy.Url + ",direct");
        var dir = corpus.CopyModule();
        var cliEnv = env.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!, StringComparer.Ordinal);
        cliEnv["DOTNET_CLI_HOME"] = env["HOME"]!;
        cliEnv["DOTNET_NOLOGO"] = "1";
        var cli = await Processes.RunAsync("dotnet", dir, cliEnv,
            [Path.Combine(AppContext.BaseDirectory, "warren.dll"), "doctor", "--module-dir", dir, "--json", "--timeout", "5"], timeout: TimeSpan.FromMinutes(2));

        Assert.True(cli.ExitCode == 1, cli.ToString());
        using var json = JsonDocument.Parse(cli.Stdout);
        Assert.Equal("doctor", json.RootElement.GetProperty("command").GetString());
        Assert.Equal(1, json.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Equal(0, json.RootElement.GetProperty("summary").GetProperty("fail").GetInt32());
        var findings = json.RootElement.GetProperty("findings").EnumerateArray().ToList();
        Assert.Contains(findings, f => f.GetProperty("check").GetString() == "env.gosumdb" && f.GetProperty("verdict").GetString() == "Warn");
        Assert.Contains(findings, f => f.GetProperty("check").GetString() == "net.proxy" && f.GetProperty("verdict").GetString() == "Pass"
            && f.GetProperty("subject").GetString() == corpus.Proxy.Url);
        Assert.Contains(findings, f => f.GetProperty("check").GetString() == "module.gosum" && f.GetProperty("verdict").GetString() == "Pass");

        var usage = await Processes.RunAsync("dotnet", dir, cliEnv,
            [Path.Combine(AppContext.BaseDirectory, "warren.dll"), "doctor", "--timeout", "0"], timeout: TimeSpan.FromMinutes(2));
        Assert.True(usage.ExitCode == 64, usage.ToString());
    }
}
