using Microsoft.Extensions.Options;
using Warren.Core.SumDb;
using Warren.Server.Configuration;
using Warren.Server.SumDb;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.SumDb;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ChecksumPolicyTests
{
    private static ChecksumPolicy Policy(string? sumdb = "sum.golang.org", bool hosted = false, string? privatePatterns = "", string? noSumDb = null,
        string? rules = null, string? hostedPatterns = null) =>
        Policy(new WarrenOptions
        {
            SumDb = sumdb,
            HostedSumDb = hosted ? "/keys/sum.example.com.signer" : null,
            Private = privatePatterns,
            NoSumDb = noSumDb ?? privatePatterns,
            SumDbPolicy = rules,
            HostedSumDbPatterns = hostedPatterns,
        });

    private static ChecksumPolicy Policy(WarrenOptions options) =>
        new(ChecksumPolicy.Parse(options.SumDbPolicy).Rules, Options.Create(options), WarrenServiceCollectionExtensions.ProtocolSettingsFrom(options));

    [Theory]
    // Public paths go to the configured database; the hosted one (if any) logs them too.
    [InlineData("sum.golang.org", false, "corp.example", null, null, "github.com/a/b", ChecksumMode.SumDb, false, false)]
    [InlineData("sum.golang.org", true, "corp.example", null, null, "github.com/a/b", ChecksumMode.SumDb, true, false)]
    // Private paths: hosted when hosted, else skipped; never the public database.
    [InlineData("sum.golang.org", false, "corp.example", null, null, "corp.example/x", ChecksumMode.Skip, false, true)]
    [InlineData("sum.golang.org", true, "corp.example", null, null, "corp.example/x/y", ChecksumMode.Hosted, true, true)]
    // A rule cannot send a private path to the public database.
    [InlineData("sum.golang.org", true, "corp.example", "corp.example=sumdb", null, "corp.example/x", ChecksumMode.Hosted, true, true)]
    [InlineData("sum.golang.org", false, "corp.example", "*=sumdb", null, "corp.example/x", ChecksumMode.Skip, false, true)]
    // Rules: first match wins.
    [InlineData("sum.golang.org", true, "", "github.com/legacy=skip;github.com=hosted", null, "github.com/legacy/x", ChecksumMode.Skip, false, false)]
    [InlineData("sum.golang.org", true, "", "github.com/legacy=skip;github.com=hosted", null, "github.com/other/x", ChecksumMode.Hosted, true, false)]
    // sumdb off: hosted (trust on first use) or skip.
    [InlineData("off", true, "", null, null, "github.com/a/b", ChecksumMode.Hosted, true, false)]
    [InlineData("off", false, "", null, null, "github.com/a/b", ChecksumMode.Skip, false, false)]
    // Hosted patterns restrict what is logged; outside them a hosted-only path has nothing to check against.
    [InlineData("sum.golang.org", true, "corp.example", null, "corp.example", "github.com/a/b", ChecksumMode.SumDb, false, false)]
    [InlineData("off", true, "", null, "corp.example", "github.com/a/b", ChecksumMode.Skip, false, false)]
    public void Decides_mode_logging_and_privacy(string sumdb, bool hosted, string privatePatterns, string? rules, string? hostedPatterns, string path,
        ChecksumMode mode, bool log, bool isPrivate)
    {
        var decision = Policy(sumdb, hosted, privatePatterns, rules: rules, hostedPatterns: hostedPatterns).Decide(path);
        Assert.Equal(new ChecksumDecision(mode, log, isPrivate), decision);
    }

    [Fact]
    public void GONOSUMDB_alone_makes_a_path_private_to_the_public_database()
    {
        var policy = Policy(privatePatterns: "", noSumDb: "*.internal");
        Assert.True(policy.IsPrivate("git.internal/team/x"));
        Assert.False(policy.IsPrivate("github.com/team/x"));
    }

    [Theory]
    [InlineData("corp.example=hosted", true, null)]
    [InlineData("a.example,b.example=skip; github.com/*=sumdb", true, null)]
    [InlineData("corp.example", false, "want GLOBS=MODE")]
    [InlineData("corp.example=verify", false, "the mode must be sumdb, hosted or skip")]
    [InlineData("[=skip", false, "syntax error in pattern")]
    public void Rules_parse_or_say_what_is_wrong(string text, bool ok, string? message)
    {
        // The form the server is built from: rules, or no rules and the error.
        var (rules, error) = ChecksumPolicy.Parse(text);
        Assert.Equal(ok, error is null);
        if (ok)
        {
            Assert.NotEmpty(rules);
        }
        else
        {
            Assert.Empty(rules);
            Assert.Contains(message!, error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Keygen_writes_a_secret_signer_and_a_verifier_GOSUMDB_accepts_and_never_overwrites()
    {
        var dir = TestPaths.NewTempDir("keygen");
        var (signerFile, verifierFile, verifierKey) = HostedSumDbKey.Generate("sum.example.com", dir);
        Assert.Equal(Path.Combine(dir, "sum.example.com.signer"), signerFile);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(signerFile));
        Assert.Equal(verifierKey, File.ReadAllText(verifierFile).Trim());
        Assert.True(HostedSumDbKey.TryLoad(signerFile, out var signer, out var error), error);
        Assert.True(NoteVerifier.TryParse(verifierKey, out var verifier, out _));
        Assert.Equal("sum.example.com", verifier!.Name);
        Assert.Equal(signer.KeyHash, verifier.KeyHash);
        var note = Note.Sign(new Note("hello\n"), signer);
        Assert.Equal("hello\n", Note.Open(note, new NoteVerifierList(verifier)).Text);

        Assert.Throws<IOException>(() => HostedSumDbKey.Generate("sum.example.com", dir));
        Assert.Throws<ArgumentException>(() => HostedSumDbKey.Generate("bad name", dir));

        File.SetUnixFileMode(signerFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Assert.False(HostedSumDbKey.TryLoad(signerFile, out _, out error));
        Assert.Contains("chmod 600", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Warren_sumdb_keygen_writes_the_key_files_and_exits_with_named_codes()
    {
        var dir = TestPaths.NewTempDir("keygen");
        var env = Processes.BaseEnvironment(dir);
        var ok = await Processes.RunAsync("dotnet", dir, env, [WarrenProcess.Dll, "sumdb", "keygen", "sum.corp.example", "--out", dir]);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        var verifier = File.ReadAllText(Path.Combine(dir, "sum.corp.example.verifier")).Trim();
        Assert.Contains(verifier, ok.Stdout, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "sum.corp.example.signer")));

        var again = await Processes.RunAsync("dotnet", dir, env, [WarrenProcess.Dll, "sumdb", "keygen", "sum.corp.example", "--out", dir]);
        Assert.Equal(73, again.ExitCode);
        Assert.Contains("not overwriting", again.Stderr, StringComparison.Ordinal);
        var json = await Processes.RunAsync("dotnet", dir, env, [WarrenProcess.Dll, "sumdb", "keygen", "sum.other.example", "--out", dir, "--json"]);
        Assert.Equal(0, json.ExitCode);
        using (var doc = System.Text.Json.JsonDocument.Parse(json.Stdout))
        {
            Assert.Equal(File.ReadAllText(Path.Combine(dir, "sum.other.example.verifier")).Trim(), doc.RootElement.GetProperty("verifierKey").GetString());
        }

        var bad = await Processes.RunAsync("dotnet", dir, env, [WarrenProcess.Dll, "sumdb", "keygen", "no+plus", "--out", dir]);
        Assert.Equal(64, bad.ExitCode);
        var help = await Processes.RunAsync("dotnet", dir, env, [WarrenProcess.Dll, "sumdb", "keygen", "--help"]);
        Assert.Contains("GOSUMDB=", help.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_checksum_configuration_stops_the_server_at_start_up_with_one_line_per_problem()
    {
        var dir = TestPaths.NewTempDir("keygen");
        var (signerFile, _, _) = HostedSumDbKey.Generate("sum.golang.org", dir);
        var problems = await Assert.ThrowsAsync<OptionsValidationException>(() => WarrenInstance.StartAsync("off", o =>
        {
            o.SumDb = "sum.golang.org";
            o.HostedSumDb = signerFile;
            o.SumDbPolicy = "corp.example=bogus";
        }));
        Assert.Contains(problems.Failures, f => f.Contains("the same name as the checksum database it verifies against", StringComparison.Ordinal));
        Assert.Contains(problems.Failures, f => f.Contains("the mode must be sumdb, hosted or skip", StringComparison.Ordinal));

        var missing = await Assert.ThrowsAsync<OptionsValidationException>(() => WarrenInstance.StartAsync("off", o =>
        {
            o.SumDb = "sum.example.com";
            o.HostedSumDb = Path.Combine(dir, "nope.signer");
            o.SumDbPolicy = "corp.example=sumdb";
        }));
        Assert.Contains(missing.Failures, f => f.Contains("no key for sum.example.com", StringComparison.Ordinal));
        Assert.Contains(missing.Failures, f => f.Contains("does not exist (create one with: warren sumdb keygen", StringComparison.Ordinal));

        var off = await Assert.ThrowsAsync<OptionsValidationException>(() => WarrenInstance.StartAsync("off", o => o.SumDbPolicy = "corp.example=sumdb;x.example=hosted"));
        Assert.Contains(off.Failures, f => f.Contains("the checksum database is off", StringComparison.Ordinal));
        Assert.Contains(off.Failures, f => f.Contains("no hosted checksum database", StringComparison.Ordinal));
    }
}
