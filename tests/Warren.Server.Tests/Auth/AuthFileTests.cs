using System.Diagnostics;
using Microsoft.Extensions.Options;
using Warren.Server.Auth;
using Warren.Server.Configuration;

namespace Warren.Server.Tests.Auth;

/// <summary>The auth file format, its checks, atomic mode-600 writes, and the token cache.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AuthFileTests
{
    [Fact]
    public void Saved_files_are_mode_600_hold_no_token_and_load_back()
    {
        var file = AuthTestFiles.NewFile();
        var token = AuthTestFiles.Add(file, "alice", "git.corp.example/*,github.com/corp", admin: true);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var text = File.ReadAllText(file);
        Assert.DoesNotContain(token[20..], text, StringComparison.Ordinal);
        var doc = AuthFile.Load(file);
        var alice = doc.Principals.Single();
        Assert.Equal(["git.corp.example/*", "github.com/corp"], alice.Grants);
        Assert.True(alice.Admin);
        Assert.Equal(token[4..20], alice.Id);
        Assert.True(TokenHash.Verify(token, alice.Hash));
        Assert.False(TokenHash.Verify(token[..^1] + (token[^1] == '0' ? '1' : '0'), alice.Hash));

        // No temporary files are left beside it.
        Assert.Equal(["auth.json", "auth.json.lock"], Directory.GetFiles(Path.GetDirectoryName(file)!).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("{\"version\":2,\"principals\":[]}", "unsupported version 2")]
    [InlineData("{\"version\":1,\"principals\":[{\"name\":\"a b\",\"id\":\"0123456789abcdef\"}]}", "must be 1-64 letters")]
    [InlineData("{\"version\":1,\"principals\":[{\"name\":\"anonymous\",\"id\":\"0123456789abcdef\"}]}", "is reserved")]
    [InlineData("{\"version\":1,\"principals\":[{\"name\":\"a\",\"id\":\"xyz\"}]}", "id must be 16 lower-case hex digits")]
    [InlineData("{\"version\":1,\"principals\":[{\"name\":\"a\",\"id\":\"0123456789abcdef\",\"hash\":{\"algorithm\":\"md5\"}}]}", "hash: algorithm \"md5\"")]
    public void Broken_files_are_refused_with_the_reason(string json, string reason)
    {
        var file = AuthTestFiles.NewFile();
        File.WriteAllText(file, json);
        var e = Assert.Throws<AuthFileException>(() => AuthFile.Load(file));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("auth file " + file + ": ", e.Message, StringComparison.Ordinal);

        // The same problem stops start-up, one line.
        var problems = new WarrenOptionsValidator().Validate(null, new WarrenOptions { Root = "/tmp/x", Upstream = "off", AuthFile = file });
        Assert.Contains(problems.Failures!, f => f.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void The_validator_checks_anonymous_admin_listen_and_rate_limit_values()
    {
        var o = new WarrenOptions
        {
            Root = "/tmp/x",
            Upstream = "off",
            AuthFile = Path.Combine(TestPaths.NewTempDir("auth"), "missing.json"),
            Anonymous = "github.com/[",
            AdminListen = "nowhere",
            RateLimit = -1,
        };
        var failures = new WarrenOptionsValidator().Validate(null, o).Failures!.ToList();
        Assert.Contains(failures, f => f.Contains("missing.json: does not exist", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("anonymous \"github.com/[\": invalid pattern", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("admin listen: ", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("rate limit -1", StringComparison.Ordinal));

        var noFile = new WarrenOptionsValidator().Validate(null, new WarrenOptions { Root = "/tmp/x", Upstream = "off", Anonymous = "github.com", RateLimitBurst = 0 }).Failures!.ToList();
        Assert.Contains(noFile, f => f.Contains("only means something with an auth file", StringComparison.Ordinal));
        Assert.Contains(noFile, f => f.StartsWith("rate limit burst 0", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("90d", 90 * 24)]
    [InlineData("12h", 12)]
    [InlineData("2w", 14 * 24)]
    public void Expiry_durations(string text, int hours)
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(now.AddHours(hours), AuthFile.ParseExpiry(text, now, out _));
        Assert.Null(AuthFile.ParseExpiry("soon", now, out var error));
        Assert.Contains("want a duration", error, StringComparison.Ordinal);
        Assert.Null(AuthFile.ParseExpiry("2020-01-01", now, out error));
        Assert.Contains("in the past", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_known_token_is_verified_once_then_costs_microseconds_and_an_unknown_id_never_reaches_Argon2()
    {
        var file = AuthTestFiles.NewFile();
        var (id, token) = TokenFormat.Create();
        AuthFile.Edit(file, doc =>
        {
            // Default (production) parameters: tens of milliseconds per verification.
            doc.Principals.Add(new AuthPrincipalEntry { Name = "alice", Id = id, Hash = TokenHash.Create(token), Grants = ["*"] });
            return 0;
        });
        using var store = new AuthStore(Options.Create(new WarrenOptions { AuthFile = file }), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<AuthStore>.Instance);

        var cold = Stopwatch.StartNew();
        Assert.Equal(AuthStatus.Valid, (await store.AuthenticateAsync(token, default)).Status);
        cold.Stop();

        var warm = Stopwatch.StartNew();
        for (var i = 0; i < 10_000; i++)
        {
            Assert.Equal(AuthStatus.Valid, (await store.AuthenticateAsync(token, default)).Status);
        }

        warm.Stop();
        var perWarm = warm.Elapsed / 10_000;
        Assert.True(perWarm < TimeSpan.FromMilliseconds(0.05), $"warm {perWarm.TotalMicroseconds:0.0} µs per token");
        Assert.True(cold.Elapsed > perWarm * 100, $"cold {cold.Elapsed.TotalMilliseconds} ms, warm {perWarm.TotalMicroseconds:0.0} µs");

        var unknown = Stopwatch.StartNew();
        var other = TokenFormat.Create().Token;
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(AuthStatus.Invalid, (await store.AuthenticateAsync(other, default)).Status);
        }

        Assert.True(unknown.Elapsed < cold.Elapsed * 10, $"1000 unknown tokens took {unknown.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void A_warning_is_logged_when_listening_beyond_loopback_without_an_auth_file()
    {
        foreach (var (listen, authFile, warns) in new[]
                 {
                     ("0.0.0.0:3000", (string?)null, true), ("[::]:3000", null, true), (":3000", null, true), ("192.0.2.7:3000", null, true),
                     ("127.0.0.1:3000", null, false), ("[::1]:3000", null, false), ("localhost:3000", null, false), ("0.0.0.0:3000", "auth.json", false),
                 })
        {
            var logger = new CapturingLogger();
            AccessControl.WarnIfOpen(new WarrenOptions { Listen = listen, AuthFile = authFile }, logger);
            Assert.True(warns == logger.Lines.Any(l => l.StartsWith("Warning Warren listens on " + listen + ", not a loopback address, without an auth file", StringComparison.Ordinal)),
                $"{listen} {authFile}: {string.Join('|', logger.Lines)}");
        }
    }
}
