using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Warren.Server;

namespace Warren.Server.Tests.Infrastructure;

/// <summary>A GOPROXY on 127.0.0.1 serving a directory tree, recording every request, with hooks to misbehave.</summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _root;

    public ConcurrentDictionary<string, int> Hits { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Return true when the hook wrote the response itself.</summary>
    public Func<HttpContext, Task<bool>>? Intercept { get; set; }

    /// <summary>Delay before answering each request.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>When set, bodies are sent in chunks of this size with ChunkDelay between them.</summary>
    public int ChunkSize { get; set; }

    public TimeSpan ChunkDelay { get; set; }

    public string Url { get; }

    public int Port { get; }

    private FakeUpstream(WebApplication app, string root, int port)
    {
        _app = app;
        _root = root;
        Port = port;
        Url = $"http://127.0.0.1:{port}";
    }

    public static async Task<FakeUpstream> StartAsync(string root, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        var app = builder.Build();
        FakeUpstream? self = null;
        app.Run(context => self!.HandleAsync(context));
        await app.StartAsync();
        var address = WarrenHost.Addresses(app).Single();
        self = new FakeUpstream(app, root, new Uri(address).Port);
        return self;
    }

    public int HitsFor(string pathSuffix) => Hits.Where(kv => kv.Key.EndsWith(pathSuffix, StringComparison.Ordinal)).Sum(kv => kv.Value);

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        Hits.AddOrUpdate(path, 1, (_, v) => v + 1);
        Requests.Enqueue(path);
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay);
        }

        if (Intercept is { } hook && await hook(context))
        {
            return;
        }

        var file = Path.GetFullPath(Path.Combine(_root, path.TrimStart('/')));
        if (!file.StartsWith(_root, StringComparison.Ordinal) || !File.Exists(file))
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync("not found: " + path + "\n");
            return;
        }

        await SendFileAsync(context, file);
    }

    public async Task SendFileAsync(HttpContext context, string file)
    {
        var length = new FileInfo(file).Length;
        context.Response.ContentLength = length;
        await using var stream = File.OpenRead(file);
        if (ChunkSize <= 0)
        {
            await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
            return;
        }

        var buffer = new byte[ChunkSize];
        int n;
        while ((n = await stream.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, n), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(ChunkDelay, context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
