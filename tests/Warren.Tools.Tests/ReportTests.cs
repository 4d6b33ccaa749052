using Warren.Tools.Reporting;

namespace Warren.Tools.Tests;

public sealed class ReportTests
{
    [Fact]
    public void Exit_code_and_json_follow_the_worst_verdict()
    {
        var pass = new Report("doctor", [new Finding("a", Verdict.Pass, "ok")]);
        var warn = new Report("doctor", [new Finding("a", Verdict.Pass, "ok"), new Finding("b", Verdict.Warn, "hm", "do x")]);
        var fail = new Report("doctor", [new Finding("b", Verdict.Warn, "hm"), new Finding("c", Verdict.Fail, "bad", "do y", "m@v1.0.0")]);
        Assert.Equal((0, 1, 2), (pass.ExitCode, warn.ExitCode, fail.ExitCode));
        var json = fail.ToJson();
        Assert.Contains("\"verdict\": \"Fail\"", json, StringComparison.Ordinal);
        Assert.Contains("\"subject\": \"m@v1.0.0\"", json, StringComparison.Ordinal);
        Assert.Contains("\"fail\": 1", json, StringComparison.Ordinal);
        Assert.Contains("\"exitCode\": 2", json, StringComparison.Ordinal);
    }
}
