using System.Text.Json;
using Warren.Server.Auth;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Auth;

/// <summary>`warren token create|list|revoke` as a process, and the token it prints working against a running Warren.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TokenCommandTests
{
    private static Task<ProcessResult> WarrenAsync(string workDir, Dictionary<string, string>? env, params string[] args)
    {
        var environment = env ?? new Dictionary<string, string>(StringComparer.Ordinal);
        environment["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        environment["HOME"] = workDir;
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } root)
        {
            environment["DOTNET_ROOT"] = root;
        }

        return Processes.RunAsync("dotnet", workDir, environment, [WarrenProcess.Dll, "token", .. args], timeout: TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task Create_prints_the_token_alone_on_the_last_line_list_never_shows_hashes_revoke_removes_and_the_file_is_mode_600()
    {
        var dir = TestPaths.NewTempDir("token-cli");
        var file = Path.Combine(dir, "etc", "auth.json");

        var created = await WarrenAsync(dir, null, "create", "alice", "--grant", "github.com/fatih,git.corp.example/*", "--expires", "90d", "--auth-file", file);
        Assert.True(created.ExitCode == 0, created.ToString());
        var token = created.Stdout.TrimEnd('\n').Split('\n')[^1];
        Assert.Matches("^wrn_[0-9a-f]{80}$", token);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.DoesNotContain(token, await File.ReadAllTextAsync(file), StringComparison.Ordinal);

        var json = await WarrenAsync(dir, new Dictionary<string, string>(StringComparer.Ordinal) { ["WARREN_AUTHFILE"] = file }, "create", "ci", "--admin", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var o = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal("ci", o.GetProperty("name").GetString());
        Assert.Matches("^wrn_[0-9a-f]{80}$", o.GetProperty("token").GetString()!);

        var duplicate = await WarrenAsync(dir, null, "create", "alice", "--grant", "x.example", "--auth-file", file);
        Assert.Equal(64, duplicate.ExitCode);
        Assert.Contains("exists already", duplicate.Stderr, StringComparison.Ordinal);
        var badPattern = await WarrenAsync(dir, null, "create", "dave", "--grant", "github.com/[", "--auth-file", file);
        Assert.Equal(64, badPattern.ExitCode);

        var list = await WarrenAsync(dir, null, "list", "--auth-file", file);
        Assert.True(list.ExitCode == 0, list.ToString());
        var lines = list.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("alice\tgithub.com/fatih,git.corp.example/*\t-\t", lines[0], StringComparison.Ordinal);
        Assert.Equal("ci\t-\tadmin\tnever", lines[1]);
        var listJson = await WarrenAsync(dir, null, "list", "--json", "--auth-file", file);
        Assert.Equal(2, JsonDocument.Parse(listJson.Stdout).RootElement.GetArrayLength());
        foreach (var output in new[] { list.Stdout, listJson.Stdout })
        {
            Assert.DoesNotContain("argon2", output, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(AuthFile.Load(file).Principals[0].Hash.Value, output, StringComparison.Ordinal);
        }

        // The printed token works against Warren; revoked, it stops working without a restart.
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, c => c.AuthFile = file);
        const string info = "github.com/fatih/color/@v/v1.13.0.info";
        Assert.Equal(200, (await AuthTestFiles.GetAsync(warren.Client, info, AuthTestFiles.Basic(token))).Status);

        var revoked = await WarrenAsync(dir, null, "revoke", "alice", "--auth-file", file);
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Equal(1, (await WarrenAsync(dir, null, "revoke", "alice", "--auth-file", file)).ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(["ci"], AuthFile.Load(file).Principals.Select(p => p.Name));

        var status = 200;
        for (var i = 0; i < 50 && status != 401; i++)
        {
            await Task.Delay(100);
            status = (await AuthTestFiles.GetAsync(warren.Client, info, AuthTestFiles.Basic(token))).Status;
        }

        Assert.Equal(401, status);
    }

    [Fact]
    public async Task Without_an_auth_file_the_verbs_say_how_to_give_one()
    {
        var dir = TestPaths.NewTempDir("token-cli");
        var result = await WarrenAsync(dir, null, "list");
        Assert.Equal(64, result.ExitCode);
        Assert.Contains("no auth file: give --auth-file FILE (or set WARREN_AUTHFILE)", result.Stderr, StringComparison.Ordinal);

        await File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"), "{\"Warren\":{\"AuthFile\":\"from-settings.json\"}}");
        var created = await WarrenAsync(dir, null, "create", "bob", "--grant", "example.com");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True(File.Exists(Path.Combine(dir, "from-settings.json")));
    }
}
