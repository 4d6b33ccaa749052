using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Warren.Fetch.Direct.Discovery;

namespace Warren.Fetch.Direct.Tests.Discovery;

/// <summary>A Kestrel server on 127.0.0.1 acting as an HTTP proxy the way git_serve.py does: it answers absolute-form
/// requests itself (never forwarding) and refuses CONNECT, so https through it fails.</summary>
public sealed class FakeProxy : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakeProxy(WebApplication app, int port)
    {
        this.app = app;
        Port = port;
    }

    public int Port { get; }

    /// <summary>"host/path?query" → page HTML.</summary>
    public ConcurrentDictionary<string, string> Pages { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request line seen: "METHOD target".</summary>
    public ConcurrentQueue<string> Seen { get; } = new();

    public static async Task<FakeProxy> StartAsync()
    {
        FakeProxy? proxy = null;
        var (app, url) = await LoopbackApp.StartAsync(context => proxy!.HandleAsync(context));
        proxy = new FakeProxy(app, new Uri(url).Port);
        return proxy;
    }

    private async Task HandleAsync(HttpContext context)
    {
        HttpRequest r = context.Request;
        string key = r.Host.Value + r.Path.Value + r.QueryString.Value;
        Seen.Enqueue($"{r.Method} {key}");
        if (HttpMethods.IsConnect(r.Method))
        {
            context.Response.StatusCode = 405;
            return;
        }

        if (Pages.TryGetValue(key, out string? page))
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(page);
            return;
        }

        context.Response.StatusCode = 404;
    }

    /// <summary>A client that sends everything (loopback excepted) through this proxy.</summary>
    public HttpClient Client() => new(new SocketsHttpHandler
    {
        Proxy = new WebProxy(new Uri($"http://127.0.0.1:{Port}"), BypassOnLocal: false),
        UseProxy = true,
    });

    public ValueTask DisposeAsync() => LoopbackApp.StopAsync(app);
}

public class ProxyDiscoveryTests
{
    private static string Page(string prefix, string url) =>
        $"<!DOCTYPE html><html><head><meta name=\"go-import\" content=\"{prefix} git {url}\"></head><body>go get {prefix}</body></html>\n";

    [Fact]
    public async Task Goinsecure_path_resolves_through_an_http_proxy_that_refuses_connect()
    {
        await using var proxy = await FakeProxy.StartAsync();
        string repo = $"http://127.0.0.1:{proxy.Port}/golang.org/x/sync.git";
        proxy.Pages["golang.org/x/sync?go-get=1"] = Page("golang.org/x/sync", repo);
        proxy.Pages["golang.org/x/sync/errgroup?go-get=1"] = Page("golang.org/x/sync", repo);
        using HttpClient client = proxy.Client();
        var discovery = new RepoDiscovery(client, new RepoDiscoveryOptions { GoInsecure = "golang.org/x/sync,gopkg.in/yaml.v3" });

        var (root, result) = await discovery.ResolveAsync("golang.org/x/sync/errgroup", CancellationToken.None);

        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(new RepoRoot("golang.org/x/sync", "git", repo), root);
        Assert.Equal(
            [
                "CONNECT golang.org:443", "GET golang.org/x/sync/errgroup?go-get=1",
                "CONNECT golang.org:443", "GET golang.org/x/sync?go-get=1",
            ],
            proxy.Seen);
    }

    [Fact]
    public async Task Without_goinsecure_the_refused_tunnel_is_a_failure()
    {
        await using var proxy = await FakeProxy.StartAsync();
        proxy.Pages["golang.org/x/sync?go-get=1"] = Page("golang.org/x/sync", "http://127.0.0.1:1/x.git");
        using HttpClient client = proxy.Client();
        var discovery = new RepoDiscovery(client, new RepoDiscoveryOptions { GoInsecure = "gopkg.in" });

        var (root, result) = await discovery.ResolveAsync("golang.org/x/sync", CancellationToken.None);

        Assert.Null(root);
        Assert.Equal(DirectStatus.Failed, result.Status);
        Assert.StartsWith("unrecognized import path \"golang.org/x/sync\": https fetch: Get \"https://golang.org/x/sync?go-get=1\": ", result.Message, StringComparison.Ordinal);
        Assert.Contains("405", result.Message, StringComparison.Ordinal);
        Assert.Equal(["CONNECT golang.org:443"], proxy.Seen);
    }

    [Fact]
    public async Task Unknown_path_behind_the_proxy_is_not_found()
    {
        await using var proxy = await FakeProxy.StartAsync();
        using HttpClient client = proxy.Client();
        var discovery = new RepoDiscovery(client, new RepoDiscoveryOptions { GoInsecure = "golang.org/x" });

        var (_, result) = await discovery.ResolveAsync("golang.org/x/nonexist", CancellationToken.None);

        Assert.Equal(DirectResult.NotFound("unrecognized import path \"golang.org/x/nonexist\": reading http://golang.org/x/nonexist?go-get=1: 404 Not Found"), result);
    }

    [Fact]
    public async Task Direct_loopback_server_without_proxy()
    {
        await using var server = await FakeProxy.StartAsync();
        const string host = "loopback.invalid";
        using var client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (ctx, ct) =>
            {
                // Every host name is answered by the loopback server; nothing is looked up.
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port), ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        });
        server.Pages[$"{host}/m?go-get=1"] = Page($"{host}/m", "https://git.example/m");
        var discovery = new RepoDiscovery(client, new RepoDiscoveryOptions { GoInsecure = host });

        var (root, result) = await discovery.ResolveAsync($"{host}/m", CancellationToken.None);

        // https reaches the plain-http server and fails the TLS handshake; the http retry succeeds.
        Assert.Equal(DirectResult.Success, result);
        Assert.Equal(new RepoRoot($"{host}/m", "git", "https://git.example/m"), root);
    }
}
