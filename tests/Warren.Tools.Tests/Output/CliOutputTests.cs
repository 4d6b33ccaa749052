using System.IO.Compression;
using System.Text.Json;

namespace Warren.Tools.Tests.Output;

/// <summary>Each report verb of the built `warren`, its output redirected to a file as in `warren verify &gt; out.txt`:
/// no escape codes, no box drawing, one unbroken line per finding that `grep module@version` finds.</summary>
public sealed class CliOutputTests
{
    private const string Path0 = "github.com/some-long-organisation-name/some-long-repository-name";
    private const string Version = "v1.2.3";
    private const string Module = Path0 + "@" + Version;

    private static string WarrenDll => Path.Combine(AppContext.BaseDirectory, "warren.dll");

    [Fact]
    public async Task Explain_to_a_file()
    {
        var work = TestPaths.NewTempDir("cliout-explain");
        var log = Path.Combine(work, "build.log");
        await File.WriteAllTextAsync(log, $"go: downloading {Path0} {Version}\ngo: {Module}: reading http://127.0.0.1:9/{Path0}/@v/{Version}.info: 404 Not Found\n");

        var run = await RunToFileAsync(work, Environment(work), "explain", log);
        Assert.True(run.ExitCode == 2, run.ToString());
        await AssertPlainAsync(run, "FAIL", "explain", work, Environment(work), "explain", log);

        // --color always forces colour codes into the file; the lines stay whole.
        var colour = await RunToFileAsync(work, Environment(work), "explain", log, "--color", "always");
        Assert.Contains("\u001b[31mFAIL\u001b[0m\t", colour.Output, StringComparison.Ordinal);
        Assert.Single(Lines(colour.Output), l => l.Contains(Module, StringComparison.Ordinal) && l.Contains("FAIL", StringComparison.Ordinal));
        Assert.DoesNotContain(colour.Output, IsBoxDrawing);

        // NO_COLOR with --color auto: none.
        var noColor = await RunToFileAsync(work, Environment(work, ("NO_COLOR", "1")), "explain", log, "--color", "auto");
        Assert.DoesNotContain('\u001b', noColor.Output);

        var bad = await RunToFileAsync(work, Environment(work), "explain", log, "--color", "sometimes");
        Assert.True(bad.ExitCode == 64, bad.ToString());
    }

    [Fact]
    public async Task Verify_to_a_file_and_go_sum_lists_end_at_the_next_option()
    {
        var work = TestPaths.NewTempDir("cliout-verify");
        var modCache = Path.Combine(work, "modcache");
        var dir = Path.Combine(modCache, "cache", "download", Path0, "@v");
        Directory.CreateDirectory(dir);
        using (var zip = ZipFile.Open(Path.Combine(dir, Version + ".zip"), ZipArchiveMode.Create))
        {
            using var entry = new StreamWriter(zip.CreateEntry(Module + "/go.mod").Open());
            entry.Write($"module {Path0}\n");
        }

        await File.WriteAllTextAsync(Path.Combine(dir, Version + ".mod"), $"module {Path0}\n");
        await File.WriteAllTextAsync(Path.Combine(dir, Version + ".ziphash"), "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
        var env = Environment(work);

        var run = await RunToFileAsync(work, env, "verify", "--modcache", modCache, "--jobs", "1");
        Assert.True(run.ExitCode == 2, run.ToString());
        await AssertPlainAsync(run, "FAIL", "verify", work, env, "verify", "--modcache", modCache, "--jobs", "1");

        // `--go-sum a.sum --color never` reads one go.sum, and --color is the option, not a second file.
        const string Other = "github.com/another-long-organisation-name/another-long-repository-name";
        var a = Path.Combine(work, "a.sum");
        var b = Path.Combine(work, "b.sum");
        await File.WriteAllTextAsync(a, $"{Other} v0.4.0 h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
        await File.WriteAllTextAsync(b, $"{Other} v0.5.0 h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
        var one = await RunToFileAsync(work, env, "verify", "--modcache", modCache, "--go-sum", a, "--color", "never");
        Assert.True(one.ExitCode == 2, one.ToString());
        Assert.Single(Lines(one.Output), l => l.StartsWith($"WARN\tgosum.not-in-cache\t{Other}@v0.4.0\t", StringComparison.Ordinal));
        Assert.DoesNotContain("gosum.read", one.Output, StringComparison.Ordinal);
        Assert.Contains(", 1 go.sum files", one.Output, StringComparison.Ordinal);

        // Several values after one --go-sum (as the README shows) and the option repeated both still work.
        foreach (var args in new[] { new[] { "--go-sum", a, b, "--color", "never" }, ["--go-sum", a, "--go-sum", b, "--color", "never"] })
        {
            var two = await RunToFileAsync(work, env, ["verify", "--modcache", modCache, .. args]);
            Assert.True(two.ExitCode == 2, two.ToString());
            Assert.Single(Lines(two.Output), l => l.StartsWith($"WARN\tgosum.not-in-cache\t{Other}@v0.5.0\t", StringComparison.Ordinal));
            Assert.Contains(", 2 go.sum files", two.Output, StringComparison.Ordinal);
        }

        // An unknown option after the list is refused by name, not read as a go.sum file.
        var typo = await RunToFileAsync(work, env, "verify", "--modcache", modCache, "--go-sum", a, "--colour", "never");
        Assert.True(typo.ExitCode == 64, typo.ToString());
        Assert.Contains("--go-sum: --colour is not a value but looks like an option", typo.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prefetch_to_a_file()
    {
        var work = TestPaths.NewTempDir("cliout-prefetch");
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var goSum = Path.Combine(work, "go.sum");
        await File.WriteAllTextAsync(goSum, $"{Path0} {Version} h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n{Path0} {Version}/go.mod h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
        var env = Environment(work);

        var run = await RunToFileAsync(work, env, "prefetch", "--proxy", upstream.Url, "--jobs", "2", goSum);
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(upstream.Requests, r => r.Contains(Path0, StringComparison.Ordinal));
        await AssertPlainAsync(run, "FAIL", "prefetch", work, env, "prefetch", "--proxy", upstream.Url, "--jobs", "2", goSum);
    }

    [Fact]
    public async Task Doctor_to_a_file()
    {
        var work = TestPaths.NewTempDir("cliout-doctor");
        var module = Path.Combine(work, "module");
        Directory.CreateDirectory(module);
        await File.WriteAllTextAsync(Path.Combine(module, "go.mod"), $"module example.com/cliout\n\ngo 1.19\n\nrequire {Path0} {Version}\n");

        // GOPROXY=off: the requirement cannot resolve and nothing is asked of any network; go.sum is missing.
        var env = GoRunner.IsolatedEnvironment("off", work);
        env["DOTNET_CLI_HOME"] = work;
        env["DOTNET_NOLOGO"] = "1";
        env["GIT_CONFIG_NOSYSTEM"] = "1";
        env["GIT_CONFIG_GLOBAL"] = "/dev/null";
        string[] args = ["doctor", "--module-dir", module, "--timeout", "5"];

        var run = await RunToFileAsync(module, env, args);
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Single(Lines(run.Output), l => l.StartsWith("FAIL\tmodule.resolve\t" + Module + "\t", StringComparison.Ordinal));
        await AssertPlainAsync(run, "FAIL", "doctor", module, env, args);
    }

    [Fact]
    public async Task On_a_terminal_a_table_of_COLUMNS_width_that_keeps_the_module_version_whole()
    {
        // script(1) runs warren on a pseudo-terminal: standard output is a terminal there.
        var work = TestPaths.NewTempDir("cliout-tty");
        var log = Path.Combine(work, "build.log");
        await File.WriteAllTextAsync(log, $"go: {Module}: reading http://127.0.0.1:9/{Path0}/@v/{Version}.info: 404 Not Found\n");
        var command = $"'{Dotnet}' '{WarrenDll}' explain '{log}'";

        var colour = await Processes.RunAsync("script", work, Environment(work, ("COLUMNS", "200"), ("TERM", "xterm")), ["-q", "-e", "-c", command, "/dev/null"], timeout: TimeSpan.FromMinutes(2));
        Assert.True(colour.ExitCode == 2, colour.ToString());
        var lines = colour.Stdout.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var row = Assert.Single(lines, l => l.Contains(Module, StringComparison.Ordinal) && l.Contains("FAIL", StringComparison.Ordinal));
        Assert.StartsWith("│", row, StringComparison.Ordinal);
        Assert.Contains("\u001b[", row, StringComparison.Ordinal); // the verdict is coloured
        Assert.Contains(lines, l => l.Contains('╭', StringComparison.Ordinal) && l[l.IndexOf('╭', StringComparison.Ordinal)..].Length == 200);

        var plain = await Processes.RunAsync("script", work, Environment(work, ("COLUMNS", "200"), ("TERM", "xterm"), ("NO_COLOR", "1")), ["-q", "-e", "-c", command, "/dev/null"], timeout: TimeSpan.FromMinutes(2));
        Assert.True(plain.ExitCode == 2, plain.ToString());
        Assert.Contains(Module, plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("│", plain.Stdout, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\u001b\[[0-9;]*m", plain.Stdout); // no colour (the runtime may still switch the keypad mode)
    }

    /// <summary>No escape codes or box drawing; every finding of the JSON report is one line (VERDICT, CHECK, SUBJECT,
    /// EVIDENCE, FIX), and the real grep finds the module@version on a line with its verdict.</summary>
    private static async Task AssertPlainAsync(Run run, string verdict, string command, string work, Dictionary<string, string> env, params string[] args)
    {
        Assert.DoesNotContain('\u001b', run.Output);
        Assert.DoesNotContain(run.Output, IsBoxDrawing);

        var json = await Processes.RunAsync("dotnet", work, env, [WarrenDll, .. args, "--json"], timeout: TimeSpan.FromMinutes(2));
        using var doc = JsonDocument.Parse(json.Stdout);
        var findings = doc.RootElement.GetProperty("findings").EnumerateArray().ToList();
        var lines = Lines(run.Output);
        var findingLines = lines.Where(l => l.StartsWith("PASS\t", StringComparison.Ordinal) || l.StartsWith("WARN\t", StringComparison.Ordinal) || l.StartsWith("FAIL\t", StringComparison.Ordinal)).ToList();
        Assert.True(findings.Count == findingLines.Count, $"{findings.Count} findings, {findingLines.Count} lines:\n{run.Output}");
        for (var i = 0; i < findings.Count; i++)
        {
            var fields = findingLines[i].Split('\t');
            Assert.Equal(5, fields.Length);
            Assert.Equal(findings[i].GetProperty("verdict").GetString()!.ToUpperInvariant(), fields[0]);
            Assert.Equal(findings[i].GetProperty("check").GetString(), fields[1]);
            Assert.Equal(findings[i].TryGetProperty("subject", out var s) ? s.GetString() : "-", fields[2]);
        }

        Assert.StartsWith(command + ": ", lines[^1], StringComparison.Ordinal);

        var grep = await Processes.RunAsync("grep", work, null, ["-F", "-e", Module, run.File]);
        Assert.True(grep.ExitCode == 0, grep.ToString());
        Assert.Contains(Lines(grep.Stdout), l => l.StartsWith(verdict + "\t", StringComparison.Ordinal) && l.Split('\t')[2] == Module);
    }

    private static bool IsBoxDrawing(char c) => c is >= '\u2500' and <= '\u257f';

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    /// <summary>The environment of this process (a terminal's NO_COLOR or COLUMNS included, which must not matter off a
    /// terminal) with a HOME of the test's own.</summary>
    private static Dictionary<string, string> Environment(string home, params (string Key, string Value)[] extra)
    {
        var env = System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
        env.Remove("NO_COLOR");
        env["HOME"] = home;
        env["DOTNET_CLI_HOME"] = home;
        env["DOTNET_NOLOGO"] = "1";
        env["GOFLAGS"] = "-mod=mod";
        foreach (var (k, v) in extra)
        {
            env[k] = v;
        }

        return env;
    }

    /// <summary>`dotnet warren.dll ARGS &gt; FILE` through sh: standard output is a file, not a terminal.</summary>
    private static async Task<Run> RunToFileAsync(string work, Dictionary<string, string> env, params string[] args)
    {
        var file = Path.Combine(work, $"out-{Guid.NewGuid():N}.txt");
        var result = await Processes.RunAsync("/bin/sh", work, env, ["-c", "out=$1; shift; exec \"$@\" > \"$out\"", "sh", file, Dotnet, WarrenDll, .. args], timeout: TimeSpan.FromMinutes(2));
        return new Run(result.ExitCode, await File.ReadAllTextAsync(file), result.Stderr, file);
    }

    private static string Dotnet { get; } = (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
        .Select(d => Path.Combine(d, "dotnet")).FirstOrDefault(File.Exists) ?? "dotnet";

    private sealed record Run(int ExitCode, string Output, string Stderr, string File)
    {
        public override string ToString() => $"exit {ExitCode}\noutput:\n{Output}\nstderr:\n{Stderr}";
    }
}
