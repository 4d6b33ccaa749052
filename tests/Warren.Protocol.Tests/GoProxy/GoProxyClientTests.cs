using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Warren.Protocol.GoProxy;

namespace Warren.Protocol.Tests.GoProxy;

/// <summary>The client against a real HTTP server on 127.0.0.1.</summary>
public sealed class GoProxyClientTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Path, string? Authorization, string? Via)> _requests = new();
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private Microsoft.AspNetCore.Builder.WebApplication? _app;
    private Uri _base = null!;
    private int _failuresLeft;

    public async Task InitializeAsync()
    {
        var (app, url) = await LoopbackApp.StartAsync(HandleAsync);
        _app = app;
        _base = new Uri(url + "/base/");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await LoopbackApp.StopAsync(_app!);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value!;
        _requests.Enqueue((path, context.Request.Headers.Authorization.FirstOrDefault(), context.Request.Headers["Warren-Via"].FirstOrDefault()));
        var response = context.Response;
        switch (path)
        {
            case "/base/github.com/!burnt!sushi/toml/@v/list":
                await response.WriteAsync("v1.0.0\nv1.2.0\n");
                return;
            case "/base/github.com/!burnt!sushi/toml/@latest":
            case "/base/github.com/!burnt!sushi/toml/@v/v1.2.0.info":
                await response.WriteAsync("{\"Version\":\"v1.2.0\"}");
                return;
            case "/base/github.com/!burnt!sushi/toml/@v/v1.2.0.mod":
                await response.WriteAsync("module github.com/BurntSushi/toml\n");
                return;
            case "/base/github.com/!burnt!sushi/toml/@v/v1.2.0.zip":
                response.ContentLength = 3000;
                await response.Body.WriteAsync(new byte[3000]);
                return;
            case "/base/chunked.zip":
                for (var i = 0; i < 10; i++)
                {
                    await response.Body.WriteAsync(new byte[1000]);
                    await response.Body.FlushAsync();
                }

                return;
            case "/base/gone":
                response.StatusCode = 410;
                await response.WriteAsync("\n  not found: example.com/gone@v1.0.0: invalid version\nsecond line\n");
                return;
            case "/base/broken":
                response.StatusCode = 500;
                await response.WriteAsync("database on fire");
                return;
            case "/base/flaky":
                if (Interlocked.Decrement(ref _failuresLeft) >= 0)
                {
                    response.StatusCode = 503;
                    return;
                }

                await response.WriteAsync("finally");
                return;
            case "/base/slow":
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                return;
            case "/base/private":
                if (context.Request.Headers.Authorization.FirstOrDefault() != "Basic dTpw")
                {
                    response.StatusCode = 401;
                    return;
                }

                await response.WriteAsync("secret module");
                return;
            case "/base/redirect":
                response.Redirect(new UriBuilder(_base) { Host = "localhost", Path = "/base/private" }.Uri.AbsoluteUri);
                return;
            default:
                response.StatusCode = 404;
                return;
        }
    }

    [Fact]
    public async Task The_protocol_endpoints_are_asked_with_escaped_paths()
    {
        var client = new GoProxyClient(_http);
        var list = await client.ListAsync(_base, "github.com/BurntSushi/toml", CancellationToken.None);
        var latest = await client.LatestAsync(_base, "github.com/BurntSushi/toml", CancellationToken.None);
        var info = await client.InfoAsync(_base, "github.com/BurntSushi/toml", "v1.2.0", CancellationToken.None);
        var mod = await client.ModAsync(_base, "github.com/BurntSushi/toml", "v1.2.0", CancellationToken.None);
        using var zip = new MemoryStream();
        var zipResult = await client.ZipAsync(_base, "github.com/BurntSushi/toml", "v1.2.0", zip, 1 << 20, CancellationToken.None);

        Assert.Equal("v1.0.0\nv1.2.0\n", Encoding.UTF8.GetString(list.Body!));
        Assert.Equal("{\"Version\":\"v1.2.0\"}", Encoding.UTF8.GetString(latest.Body!));
        Assert.Equal("{\"Version\":\"v1.2.0\"}", Encoding.UTF8.GetString(info.Body!));
        Assert.Equal("module github.com/BurntSushi/toml\n", Encoding.UTF8.GetString(mod.Body!));
        Assert.True(zipResult.IsOk, zipResult.Reason);
        Assert.Equal(3000, zipResult.Bytes);
        Assert.Equal(3000, zip.Length);
        Assert.Equal(
            ["/base/github.com/!burnt!sushi/toml/@v/list", "/base/github.com/!burnt!sushi/toml/@latest", "/base/github.com/!burnt!sushi/toml/@v/v1.2.0.info",
             "/base/github.com/!burnt!sushi/toml/@v/v1.2.0.mod", "/base/github.com/!burnt!sushi/toml/@v/v1.2.0.zip"],
            _requests.Select(r => r.Path));
    }

    [Fact]
    public async Task Paths_that_cannot_be_escaped_are_refused_before_any_request()
    {
        var client = new GoProxyClient(_http);
        await Assert.ThrowsAsync<ArgumentException>(() => client.InfoAsync(_base, "github.com/a/b", "v1.0.0!", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => client.ListAsync(_base, "-bad/path", CancellationToken.None));
        Assert.Empty(_requests);
    }

    [Fact]
    public async Task Not_found_and_gone_are_expected_outcomes_with_the_first_line_of_the_body()
    {
        var client = new GoProxyClient(_http);
        var gone = await client.GetBytesAsync(new Uri(_base, "gone"), 1000, CancellationToken.None);
        Assert.Equal(ProxyFetchStatus.NotFound, gone.Result.Status);
        Assert.Equal(410, gone.Result.HttpStatus);
        Assert.Equal("not found: example.com/gone@v1.0.0: invalid version", gone.Result.Reason);
        Assert.Null(gone.Body);

        var missing = await client.GetBytesAsync(new Uri(_base, "nothing-here"), 1000, CancellationToken.None);
        Assert.True(missing.Result.IsNotFound);
        Assert.Equal("404 Not Found", missing.Result.Reason);

        // An origin the operator did not configure: its text is not echoed, the status line is.
        var origin = await client.GetBytesAsync(new Uri(_base, "gone"), 1000, CancellationToken.None, new GoProxyRequest(Configured: false));
        Assert.Equal($"{_base}gone: 410 Gone", origin.Result.Reason);
    }

    [Fact]
    public async Task An_error_status_is_a_failure_with_a_one_line_reason()
    {
        var result = await new GoProxyClient(_http).GetBytesAsync(new Uri(_base, "broken"), 1000, CancellationToken.None);
        Assert.Equal(ProxyFetchStatus.Failed, result.Result.Status);
        Assert.Equal(ProxyFailure.Status, result.Result.Failure);
        Assert.Equal(500, result.Result.HttpStatus);
        Assert.Equal($"{_base}broken: 500 Internal Server Error: database on fire", result.Result.Reason);
        Assert.False(result.Result.IsTimeout);
    }

    [Fact]
    public async Task Bodies_over_the_limit_are_refused_declared_or_streamed()
    {
        var client = new GoProxyClient(_http);
        var declared = await client.ZipAsync(_base, "github.com/BurntSushi/toml", "v1.2.0", Stream.Null, 2999, CancellationToken.None);
        Assert.Equal(ProxyFailure.TooLarge, declared.Failure);
        Assert.Contains("response of 3000 bytes exceeds the limit of 2999 bytes", declared.Reason, StringComparison.Ordinal);

        using var sink = new MemoryStream();
        var streamed = await client.GetAsync(new Uri(_base, "chunked.zip"), sink, 4500, CancellationToken.None);
        Assert.Equal(ProxyFailure.TooLarge, streamed.Failure);
        Assert.Contains("exceeds the limit of 4500 bytes", streamed.Reason, StringComparison.Ordinal);
        Assert.True(sink.Length <= 4500);

        var fits = await client.GetAsync(new Uri(_base, "chunked.zip"), Stream.Null, 10_000, CancellationToken.None);
        Assert.True(fits.IsOk, fits.Reason);
        Assert.Equal(10_000, fits.Bytes);
    }

    [Fact]
    public async Task A_slow_answer_times_out_and_cancellation_by_the_caller_throws()
    {
        var client = new GoProxyClient(_http, new GoProxyClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(300) });
        var result = await client.GetBytesAsync(new Uri(_base, "slow"), 1000, CancellationToken.None);
        Assert.Equal(ProxyFailure.Timeout, result.Result.Failure);
        Assert.True(result.Result.IsTimeout);
        Assert.Equal($"{_base}slow: timed out after 0.3s", result.Result.Reason);

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new GoProxyClient(_http).GetBytesAsync(new Uri(_base, "slow"), 1000, cts.Token));
    }

    [Fact]
    public async Task A_refused_connection_is_a_network_failure_classified_for_people()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await new GoProxyClient(_http).GetBytesAsync(new Uri($"http://127.0.0.1:{port}/x"), 1000, CancellationToken.None);
        Assert.Equal(ProxyFetchStatus.Failed, result.Result.Status);
        Assert.Equal(ProxyFailure.Network, result.Result.Failure);
        Assert.Null(result.Result.HttpStatus);
        Assert.StartsWith("connection refused", result.Result.Cause, StringComparison.Ordinal);
        Assert.StartsWith($"http://127.0.0.1:{port}/x: ", result.Result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credentials_go_only_with_the_request_they_are_given_for_and_never_across_hosts()
    {
        var client = new GoProxyClient(_http);
        var anonymous = await client.GetBytesAsync(new Uri(_base, "private"), 1000, CancellationToken.None);
        Assert.Equal(ProxyFailure.Status, anonymous.Result.Failure);
        Assert.Equal(401, anonymous.Result.HttpStatus);

        var basic = new AuthenticationHeaderValue("Basic", "dTpw");
        var authorized = await client.GetBytesAsync(new Uri(_base, "private"), 1000, CancellationToken.None, new GoProxyRequest(basic));
        Assert.True(authorized.IsOk, authorized.Result.Reason);

        // Redirected to another host name: the header stays behind.
        var redirected = await client.GetBytesAsync(new Uri(_base, "redirect"), 1000, CancellationToken.None, new GoProxyRequest(basic));
        Assert.Equal(401, redirected.Result.HttpStatus);
        Assert.Equal([null, "Basic dTpw", "Basic dTpw", null], _requests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task Transient_failures_are_retried_when_asked_and_headers_go_with_every_request()
    {
        _failuresLeft = 2;
        var patient = new GoProxyClient(_http, new GoProxyClientOptions
        {
            Attempts = 3,
            RetryPause = TimeSpan.FromMilliseconds(1),
            Headers = [new("Warren-Via", "instance-1")],
        });
        var result = await patient.GetBytesAsync(new Uri(_base, "flaky"), 1000, CancellationToken.None);
        Assert.True(result.IsOk, result.Result.Reason);
        Assert.Equal("finally", Encoding.UTF8.GetString(result.Body!));
        Assert.Equal(3, _requests.Count);
        Assert.All(_requests, r => Assert.Equal("instance-1", r.Via));

        _failuresLeft = 1;
        var once = await new GoProxyClient(_http).GetBytesAsync(new Uri(_base, "flaky"), 1000, CancellationToken.None);
        Assert.Equal(503, once.Result.HttpStatus);
        Assert.True(once.Result.IsTimeout is false);
    }

    [Fact]
    public async Task Reasons_never_carry_user_information_or_known_secrets()
    {
        var withUser = new UriBuilder(_base) { UserName = "bob", Password = "hunter2", Path = "/base/broken" }.Uri;
        var client = new GoProxyClient(_http, new GoProxyClientOptions { Redact = text => text.Replace("on fire", "[redacted]", StringComparison.Ordinal) });
        var result = await client.GetBytesAsync(withUser, 1000, CancellationToken.None);
        Assert.DoesNotContain("hunter2", result.Result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("bob", result.Result.Reason, StringComparison.Ordinal);
        Assert.EndsWith("500 Internal Server Error: database [redacted]", result.Result.Reason, StringComparison.Ordinal);
        Assert.Equal("http://127.0.0.1:1/p", GoProxyClient.Redact(new Uri("http://u:p@127.0.0.1:1/p?token=x")));
    }

    [Fact]
    public void First_line_takes_the_first_non_empty_line_without_control_characters()
    {
        Assert.Equal("a b", GoProxyClient.FirstLine("\n\n a\tb \nsecond"));
        Assert.Equal(300, GoProxyClient.FirstLine(new string('x', 1000)).Length);
        Assert.Equal("", GoProxyClient.FirstLine(" \n \n"));
    }
}
