using Warren.Tools.Explain;
using Warren.Tools.Reporting;

namespace Warren.Tools.Tests.Explain;

/// <summary>Log parsing and the classifications that cannot be produced by a real run in a test (hand-written lines,
/// each labelled as such).</summary>
public sealed class ExplainParsingTests
{
    [Fact]
    public void Disk_full_hand_written_line()
    {
        // Hand-written: a test cannot fill a disk. The shape is the go command's extraction error.
        const string log = "go: downloading golang.org/x/text v0.3.7\n"
            + "go: golang.org/x/text@v0.3.7: write /go/pkg/mod/cache/download/golang.org/x/text/@v/v0.3.7.zip1234.tmp: no space left on device\n";
        var report = LogExplainer.Explain(log, 1);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((ExplainIds.DiskFull, "golang.org/x/text@v0.3.7"), (finding.Check, finding.Subject));
        Assert.Contains("go clean -modcache", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Progress_lines_are_not_errors_and_an_unrecognised_go_error_is_a_warning()
    {
        const string log = "go: downloading gopkg.in/ini.v1 v1.66.2\ngo: added gopkg.in/ini.v1 v1.66.2\n";
        Assert.Empty(LogExplainer.Explain(log, 0).Findings);
        Assert.Equal(ReportExitCodes.Ok, LogExplainer.Explain(log, 0).ExitCode);

        var report = LogExplainer.Explain(log + "go: something new went wrong\n", 1);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((ExplainIds.Unknown, Verdict.Warn), (finding.Check, finding.Verdict));
        Assert.Equal(ReportExitCodes.Warnings, report.ExitCode);
    }

    [Fact]
    public void Identical_failures_are_reported_once()
    {
        const string line = "go: gopkg.in/ini.v1@v1.66.2: Get \"https://proxy.example/gopkg.in/ini.v1/@v/v1.66.2.info\": dial tcp: lookup proxy.example on 127.0.0.53:53: no such host\n";
        var finding = Assert.Single(LogExplainer.Explain(line + line + line, 1).Findings);
        Assert.Equal((ExplainIds.NetDns, "gopkg.in/ini.v1@v1.66.2"), (finding.Check, finding.Subject));
        Assert.Contains("proxy.example", finding.Fix, StringComparison.Ordinal);
    }

    [Theory]
    // Hand-written lines in the shapes of net/http and crypto/tls errors the go command wraps.
    [InlineData("go: m.example/a@v1.0.0: Get \"https://p.example/m.example/a/@v/v1.0.0.info\": dial tcp 10.0.0.1:443: i/o timeout", "net.timeout")]
    [InlineData("go: m.example/a@v1.0.0: Get \"https://p.example/m.example/a/@v/v1.0.0.info\": net/http: request canceled (Client.Timeout exceeded while awaiting headers)", "net.timeout")]
    [InlineData("go: m.example/a@v1.0.0: Get \"https://p.example/m.example/a/@v/v1.0.0.info\": x509: certificate signed by unknown authority", "net.tls")]
    [InlineData("go: m.example/a@v1.0.0: Get \"https://p.example/m.example/a/@v/v1.0.0.info\": read tcp 10.0.0.2:5000->10.0.0.1:443: read: connection reset by peer", "net.refused")]
    [InlineData("go: m.example/a@v1.0.0: reading https://p.example/m.example/a/@v/v1.0.0.info: 410 Gone", "gone")]
    [InlineData("go: m.example/a@v1.0.0: verifying module: m.example/a@v1.0.0: Get \"https://sum.golang.org/lookup/m.example/a@v1.0.0\": dial tcp: lookup sum.golang.org: no such host", "sumdb.unreachable")]
    [InlineData("go: m.example/a@v1.0.0: missing go.sum entry; to add it:", "gosum.missing")]
    public void Hand_written_lines_of_known_shapes(string line, string id)
    {
        var finding = Assert.Single(LogExplainer.Explain(line + "\n", 1).Findings);
        Assert.Equal((id, "m.example/a@v1.0.0"), (finding.Check, finding.Subject));
        Assert.Equal(Verdict.Fail, finding.Verdict);
    }

    [Fact]
    public void Private_module_under_verifying_with_git_asking_for_a_username()
    {
        // Hand-written in the shape proxy.golang.org's checksum database answers for a private repository.
        const string log = "go: git.corp.example/team/lib@v1.2.0: verifying module: git.corp.example/team/lib@v1.2.0: reading https://sum.golang.org/lookup/git.corp.example/team/lib@v1.2.0: 404 Not Found\n"
            + "\tserver response:\n"
            + "\tnot found: git.corp.example/team/lib@v1.2.0: invalid version: git ls-remote -q origin in /go/pkg/mod/cache/vcs/abc: exit status 128:\n"
            + "\t\tfatal: could not read Username for 'https://git.corp.example': terminal prompts disabled\n";
        var finding = Assert.Single(LogExplainer.Explain(log, 1).Findings);
        Assert.Equal((ExplainIds.SumDbPrivatePath, "git.corp.example/team/lib@v1.2.0"), (finding.Check, finding.Subject));
        Assert.Contains("GOPRIVATE=git.corp.example", finding.Fix, StringComparison.Ordinal);
        Assert.Contains("sum.golang.org", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_objects_are_found_between_other_lines_and_with_buildkit_prefixes()
    {
        const string log = "#9 [3/4] RUN go mod download -json || true\n"
            + "#9 0.812 {\n"
            + "#9 0.812 \t\"Path\": \"m.example/a\",\n"
            + "#9 0.812 \t\"Version\": \"v1.0.0\",\n"
            + "#9 0.812 \t\"Error\": \"m.example/a@v1.0.0: reading http://127.0.0.1:1/m.example/a/@v/v1.0.0.info: 404 Not Found\"\n"
            + "#9 0.812 }\n"
            + "#9 0.813 {\n"
            + "#9 0.813 \t\"Path\": \"m.example/b\",\n"
            + "#9 0.813 \t\"Version\": \"v1.0.0\",\n"
            + "#9 0.813 \t\"Info\": \"/go/pkg/mod/cache/download/m.example/b/@v/v1.0.0.info\"\n"
            + "#9 0.813 }\n"
            + "#9 DONE 0.9s\n";
        var log2 = BuildLog.Parse(log);
        Assert.Equal(2, log2.JsonObjects);
        Assert.False(log2.HasFailureMarker);
        var report = LogExplainer.Explain(log);
        Assert.Equal(
            new HashSet<(string, string?)> { (ExplainIds.NotFound, "m.example/a@v1.0.0"), (ExplainIds.FalseSuccess, "m.example/a@v1.0.0") },
            report.Findings.Select(f => (f.Check, f.Subject)).ToHashSet());
    }

    [Fact]
    public void Failed_command_without_a_recognised_cause_is_a_warning()
    {
        var report = LogExplainer.Explain("Step 5/9 : RUN make\n ---> Running in 0123\nmake: *** [all] Error 2\n", 2);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((ExplainIds.FailedWithoutCause, Verdict.Warn), (finding.Check, finding.Verdict));
    }
}
