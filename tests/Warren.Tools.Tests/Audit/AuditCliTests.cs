using System.Text.Json;

namespace Warren.Tools.Tests.Audit;

/// <summary>`warren audit` through the built command, its standard output redirected to a file (not a terminal), against
/// the loopback world of <see cref="AuditWorld"/>: plain lines, one whole line per finding that grep finds, JSON that
/// parses, and the documented exit codes.</summary>
public sealed class AuditCliTests(AuditWorld world) : IClassFixture<AuditWorld>
{
    private static string WarrenDll => Path.Combine(AppContext.BaseDirectory, "warren.dll");

    private static string Dotnet { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
        .Select(d => Path.Combine(d, "dotnet")).FirstOrDefault(File.Exists) ?? "dotnet";

    private string[] Common => ["audit", "--proxy", world.ProxyUrl.AbsoluteUri, "--vulndb", world.VulnDbUrl.AbsoluteUri, "--jobs", "4"];

    [Fact]
    public async Task Off_a_terminal_each_finding_is_one_plain_unwrapped_line_that_grep_finds_and_json_matches_it()
    {
        var work = TestPaths.NewTempDir("audit-cli");

        // A narrow COLUMNS (and a terminal's NO_COLOR unset) must not matter off a terminal.
        var run = await RunToFileAsync(work, [.. Common, world.RepoA, world.RepoB]);
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.DoesNotContain('\u001b', run.Output);
        Assert.DoesNotContain(run.Output, c => c is >= '\u2500' and <= '\u257f');

        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var findingLines = lines.Where(l => l.StartsWith("FAIL\t", StringComparison.Ordinal) || l.StartsWith("WARN\t", StringComparison.Ordinal) || l.StartsWith("PASS\t", StringComparison.Ordinal)).ToList();
        var other = lines.Except(findingLines).ToList();
        Assert.True(other.All(l => l.StartsWith("audit: ", StringComparison.Ordinal) || l.StartsWith("note: ", StringComparison.Ordinal)), run.ToString());
        Assert.All(findingLines, l => Assert.Equal(5, l.Split('\t').Length));
        Assert.Contains(findingLines, l => l.Length > 40); // longer than COLUMNS, and still one line

        // The JSON report has as many findings, in the same order, module@version and kind on each line.
        var json = await RunToFileAsync(work, [.. Common, "--format", "json", world.RepoA, world.RepoB]);
        Assert.True(json.ExitCode == 1, json.ToString());
        using var doc = JsonDocument.Parse(json.Output);
        Assert.Equal(1, doc.RootElement.GetProperty("exitCode").GetInt32());
        var findings = doc.RootElement.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(findings.Count, findingLines.Count);
        for (var i = 0; i < findings.Count; i++)
        {
            var fields = findingLines[i].Split('\t');
            Assert.Equal($"{findings[i].GetProperty("module").GetString()}@{findings[i].GetProperty("version").GetString()}", fields[2]);
            Assert.StartsWith(findings[i].GetProperty("kind").GetString()!, fields[1], StringComparison.Ordinal);
        }

        // `grep module@version` finds the vulnerable version's line: FAIL, the advisory, the repository, the fix.
        var subject = AuditWorld.Vulnerable + "@v1.0.0";
        var grep = await Processes.RunAsync("grep", work, null, ["-F", "-e", subject, run.File]);
        Assert.True(grep.ExitCode == 0, grep.ToString());
        var found = grep.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var vuln = Assert.Single(found, l => l.StartsWith($"FAIL\tvuln.{AuditWorld.ParseAdvisory}\t{subject}\t", StringComparison.Ordinal));
        Assert.Contains("alpha: ", vuln, StringComparison.Ordinal);
        Assert.EndsWith($"\tgo get {AuditWorld.Vulnerable}@v1.2.1", vuln, StringComparison.Ordinal);
        Assert.DoesNotContain(found, l => l.Contains("beta: ", StringComparison.Ordinal) && l.Contains("vuln.", StringComparison.Ordinal));

        // --json is --format json.
        var alias = await RunToFileAsync(work, [.. Common, "--json", world.RepoA, world.RepoB]);
        using var aliasDoc = JsonDocument.Parse(alias.Output);
        Assert.Equal(findings.Count, aliasDoc.RootElement.GetProperty("findings").GetArrayLength());
    }

    [Fact]
    public async Task Exit_codes_are_0_with_fail_on_none_1_for_findings_and_2_for_a_missing_directory()
    {
        var work = TestPaths.NewTempDir("audit-cli-exit");

        var none = await RunToFileAsync(work, [.. Common, "--fail-on", "none", world.RepoA, world.RepoB]);
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Contains("--fail-on none: exit 0", none.Output, StringComparison.Ordinal);

        // Only a deprecated module: below the default (vuln), at --fail-on deprecated.
        Assert.Equal(0, (await RunToFileAsync(work, [.. Common, world.RepoC])).ExitCode);
        Assert.Equal(1, (await RunToFileAsync(work, [.. Common, "--fail-on", "deprecated", world.RepoC])).ExitCode);

        var nowhere = Path.Combine(world.Root, "no-such-repository");
        var missing = await RunToFileAsync(work, [.. Common, "--fail-on", "none", nowhere]);
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.Single(missing.Output.Split('\n'), l => l.StartsWith("FAIL\terror\t", StringComparison.Ordinal) && l.Contains(nowhere, StringComparison.Ordinal));

        // A usage error is 64, not 2: an unknown level.
        var usage = await RunToFileAsync(work, [.. Common, "--fail-on", "sometimes", world.RepoA]);
        Assert.True(usage.ExitCode == 64, usage.ToString());
    }

    /// <summary>`dotnet warren.dll ARGS &gt; FILE` through sh, with a narrow COLUMNS and NO_COLOR unset.</summary>
    private static async Task<Run> RunToFileAsync(string work, string[] args)
    {
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
        env.Remove("NO_COLOR");
        env.Remove("GOPROXY");
        env.Remove("WARREN_TOKEN");
        env["HOME"] = work;
        env["DOTNET_CLI_HOME"] = work;
        env["DOTNET_NOLOGO"] = "1";
        env["COLUMNS"] = "40";
        var file = Path.Combine(work, $"out-{Guid.NewGuid():N}.txt");
        var result = await Processes.RunAsync("/bin/sh", work, env, ["-c", "out=$1; shift; exec \"$@\" > \"$out\"", "sh", file, Dotnet, WarrenDll, .. args], timeout: TimeSpan.FromMinutes(2));
        return new Run(result.ExitCode, await File.ReadAllTextAsync(file), result.Stderr, file);
    }

    private sealed record Run(int ExitCode, string Output, string Stderr, string File)
    {
        public override string ToString() => $"exit {ExitCode}\noutput:\n{Output}\nstderr:\n{Stderr}";
    }
}
