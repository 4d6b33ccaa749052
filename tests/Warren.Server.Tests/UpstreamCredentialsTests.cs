using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Warren.Server.Configuration;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

/// <summary>Credentials for upstream proxies: user:password in --upstream and .netrc machine entries go as HTTP Basic to
/// that upstream only, never on a redirect, never in a log line, an error body or /metrics; a .netrc "default" entry is
/// never used; plain http only when allowed. Upstreams are fake GOPROXYs on 127.0.0.1 serving the corpus.</summary>
public sealed class UpstreamCredentialsTests : IAsyncLifetime
{
    private const string User = "alice";
    private const string Module = "github.com/pkg/errors";
    private const string Version = "v0.9.1";
    private const string Info = Module + "/@v/" + Version + ".info";

    // Unique, so finding it anywhere can only mean a leak from this test.
    private readonly string _secret = "pw-" + Guid.NewGuid().ToString("N");
    private readonly string _dir = TestPaths.NewTempDir("upstream-auth");
    private readonly ConcurrentQueue<string> _authorizations = new();
    private readonly CapturingLoggerProvider _logs = new();
    private FakeUpstream _upstream = null!;

    private string Basic => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":" + _secret));

    private string Encoded => Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":" + _secret));

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        TestPaths.TryDeleteDirectory(_dir);
    }

    /// <summary>Records every request's Authorization header; answers 401 unless it is the expected one.</summary>
    private void RequireBasic()
    {
        _upstream.Intercept = async context =>
        {
            var header = context.Request.Headers.Authorization.ToString();
            _authorizations.Enqueue(header);
            if (header == Basic)
            {
                return false;
            }

            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"proxy\"";
            await context.Response.WriteAsync("authentication required\n");
            return true;
        };
    }

    private string UrlWithPassword => $"http://{User}:{_secret}@127.0.0.1:{_upstream.Port}";

    private Task<WarrenInstance> StartWarrenAsync(string upstream, Action<WarrenOptionsBuilder>? configure = null) =>
        WarrenInstance.StartAsync(upstream, o =>
        {
            o.EgressAllow = $"127.0.0.1:{_upstream.Port}";
            o.Netrc = Path.Combine(_dir, "no-netrc");
            configure?.Invoke(o);
        }, beforeStart: app => app.Services.GetRequiredService<ILoggerFactory>().AddProvider(_logs));

    [Fact]
    public async Task A_password_in_upstream_is_sent_as_basic_and_never_logged_nor_shown_by_warren_serve()
    {
        RequireBasic();
        var inner = _upstream.Intercept!;
        _upstream.Intercept = async context =>
        {
            if (context.Request.Path.Value!.EndsWith("v0.9.2.info", StringComparison.Ordinal))
            {
                // An upstream that echoes what it was sent in its error body.
                _authorizations.Enqueue(context.Request.Headers.Authorization.ToString());
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync($"refused {User}:{_secret} (Authorization: {context.Request.Headers.Authorization}) at {UrlWithPassword}/\n");
                return true;
            }

            return await inner(context);
        };
        var root = TestPaths.NewTempDir("upstream-auth-store");
        using var warren = await WarrenProcess.StartAsync(root, UrlWithPassword,
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Debug", ["NETRC"] = Path.Combine(_dir, "no-netrc") },
            "--upstream-credentials-over-http", "--egress-allow", $"127.0.0.1:{_upstream.Port}");
        using var client = new HttpClient { BaseAddress = new Uri(warren.Url + "/") };

        using var ok = await client.GetAsync(Info);
        using var missing = await client.GetAsync(Module + "/@v/v0.99.0.info");
        using var failed = await client.GetAsync(Module + "/@v/v0.9.2.info");
        using var metrics = await client.GetAsync("metrics");
        var bodies = new[] { await ok.Content.ReadAsStringAsync(), await missing.Content.ReadAsStringAsync(), await failed.Content.ReadAsStringAsync(), await metrics.Content.ReadAsStringAsync() };
        await Task.Delay(300);
        var output = warren.Output;

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Contains("refused", bodies[2], StringComparison.Ordinal);
        Assert.True(_authorizations.Count >= 3, string.Join(", ", _authorizations));
        Assert.All(_authorizations, a => Assert.Equal(Basic, a));

        Assert.Contains($"with upstream http://***@127.0.0.1:{_upstream.Port}", output, StringComparison.Ordinal);
        Assert.Contains("v0.9.2.info", output, StringComparison.Ordinal);
        foreach (var text in bodies.Append(output))
        {
            Assert.DoesNotContain(_secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Encoded, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_http_upstream_with_a_password_is_refused_at_start_up_unless_allowed_without_showing_it()
    {
        var root = TestPaths.NewTempDir("upstream-auth-store");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => WarrenProcess.StartAsync(root, UrlWithPassword));

        Assert.Contains("exited with 2", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"upstream \"http://127.0.0.1:{_upstream.Port}/\": refusing to pass credentials to an insecure (http) URL", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_secret, refused.Message, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Upstream_credentials_never_follow_a_redirect_to_another_host()
    {
        var elsewhere = new ConcurrentQueue<string>();
        await using var other = await FakeUpstream.StartAsync(TestPaths.Corpus);
        other.Intercept = context =>
        {
            elsewhere.Enqueue(context.Request.Headers.Authorization.ToString());
            return Task.FromResult(false);
        };
        _upstream.Intercept = context =>
        {
            _authorizations.Enqueue(context.Request.Headers.Authorization.ToString());
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = other.Url + context.Request.Path;
            return Task.FromResult(true);
        };
        await using var warren = await StartWarrenAsync(UrlWithPassword, o => o.UpstreamCredentialsOverHttp = true);

        using var response = await warren.Client.GetAsync(Info);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(Basic, Assert.Single(_authorizations));
        Assert.All(elsewhere, a => Assert.Equal("", a));
        Assert.DoesNotContain(_secret, body, StringComparison.Ordinal);
        Assert.All(_logs.Lines, l => Assert.DoesNotContain(_secret, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Netrc_applies_to_an_upstream_proxy_and_the_go_client_downloads_through_warren()
    {
        RequireBasic();
        var netrc = Path.Combine(_dir, "netrc");
        await File.WriteAllTextAsync(netrc, $"machine other.example.com login bob password nope\nmachine 127.0.0.1\n  login {User}\n  password {_secret}\n");
        await using var warren = await StartWarrenAsync(_upstream.Url, o =>
        {
            o.Netrc = netrc;
            o.UpstreamCredentialsOverHttp = true;
        });
        var go = new GoRunner(warren.Url);

        var result = await go.RunAsync(TestPaths.NewTempDir("upstream-auth-go"), "mod", "download", "-json", $"{Module}@{Version}");

        Assert.True(result.ExitCode == 0, result.ToString());
        var o = GoRunner.JsonStream(result.Stdout).Single();
        Assert.Equal(Manifest.Get(Module, Version).ZipHash, o.GetProperty("Sum").GetString());
        Assert.NotEmpty(_authorizations);
        Assert.All(_authorizations, a => Assert.Equal(Basic, a));
        Assert.Contains(_logs.Lines, l => l.Contains($"Upstream http://127.0.0.1:{_upstream.Port}/ gets HTTP Basic credentials from .netrc", StringComparison.Ordinal));
        Assert.All(_logs.Lines, l => Assert.DoesNotContain(_secret, l, StringComparison.Ordinal));
        Assert.DoesNotContain(_secret, result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_netrc_default_entry_is_never_sent_and_netrc_goes_over_http_only_when_allowed()
    {
        RequireBasic();
        var onlyDefault = Path.Combine(_dir, "netrc-default");
        await File.WriteAllTextAsync(onlyDefault, $"machine other.example.com login bob password nope\ndefault login {User} password {_secret}\n");
        await using (var warren = await StartWarrenAsync(_upstream.Url, o =>
        {
            o.Netrc = onlyDefault;
            o.UpstreamCredentialsOverHttp = true;
        }))
        {
            using var response = await warren.Client.GetAsync(Info);
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Contains("401", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var machine = Path.Combine(_dir, "netrc-machine");
        await File.WriteAllTextAsync(machine, $"machine 127.0.0.1 login {User} password {_secret}\n");
        await using (var warren = await StartWarrenAsync(_upstream.Url, o => o.Netrc = machine))
        {
            using var response = await warren.Client.GetAsync(Info);
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        Assert.Contains(_logs.Lines, l => l.Contains("is plain http: its .netrc entry is not sent", StringComparison.Ordinal));

        Assert.Equal(2, _authorizations.Count);
        Assert.All(_authorizations, a => Assert.Equal("", a));
    }
}
