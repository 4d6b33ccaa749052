using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http;
using Warren.Tools.Explain;
using Warren.Tools.Reporting;

namespace Warren.Tools.Tests.Explain;

/// <summary>Real go runs that fail, for explain to classify: a main module in a scratch directory and the go
/// command's combined output.</summary>
internal static class ExplainGoLogs
{
    /// <summary>A leaf module of the corpus (no requirements), small.</summary>
    public static ManifestEntry Leaf => Manifest.Get("gopkg.in/ini.v1", "v1.66.2");

    /// <summary>A scratch main module; with a requirement when given, and these go.sum lines.</summary>
    public static string NewModule(ManifestEntry? require = null, string? goSum = null, string? mainGo = null)
    {
        var dir = TestPaths.NewTempDir("explain-mod");
        var goMod = "module example.com/explain\n\ngo 1.19\n" + (require is null ? "" : $"\nrequire {require.Path} {require.Version}\n");
        File.WriteAllText(Path.Combine(dir, "go.mod"), goMod);
        if (goSum is not null)
        {
            File.WriteAllText(Path.Combine(dir, "go.sum"), goSum);
        }

        if (mainGo is not null)
        {
            File.WriteAllText(Path.Combine(dir, "main.go"), mainGo);
        }

        return dir;
    }

    /// <summary>The genuine go.sum lines of a corpus module version (the h1 sums the real go client reported).</summary>
    public static string GoSumLines(ManifestEntry e) =>
        $"{e.Path} {e.Version} {e.ZipHash}\n{e.Path} {e.Version}/go.mod {e.ModHash}\n";

    /// <summary>Runs go and returns its stdout and stderr together (as a terminal or a build log shows them).</summary>
    public static async Task<(string Log, int ExitCode)> RunAsync(GoRunner go, string dir, params string[] args)
    {
        var result = await go.RunAsync(dir, args);
        return (result.Stdout + result.Stderr, result.ExitCode);
    }

    /// <summary>A hook answering every request with this status and a text/plain body (as a proxy's error page).</summary>
    public static Func<HttpContext, Task<bool>> Answer(int status, string body) => async context =>
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(body);
        return true;
    };

    /// <summary>A copy of a module zip with the same file names but different bytes: a comment appended to one .go file.</summary>
    public static string PoisonedZip(string zip)
    {
        var copy = Path.Combine(TestPaths.NewTempDir("explain-zip"), Path.GetFileName(zip));
        File.Copy(zip, copy);
        using var archive = ZipFile.Open(copy, ZipArchiveMode.Update);
        var victim = archive.Entries.First(e => e.FullName.EndsWith(".go", StringComparison.Ordinal));
        string name = victim.FullName;
        string content;
        using (var reader = new StreamReader(victim.Open(), Encoding.UTF8))
        {
            content = reader.ReadToEnd();
        }

        victim.Delete();
        var replaced = archive.CreateEntry(name);
        using var writer = new StreamWriter(replaced.Open(), new UTF8Encoding(false));
        writer.Write(content + "\n// this line was not in the tagged version\n");
        return copy;
    }

    /// <summary>The (check, subject) pairs of a report's failures and warnings.</summary>
    public static HashSet<(string Check, string? Subject)> Classes(Report report) =>
        report.Findings.Select(f => (f.Check, f.Subject)).ToHashSet();

    /// <summary>Explains a log (<see cref="LogExplainer.Explain"/>).</summary>
    public static Report ExplainLog(string log, int? exitCode = null) => LogExplainer.Explain(log, exitCode);

    /// <summary>Each line prefixed as BuildKit's plain progress shows a RUN step's output, between its status lines.</summary>
    public static string AsBuildKit(string log, int exitCode)
    {
        var sb = new StringBuilder();
        sb.Append("#8 [builder 4/6] RUN go mod download\n");
        double t = 0.5;
        foreach (var line in log.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'))
        {
            t += 0.013;
            sb.Append("#8 ").Append(t.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)).Append(' ').Append(line).Append('\n');
        }

        sb.Append("#8 ERROR: process \"/bin/sh -c go mod download\" did not complete successfully: exit code: ").Append(exitCode).Append('\n');
        sb.Append("------\n > [builder 4/6] RUN go mod download:\n------\n");
        return sb.ToString();
    }

    /// <summary>The log as the classic builder shows it: Step and ---> status lines around the unprefixed output.</summary>
    public static string AsClassicDocker(string log, int exitCode) =>
        "Step 5/9 : RUN go mod download\n ---> Running in 3f2a1b0c9d8e\n" + log.TrimEnd('\n') + "\n"
        + $"The command '/bin/sh -c go mod download' returned a non-zero code: {exitCode}\n";
}
