using System.Net;
using Warren.Fetch.Direct.Discovery;
using static Warren.Fetch.Direct.Tests.Discovery.StubHandler;

namespace Warren.Fetch.Direct.Tests.Discovery;

public class RepoDiscoveryTests
{
    private static (RepoDiscovery Discovery, StubHandler Handler) Make(Dictionary<string, Func<HttpResponseMessage>> pages, RepoDiscoveryOptions? options = null)
    {
        var handler = new StubHandler(pages);
        return (new RepoDiscovery(new HttpClient(handler), options), handler);
    }

    [Fact]
    public async Task GitHub_paths_resolve_without_any_request()
    {
        var (d, h) = Make([]);
        var (root, result) = await d.ResolveAsync("github.com/owner/repo/sub/pkg", CancellationToken.None);
        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(new RepoRoot("github.com/owner/repo", "git", "https://github.com/owner/repo"), root);
        Assert.Empty(h.Requests);
    }

    [Theory]
    [InlineData("github.com/owner", "invalid github.com import path \"github.com/owner\"")]
    [InlineData("github.com/owner/repo.git", "invalid version control suffix in github.com/ path")]
    public async Task Invalid_github_paths_are_not_found(string path, string message)
    {
        var (d, h) = Make([]);
        var (root, result) = await d.ResolveAsync(path, CancellationToken.None);
        Assert.Null(root);
        Assert.Equal(DirectResult.NotFound(message), result);
        Assert.Empty(h.Requests);
    }

    [Fact]
    public async Task Meta_tag_for_the_exact_path()
    {
        var (d, h) = Make(new()
        {
            ["https://go.uber.org/zap?go-get=1"] = () => GoImport("go.uber.org/zap", "git", "https://github.com/uber-go/zap"),
        });
        var (root, result) = await d.ResolveAsync("go.uber.org/zap", CancellationToken.None);
        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(new RepoRoot("go.uber.org/zap", "git", "https://github.com/uber-go/zap"), root);
        Assert.Equal(["https://go.uber.org/zap?go-get=1"], h.Requests);
    }

    [Fact]
    public async Task Shorter_prefix_is_confirmed_by_its_own_page()
    {
        var (d, h) = Make(new()
        {
            ["https://golang.org/x/sync/errgroup?go-get=1"] = () => GoImport("golang.org/x/sync", "git", "https://go.googlesource.com/sync"),
            ["https://golang.org/x/sync?go-get=1"] = () => GoImport("golang.org/x/sync", "git", "https://go.googlesource.com/sync"),
        });
        var (root, result) = await d.ResolveAsync("golang.org/x/sync/errgroup", CancellationToken.None);
        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(new RepoRoot("golang.org/x/sync", "git", "https://go.googlesource.com/sync"), root);
        Assert.Equal(["https://golang.org/x/sync/errgroup?go-get=1", "https://golang.org/x/sync?go-get=1"], h.Requests);
    }

    [Fact]
    public async Task Prefix_page_that_disagrees_is_refused()
    {
        var (d, _) = Make(new()
        {
            ["https://uni.edu/bob/project?go-get=1"] = () => GoImport("uni.edu", "git", "https://evil.example/root"),
            ["https://uni.edu/?go-get=1"] = () => GoImport("uni.edu", "git", "https://uni.edu/real"),
        });
        var (root, result) = await d.ResolveAsync("uni.edu/bob/project", CancellationToken.None);
        Assert.Null(root);
        Assert.Equal(DirectResult.NotFound(
            "unrecognized import path \"uni.edu/bob/project\": https://uni.edu/bob/project?go-get=1 and //uni.edu/?go-get=1 disagree about go-import for uni.edu"), result);
    }

    [Fact]
    public async Task Prefix_page_without_tags()
    {
        var (d, _) = Make(new()
        {
            ["https://a.example/x/y?go-get=1"] = () => GoImport("a.example/x", "git", "https://a.example/x.git"),
            ["https://a.example/x?go-get=1"] = () => Html("<html><head></head></html>"),
        });
        var (_, result) = await d.ResolveAsync("a.example/x/y", CancellationToken.None);
        Assert.Equal(DirectResult.NotFound(
            "unrecognized import path \"a.example/x/y\": fetching a.example/x: no go-import meta tag found in https://a.example/x?go-get=1"), result);
    }

    [Fact]
    public async Task Not_found_page_without_tags()
    {
        var (d, _) = Make(new()
        {
            ["https://golang.org/x/nonexist?go-get=1"] = () => Html("<html>nope</html>", HttpStatusCode.NotFound),
        });
        var (root, result) = await d.ResolveAsync("golang.org/x/nonexist", CancellationToken.None);
        Assert.Null(root);
        Assert.Equal(DirectResult.NotFound(
            "unrecognized import path \"golang.org/x/nonexist\": reading https://golang.org/x/nonexist?go-get=1: 404 Not Found"), result);
    }

    [Fact]
    public async Task Tags_on_an_error_page_still_count()
    {
        var (d, _) = Make(new()
        {
            ["https://odd.example/m?go-get=1"] = () => GoImport("odd.example/m", "git", "https://git.odd.example/m", HttpStatusCode.NotFound),
        });
        var (root, result) = await d.ResolveAsync("odd.example/m", CancellationToken.None);
        Assert.Equal(DirectResult.Success, result);
        Assert.Equal("https://git.odd.example/m", root!.Url);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, DirectStatus.Failed)]
    [InlineData(HttpStatusCode.ServiceUnavailable, DirectStatus.Failed)]
    [InlineData(HttpStatusCode.TooManyRequests, DirectStatus.Failed)]
    [InlineData(HttpStatusCode.Gone, DirectStatus.NotFound)]
    [InlineData(HttpStatusCode.Unauthorized, DirectStatus.NotFound)]
    public async Task Error_statuses(HttpStatusCode code, DirectStatus expected)
    {
        var (d, _) = Make(new() { ["https://a.example/m?go-get=1"] = () => Html("", code) });
        var (_, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(expected, result.Status);
        Assert.StartsWith($"unrecognized import path \"a.example/m\": reading https://a.example/m?go-get=1: {(int)code} ", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Page_without_tags()
    {
        var (d, _) = Make(new() { ["https://a.example/m?go-get=1"] = () => Html("<html><head><title>hi</title></head><body></body></html>") });
        var (_, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(DirectResult.NotFound("unrecognized import path \"a.example/m\": parse https://a.example/m?go-get=1: no go-import meta tags ()"), result);
    }

    [Fact]
    public async Task Page_with_tags_for_other_paths()
    {
        var (d, _) = Make(new() { ["https://a.example/m?go-get=1"] = () => GoImport("a.example/other", "git", "https://a.example/other") });
        var (_, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(DirectResult.NotFound(
            "unrecognized import path \"a.example/m\": parse https://a.example/m?go-get=1: no go-import meta tags (meta tag a.example/other did not match import path a.example/m)"), result);
    }

    [Fact]
    public async Task Ambiguous_tags()
    {
        var (d, _) = Make(new()
        {
            ["https://a.example/m/sub?go-get=1"] = () => Html(
                "<meta name=\"go-import\" content=\"a.example/m git https://a.example/m\"><meta name=\"go-import\" content=\"a.example/m/sub git https://a.example/sub\">"),
        });
        var (_, result) = await d.ResolveAsync("a.example/m/sub", CancellationToken.None);
        Assert.Equal(DirectResult.NotFound(
            "unrecognized import path \"a.example/m/sub\": parse //a.example/m/sub?go-get=1: multiple meta tags match import path \"a.example/m/sub\""), result);
    }

    [Fact]
    public async Task Unparsable_page()
    {
        var (d, _) = Make(new() { ["https://a.example/m?go-get=1"] = () => Html("<html><head><script>1 < 2</script>") });
        var (_, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(DirectResult.NotFound(
            "unrecognized import path \"a.example/m\": parsing a.example/m: XML syntax error on line 1: expected element name after <"), result);
    }

    [Fact]
    public async Task Mod_entries_name_a_proxy()
    {
        var (d, _) = Make(new()
        {
            ["https://myitcv.io/blah2/foo?go-get=1"] = () => Html(
                "<meta name=\"go-import\" content=\"myitcv.io git https://github.com/myitcv/x\"><meta name=\"go-import\" content=\"myitcv.io/blah2 mod https://raw.githubusercontent.com/myitcv/pubx/master\">"),
            ["https://myitcv.io/blah2?go-get=1"] = () => Html(
                "<meta name=\"go-import\" content=\"myitcv.io/blah2 mod https://raw.githubusercontent.com/myitcv/pubx/master\">"),
        });
        var (root, result) = await d.ResolveAsync("myitcv.io/blah2/foo", CancellationToken.None);
        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(new RepoRoot("myitcv.io/blah2", "mod", "https://raw.githubusercontent.com/myitcv/pubx/master"), root);
    }

    [Theory]
    [InlineData("hg", "a.example/m: unsupported version control system hg")]
    [InlineData("svn", "a.example/m: unsupported version control system svn")]
    [InlineData("bzr", "a.example/m: unsupported version control system bzr")]
    [InlineData("fossil", "a.example/m: unsupported version control system fossil")]
    [InlineData("cvs", "unrecognized import path \"a.example/m\": https://a.example/m?go-get=1: unknown vcs \"cvs\"")]
    public async Task Other_version_control_systems_are_not_found(string vcs, string message)
    {
        var (d, _) = Make(new() { ["https://a.example/m?go-get=1"] = () => GoImport("a.example/m", vcs, "https://a.example/repo") });
        var (root, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Null(root);
        Assert.Equal(DirectResult.NotFound(message), result);
    }

    [Theory]
    [InlineData("file:///srv/repo", "file scheme disallowed")]
    [InlineData("-config", "no scheme")]
    [InlineData("github.com/x/y", "no scheme")]
    [InlineData("://x", "invalid URL")]
    public async Task Invalid_repository_urls(string url, string reason)
    {
        var (d, _) = Make(new() { ["https://a.example/m?go-get=1"] = () => GoImport("a.example/m", "git", url) });
        var (_, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(DirectResult.NotFound(
            $"unrecognized import path \"a.example/m\": https://a.example/m?go-get=1: invalid repo root \"{url}\": {reason}"), result);
    }

    [Fact]
    public async Task Failed_https_is_not_retried_over_http_without_goinsecure()
    {
        var (d, h) = Make(new() { ["http://golang.org/x/sync?go-get=1"] = () => GoImport("golang.org/x/sync", "git", "https://x") });
        var (root, result) = await d.ResolveAsync("golang.org/x/sync", CancellationToken.None);
        Assert.Null(root);
        Assert.Equal(DirectStatus.Failed, result.Status);
        Assert.Equal("unrecognized import path \"golang.org/x/sync\": https fetch: Get \"https://golang.org/x/sync?go-get=1\": Connection refused (golang.org:443)", result.Message);
        Assert.Equal(["https://golang.org/x/sync?go-get=1"], h.Requests);
    }

    [Fact]
    public async Task Goinsecure_retries_over_http_and_accepts_http_repositories()
    {
        var (d, h) = Make(
            new() { ["http://golang.org/x/sync?go-get=1"] = () => GoImport("golang.org/x/sync", "git", "http://127.0.0.1:9/golang.org/x/sync.git") },
            new RepoDiscoveryOptions { GoInsecure = "golang.org/x/sync,gopkg.in/yaml.v3" });
        var (root, result) = await d.ResolveAsync("golang.org/x/sync", CancellationToken.None);
        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(new RepoRoot("golang.org/x/sync", "git", "http://127.0.0.1:9/golang.org/x/sync.git"), root);
        Assert.Equal(["https://golang.org/x/sync?go-get=1", "http://golang.org/x/sync?go-get=1"], h.Requests);
    }

    [Fact]
    public async Task Goinsecure_failure_reports_the_http_attempt()
    {
        var (d, h) = Make([], new RepoDiscoveryOptions { GoInsecure = "*.example" });
        var (_, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(DirectStatus.Failed, result.Status);
        Assert.Equal("unrecognized import path \"a.example/m\": http/https fetch: Get \"http://a.example/m?go-get=1\": Connection refused (a.example:80)", result.Message);
        Assert.Equal(2, h.Requests.Count);
    }

    [Fact]
    public async Task Https_answer_with_an_error_status_is_not_retried_over_http()
    {
        var (d, h) = Make(
            new()
            {
                ["https://a.example/m?go-get=1"] = () => Html("", HttpStatusCode.NotFound),
                ["http://a.example/m?go-get=1"] = () => GoImport("a.example/m", "git", "http://a.example/m"),
            },
            new RepoDiscoveryOptions { GoInsecure = "a.example" });
        var (_, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(DirectStatus.NotFound, result.Status);
        Assert.Equal(["https://a.example/m?go-get=1"], h.Requests);
    }

    [Theory]
    [InlineData("http://git.a.example/m")]
    [InlineData("git://git.a.example/m")]
    public async Task Insecure_repository_url_needs_goinsecure(string url)
    {
        var pages = new Dictionary<string, Func<HttpResponseMessage>> { ["https://a.example/m?go-get=1"] = () => GoImport("a.example/m", "git", url) };
        var (d, _) = Make(pages);
        var (root, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Null(root);
        Assert.Equal(DirectResult.NotFound($"cannot download, {url} uses insecure protocol (a.example/m does not match GOINSECURE)"), result);

        var (d2, _) = Make(pages, new RepoDiscoveryOptions { GoInsecure = "a.example/m" });
        Assert.Equal(url, (await d2.ResolveAsync("a.example/m", CancellationToken.None)).Root!.Url);
    }

    [Theory]
    [InlineData("ssh://git@a.example/m", true)]
    [InlineData("git+ssh://git@a.example/m", true)]
    [InlineData("git@a.example:m.git", false)]
    public async Task Secure_git_schemes(string url, bool accepted)
    {
        var (d, _) = Make(new() { ["https://a.example/m?go-get=1"] = () => GoImport("a.example/m", "git", url) });
        var (root, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(accepted, root is not null);
        Assert.Equal(accepted ? DirectStatus.Ok : DirectStatus.NotFound, result.Status);
    }

    [Fact]
    public async Task Git_allow_protocol_decides_what_is_secure()
    {
        var pages = new Dictionary<string, Func<HttpResponseMessage>> { ["https://a.example/m?go-get=1"] = () => GoImport("a.example/m", "git", "foo://a.example/m") };
        var (d, _) = Make(pages, new RepoDiscoveryOptions { GitAllowProtocol = "https:foo" });
        Assert.NotNull((await d.ResolveAsync("a.example/m", CancellationToken.None)).Root);
        var (d2, _) = Make(pages);
        Assert.Null((await d2.ResolveAsync("a.example/m", CancellationToken.None)).Root);
    }

    [Fact]
    public async Task Mod_proxy_over_plain_http_needs_goinsecure()
    {
        var pages = new Dictionary<string, Func<HttpResponseMessage>> { ["https://a.example/m?go-get=1"] = () => GoImport("a.example/m", "mod", "http://proxy.a.example") };
        var (d, _) = Make(pages);
        Assert.Equal(DirectStatus.NotFound, (await d.ResolveAsync("a.example/m", CancellationToken.None)).Result.Status);
        var (d2, _) = Make(pages, new RepoDiscoveryOptions { GoInsecure = "a.example" });
        Assert.Equal(new RepoRoot("a.example/m", "mod", "http://proxy.a.example"), (await d2.ResolveAsync("a.example/m", CancellationToken.None)).Root);
    }

    [Fact]
    public async Task Credentials_never_appear_in_messages()
    {
        var (d, _) = Make(new() { ["https://a.example/m?go-get=1"] = () => GoImport("a.example/m", "git", "http://user:s3cret@git.a.example/m") });
        var (_, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(DirectStatus.NotFound, result.Status);
        Assert.DoesNotContain("s3cret", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("user", result.Message, StringComparison.Ordinal);
        Assert.Contains("http://xxxxx@git.a.example/m", result.Message, StringComparison.Ordinal);

        var handler = new StubHandler((_, _) => throw new HttpRequestException("The proxy tunnel request to proxy 'http://bob:hunter2@proxy.local:3128/' failed\nwith status code '407'."));
        var (_, failed) = await new RepoDiscovery(new HttpClient(handler)).ResolveAsync("a.example/m", CancellationToken.None);
        Assert.DoesNotContain("hunter2", failed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Successful_resolutions_are_cached_for_the_ttl()
    {
        var clock = new ManualTimeProvider();
        int served = 0;
        var (d, h) = Make(
            new()
            {
                ["https://a.example/m?go-get=1"] = () =>
                {
                    served++;
                    return GoImport("a.example/m", "git", $"https://git.a.example/m{served}");
                },
            },
            new RepoDiscoveryOptions { TimeProvider = clock, CacheTtl = TimeSpan.FromMinutes(10) });
        Assert.Equal("https://git.a.example/m1", (await d.ResolveAsync("a.example/m", CancellationToken.None)).Root!.Url);
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal("https://git.a.example/m1", (await d.ResolveAsync("a.example/m", CancellationToken.None)).Root!.Url);
        Assert.Single(h.Requests);
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("https://git.a.example/m2", (await d.ResolveAsync("a.example/m", CancellationToken.None)).Root!.Url);
        Assert.Equal(2, h.Requests.Count);
    }

    [Fact]
    public async Task Failures_are_not_cached()
    {
        var (d, h) = Make([]);
        await d.ResolveAsync("a.example/m", CancellationToken.None);
        await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(2, h.Requests.Count);
    }

    [Fact]
    public async Task Slow_server_times_out()
    {
        var handler = new StubHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        });
        var d = new RepoDiscovery(new HttpClient(handler), new RepoDiscoveryOptions { Timeout = TimeSpan.FromMilliseconds(200) });
        var (root, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Null(root);
        Assert.Equal(DirectResult.TimedOut("unrecognized import path \"a.example/m\": https fetch: Get \"https://a.example/m?go-get=1\": timeout after 0.2s"), result);
    }

    [Fact]
    public async Task Slow_https_under_goinsecure_gives_up_sooner_and_tries_http()
    {
        var handler = new StubHandler(async (uri, ct) =>
        {
            if (uri.Scheme == "https")
            {
                await Task.Delay(Timeout.Infinite, ct);
            }

            return GoImport("a.example/m", "git", "http://git.a.example/m");
        });
        var d = new RepoDiscovery(new HttpClient(handler), new RepoDiscoveryOptions
        {
            GoInsecure = "a.example",
            Timeout = TimeSpan.FromSeconds(30),
            InsecureHttpsTimeout = TimeSpan.FromMilliseconds(100),
        });
        var (root, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Equal(DirectResult.Success, result);
        Assert.Equal("http://git.a.example/m", root!.Url);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_a_result()
    {
        var handler = new StubHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        });
        var d = new RepoDiscovery(new HttpClient(handler));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => d.ResolveAsync("a.example/m", cts.Token));
    }

    [Fact]
    public async Task Response_size_is_limited()
    {
        string padding = "<!--" + new string('x', 4096) + "-->";
        var (d, _) = Make(
            new() { ["https://a.example/m?go-get=1"] = () => Html(padding + "<meta name=\"go-import\" content=\"a.example/m git https://a.example/m\">") },
            new RepoDiscoveryOptions { MaxResponseBytes = 1024 });
        var (root, result) = await d.ResolveAsync("a.example/m", CancellationToken.None);
        Assert.Null(root);
        Assert.Equal(DirectStatus.NotFound, result.Status);
        Assert.Contains("unexpected EOF", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_without_a_dot()
    {
        var (d, h) = Make([]);
        var (_, result) = await d.ResolveAsync("localhost/m", CancellationToken.None);
        Assert.Equal(DirectResult.NotFound("unrecognized import path \"localhost/m\": import path does not begin with hostname"), result);
        Assert.Empty(h.Requests);
    }

    [Fact]
    public async Task Bare_host_queries_the_root_page()
    {
        var (d, h) = Make(new() { ["https://a.example/?go-get=1"] = () => GoImport("a.example", "git", "https://git.a.example/root") });
        var (root, _) = await d.ResolveAsync("a.example", CancellationToken.None);
        Assert.Equal(new RepoRoot("a.example", "git", "https://git.a.example/root"), root);
        Assert.Equal(["https://a.example/?go-get=1"], h.Requests);
    }

    [Fact]
    public async Task Launchpad_after_a_failed_dynamic_lookup_is_bzr()
    {
        var (d, _) = Make([]);
        var (root, result) = await d.ResolveAsync("launchpad.net/project/sub", CancellationToken.None);
        Assert.Null(root);
        Assert.Equal(DirectResult.NotFound("launchpad.net/project/sub: unsupported version control system bzr"), result);
    }

    [Fact]
    public async Task Vcs_suffix_paths_probe_secure_schemes_in_order()
    {
        var probed = new List<string>();
        var (d, h) = Make([], new RepoDiscoveryOptions
        {
            PingRepository = (url, _) =>
            {
                probed.Add(url);
                return Task.FromResult(url.StartsWith("ssh://", StringComparison.Ordinal));
            },
        });
        var (root, result) = await d.ResolveAsync("example.com/path/repo.git/sub", CancellationToken.None);
        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(new RepoRoot("example.com/path/repo.git", "git", "ssh://example.com/path/repo"), root);
        Assert.Equal(["https://example.com/path/repo", "git+ssh://example.com/path/repo", "ssh://example.com/path/repo"], probed);
        Assert.Empty(h.Requests);
    }

    [Fact]
    public async Task Vcs_suffix_paths_under_goinsecure_try_every_scheme()
    {
        var probed = new List<string>();
        var (d, _) = Make([], new RepoDiscoveryOptions
        {
            GoInsecure = "example.com",
            PingRepository = (url, _) =>
            {
                probed.Add(url);
                return Task.FromResult(url.StartsWith("http://", StringComparison.Ordinal));
            },
        });
        var (root, _) = await d.ResolveAsync("example.com/repo.git", CancellationToken.None);
        Assert.Equal("http://example.com/repo", root!.Url);
        Assert.Equal(["git://example.com/repo", "https://example.com/repo", "http://example.com/repo"], probed);
    }

    [Fact]
    public async Task Vcs_suffix_path_that_no_scheme_answers_falls_back_to_git_protocol_which_is_insecure()
    {
        var (d, _) = Make([], new RepoDiscoveryOptions { PingRepository = (_, _) => Task.FromResult(false) });
        var (root, result) = await d.ResolveAsync("example.com/repo.git", CancellationToken.None);
        Assert.Null(root);
        Assert.Equal(DirectResult.NotFound("cannot download, git://example.com/repo uses insecure protocol (example.com/repo.git does not match GOINSECURE)"), result);
    }

    [Fact]
    public async Task Vcs_suffix_paths_for_other_systems_are_not_probed()
    {
        var (d, _) = Make([], new RepoDiscoveryOptions { PingRepository = (_, _) => throw new InvalidOperationException("no probe expected") });
        var (_, result) = await d.ResolveAsync("example.com/repo.hg/sub", CancellationToken.None);
        Assert.Equal(DirectResult.NotFound("example.com/repo.hg: unsupported version control system hg"), result);
    }

    [Fact]
    public async Task Query_paths_are_escaped()
    {
        var (d, h) = Make([]);
        await d.ResolveAsync("a.example/x y~z+w", CancellationToken.None);
        Assert.Equal("https://a.example/x%20y~z+w?go-get=1", h.Requests[0]);
    }
}
