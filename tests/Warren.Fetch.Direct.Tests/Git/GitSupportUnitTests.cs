using System.Text;
using Warren.Fetch.Direct.Git;

namespace Warren.Fetch.Direct.Tests.Git;

public sealed class NetrcTests
{
    [Fact]
    public void Parses_machine_entries_like_cmd_go()
    {
        const string data = """
            machine incomplete
            password none

            machine api.github.com
              login user
              password pwd

            machine incomlete.host
              login justlogin

            machine test.host
            login user2
            password pwd2

            machine oneline login user3 password pwd3

            machine ignore.host macdef ignore
              login nobody
              password nothing

            machine hasmacro.too macdef ignore-next-lines login user4 password pwd4
              login nobody
              password nothing

            default
            login anonymous
            password gopher@golang.org

            machine after.default
            login oops
            password too-late-in-file
            """;

        var entries = Netrc.Parse(data);

        // The expected list of cmd/go's netrc_test.go.
        Assert.Equal(
        [
            new NetrcEntry("api.github.com", "user", "pwd"),
            new NetrcEntry("test.host", "user2", "pwd2"),
            new NetrcEntry("oneline", "user3", "pwd3"),
            new NetrcEntry("hasmacro.too", "user4", "pwd4"),
        ], entries);
    }

    [Fact]
    public void A_default_entry_never_lends_its_password_and_a_value_named_default_is_a_value()
    {
        // cmd/go would finish "machine a" with the default entry's password here; Warren stops at the keyword.
        Assert.Empty(Netrc.Parse("machine a login u\ndefault login d\npassword p\nmachine b login v password w\n"));
        Assert.Empty(Netrc.Parse("machine a login u default password p\n"));

        Assert.Equal(
        [
            new NetrcEntry("h", "u", "default"),
            new NetrcEntry("k", "v", "w"),
        ], Netrc.Parse("machine h login u password default\nmachine k login v password w\n"));
    }

    [Fact]
    public void Lookup_is_by_host_name_and_first_match_wins()
    {
        var entries = Netrc.Parse("machine example.com login a password one\nmachine example.com login b password two\n");

        Assert.Equal("a", Netrc.Find(entries, "example.com")!.Login);
        Assert.Equal("a", Netrc.Find(entries, "EXAMPLE.com")!.Login);
        Assert.Null(Netrc.Find(entries, "example.org"));
        Assert.DoesNotContain("one", entries[0].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Path_comes_from_NETRC_else_the_home_directory()
    {
        Assert.Equal("/custom/netrc", Netrc.DefaultPath(n => n == "NETRC" ? "/custom/netrc" : null, "/home/u"));
        Assert.Equal(Path.Combine("/home/u", ".netrc"), Netrc.DefaultPath(_ => null, "/home/u"));
        Assert.Empty(Netrc.Load(Path.Combine(Path.GetTempPath(), "no-such-netrc-" + Guid.NewGuid())));
    }
}

public sealed class GitRemoteUrlTests
{
    [Theory]
    [InlineData("https://github.com/pkg/errors", "https", "github.com", "github.com", "/pkg/errors", "https://github.com/pkg/errors")]
    [InlineData("http://127.0.0.1:8080/x/y.git", "http", "127.0.0.1:8080", "127.0.0.1", "/x/y.git", "http://127.0.0.1:8080/x/y.git")]
    [InlineData("ssh://git@github.com/a/b", "ssh", "github.com", "github.com", "/a/b", "ssh://git@github.com/a/b")]
    [InlineData("git+ssh://git@host:2222/a", "ssh", "host:2222", "host", "/a", "ssh://git@host:2222/a")]
    [InlineData("git@github.com:a/b.git", "ssh", "github.com", "github.com", "a/b.git", "git@github.com:a/b.git")]
    [InlineData("https://[::1]:8443/r", "https", "[::1]:8443", "::1", "/r", "https://[::1]:8443/r")]
    public void Splits_urls(string input, string scheme, string authority, string host, string path, string url)
    {
        var u = GitRemoteUrl.TryParse(input)!;

        Assert.Equal((scheme, authority, host, path, url), (u.Scheme, u.Authority, u.Host, u.Path, u.Url));
        Assert.Null(u.EmbeddedCredential);
    }

    [Fact]
    public void Takes_credentials_out_of_http_urls()
    {
        var u = GitRemoteUrl.TryParse("https://me:p%40ss%3Aword@example.com/r.git")!;

        Assert.Equal("https://example.com/r.git", u.Url);
        Assert.Equal(new GitCredential("me", "p@ss:word"), u.EmbeddedCredential);
        Assert.Equal("ssh://git@h/r", GitRemoteUrl.TryParse("ssh://git:pw@h/r")!.Url);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a url")]
    [InlineData("ext::sh -c evil")]
    [InlineData("https:///nohost")]
    [InlineData("https://host/a\nb")]
    public void Refuses_non_urls(string input) => Assert.Null(GitRemoteUrl.TryParse(input));

    [Fact]
    public void Mirror_directory_names_are_hash_plus_readable_suffix()
    {
        var a = GitMirrorManager.DirectoryName(GitRemoteUrl.TryParse("https://github.com/pkg/errors")!);
        var b = GitMirrorManager.DirectoryName(GitRemoteUrl.TryParse("https://github.com/pkg/errors.git")!);

        Assert.Matches("^[0-9a-f]{16}-github.com-pkg-errors$", a);
        Assert.Matches("^[0-9a-f]{16}-github.com-pkg-errors$", b);
        Assert.NotEqual(a, b);
        Assert.Equal(a, GitMirrorManager.DirectoryName(GitRemoteUrl.TryParse("https://user:pw@github.com/pkg/errors")!));
    }
}

public sealed class GitFailureTests
{
    private static DirectResult Classify(string stderr, bool timedOut = false) =>
        GitFailure.Classify("git ls-remote https://h/r", new GitRun(timedOut ? -1 : 128, [], stderr, timedOut), TimeSpan.FromMinutes(5), new SecretRedactor());

    [Theory]
    [InlineData("fatal: Authentication failed for 'https://h/r/'")]
    [InlineData("fatal: could not read Username for 'https://h': terminal prompts disabled")]
    [InlineData("fatal: unable to access 'https://h/r/': The requested URL returned error: 403")]
    [InlineData("remote: HTTP Basic: Access denied\nfatal: Authentication failed")]
    [InlineData("git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.")]
    public void Authentication_failures_are_not_found(string stderr) =>
        Assert.Equal(DirectResult.NotFound("git ls-remote https://h/r: authentication failed (no credentials or credentials refused)"), Classify(stderr));

    [Theory]
    [InlineData("remote: Repository not found.\nfatal: repository 'https://h/r/' not found")]
    [InlineData("fatal: unable to access 'https://h/r/': The requested URL returned error: 404")]
    [InlineData("fatal: '/x' does not appear to be a git repository")]
    public void Missing_repositories_are_not_found(string stderr) =>
        Assert.Equal(DirectResult.NotFound("git ls-remote https://h/r: repository not found"), Classify(stderr));

    [Fact]
    public void Network_failures_and_timeouts()
    {
        var refused = Classify("fatal: unable to access 'https://h/r/': Failed to connect to h port 443 after 1 ms: Couldn't connect to server");
        Assert.Equal(DirectStatus.Failed, refused.Status);
        Assert.Equal("git ls-remote https://h/r: unable to access 'https://h/r/': Failed to connect to h port 443 after 1 ms: Couldn't connect to server", refused.Message);
        Assert.Equal(DirectStatus.Failed, Classify("fatal: unable to access 'https://h/r/': Could not resolve host: h").Status);
        Assert.Equal(DirectStatus.Timeout, Classify("fatal: unable to access 'https://h/r/': Connection timed out after 30000 milliseconds").Status);
        Assert.Equal(DirectResult.TimedOut("git ls-remote https://h/r: timed out after 5m"), Classify("", timedOut: true));
        Assert.Equal(DirectStatus.Failed, Classify("fatal: something odd\nand more").Status);
    }

    [Fact]
    public void Redactor_removes_userinfo_secrets_and_their_encodings()
    {
        var r = new SecretRedactor();
        r.Add(new GitCredential("bob", "hunter2/x"));
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:hunter2/x"));

        var text = r.Redact($"fatal: https://bob:zzz@h/r hunter2/x hunter2%2Fx Authorization: Basic {basic} {basic} Authorization: Bearer abc.def");

        Assert.Equal("fatal: https://***@h/r *** *** Authorization: Basic *** *** Authorization: Bearer ***", text);
    }

    [Fact]
    public void Ls_remote_output_is_read_with_the_head_branch()
    {
        var (refs, _, head, _) = GitMirrorManager.ParseLsRemote(
            "ref: refs/heads/main\tHEAD\naaa\tHEAD\naaa\trefs/heads/main\nbbb\trefs/tags/v1\nccc\trefs/tags/v1^{}\nddd\trefs/pull/1/head\n");

        Assert.Equal("refs/heads/main", head);
        Assert.Equal(new Dictionary<string, string> { ["refs/heads/main"] = "aaa", ["refs/tags/v1"] = "bbb" }, refs);
    }
}
