using System.Diagnostics;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Policy;

/// <summary>A malformed policy stops `warren serve` at start-up with exit code 2 and one line per problem, naming the line.</summary>
public sealed class PolicyStartupTests
{
    private static async Task<(int ExitCode, string Stderr)> ServeAsync(string dir, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { WarrenProcess.Dll, "serve", "--listen", "127.0.0.1:1", "--root", Path.Combine(dir, "store"), "--upstream", "off", "--sumdb", "off" }.Concat(extra))
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, stderr);
    }

    [Fact]
    public async Task A_malformed_policy_file_or_section_stops_start_up_with_the_line_and_the_problem()
    {
        var dir = TestPaths.NewTempDir("policy-start");
        var file = Path.Combine(dir, "policy.json");
        await File.WriteAllTextAsync(file, "{\n  \"deny\": [\n    { \"module\": \"github.com/x/[y\", \"reason\": \"r\" },\n    { \"module\": \"github.com/x/y\" }\n  ]\n}\n");
        var (code, stderr) = await ServeAsync(dir, "--policy", file);
        Assert.Equal(2, code);
        Assert.Contains($"invalid configuration: policy {file} line 3: deny[0]: bad module glob", stderr, StringComparison.Ordinal);
        Assert.Contains($"invalid configuration: policy {file} line 4: deny[1]: missing \"reason\"", stderr, StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, "{\n  \"deny\": [\n    { \"module\": \"a\" \"reason\": \"b\" }\n]\n}\n");
        (code, stderr) = await ServeAsync(dir, "--policy", file);
        Assert.Equal(2, code);
        Assert.Contains($"invalid configuration: policy {file} line 3: malformed JSON", stderr, StringComparison.Ordinal);

        // Inline in appsettings.json: the lines are the file's.
        await File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"), "{\n  \"Warren\": {\n    \"Policy\": {\n      \"denyRetracted\": true,\n      \"dney\": []\n    }\n  }\n}\n");
        (code, stderr) = await ServeAsync(dir);
        Assert.Equal(2, code);
        Assert.Contains("appsettings.json line 5: unknown key \"dney\"", stderr, StringComparison.Ordinal);
    }
}
