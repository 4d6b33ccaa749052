using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Warren.Core.Vulns;
using Warren.Server.Tests.Auth;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Impact;

/// <summary>`warren audit --served` through the built command against a running Warren with an auth file: the token
/// comes from WARREN_TOKEN; the report names exactly the token that downloaded the affected version; a token that is not
/// an admin gets one clear line and exit code 2.</summary>
public sealed class ImpactCliTests
{
    private const string Module = "github.com/mattn/go-isatty";

    private static string Dotnet { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
        .Select(d => Path.Combine(d, "dotnet")).FirstOrDefault(File.Exists) ?? "dotnet";

    [Fact]
    public async Task Audit_served_names_the_token_that_downloaded_the_affected_version_and_needs_an_admin_token()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", "github.com/mattn");
        var bob = AuthTestFiles.Add(file, "bob", "github.com/mattn");
        var security = AuthTestFiles.Add(file, "security", "", admin: true);
        var catalog = new TestAdvisoryCatalog();
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.AuthFile = file, services: s => s.AddSingleton<IAdvisoryCatalog>(catalog));

        // alice downloads the affected version, bob the fixed one.
        foreach (var (token, downloaded) in new[] { (alice, "v0.0.14"), (bob, "v0.0.16") })
        {
            var (status, _, _) = await AuthTestFiles.GetAsync(warren.Client, $"{Module}/@v/{downloaded}.zip", AuthTestFiles.Basic(token));
            Assert.Equal(200, status);
        }

        await catalog.RefreshAsync(warren.Services, [TestAdvisoryCatalog.Against("GO-2026-0001", Module, "v0.0.15", "CVE-2026-0001")], firstLoad: true);
        var work = TestPaths.NewTempDir("impact-cli");

        var text = await RunAsync(work, security, "audit", "--served", "--since", "90d", "--proxy", warren.Url);
        Assert.True(text.ExitCode == 1, text.ToString());
        var lines = text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines, l => l.StartsWith(Module + "@", StringComparison.Ordinal));
        Assert.StartsWith($"{Module}@v0.0.14 GO-2026-0001(CVE-2026-0001) fixed v0.0.15 client alice downloads 1 last ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("bob", text.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', text.Stdout);

        var json = await RunAsync(work, security, "audit", "--served", "--since", "90d", "--format", "json", "--proxy", warren.Url);
        Assert.True(json.ExitCode == 1, json.ToString());
        using var doc = JsonDocument.Parse(json.Stdout);
        var version = Assert.Single(doc.RootElement.GetProperty("versions").EnumerateArray());
        Assert.Equal("v0.0.14", version.GetProperty("version").GetString());
        Assert.Equal("alice", Assert.Single(version.GetProperty("clients").EnumerateArray()).GetProperty("client").GetString());

        // Not an admin: one line naming the refusal, exit 2. No token at all: 401, exit 2.
        var refused = await RunAsync(work, alice, "audit", "--served", "--proxy", warren.Url);
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Empty(refused.Stdout);
        var error = Assert.Single(refused.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("warren audit --served: ", error, StringComparison.Ordinal);
        Assert.Contains("HTTP 403", error, StringComparison.Ordinal);
        Assert.Contains("token \"alice\" is not an admin token", error, StringComparison.Ordinal);

        var anonymous = await RunAsync(work, null, "audit", "--served", "--proxy", warren.Url);
        Assert.True(anonymous.ExitCode == 2, anonymous.ToString());
        Assert.Contains("HTTP 401", anonymous.Stderr, StringComparison.Ordinal);
    }

    /// <summary>`dotnet warren.dll ARGS` with WARREN_TOKEN set to token (or unset), standard output a pipe.</summary>
    private static Task<ProcessResult> RunAsync(string work, string? token, params string[] args)
    {
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
        env.Remove("WARREN_TOKEN");
        env.Remove("GOPROXY");
        env["HOME"] = work;
        env["DOTNET_CLI_HOME"] = work;
        env["DOTNET_NOLOGO"] = "1";
        if (token is not null)
        {
            env["WARREN_TOKEN"] = token;
        }

        return Processes.RunAsync(Dotnet, work, env, [WarrenProcess.Dll, .. args], timeout: TimeSpan.FromMinutes(2));
    }
}
