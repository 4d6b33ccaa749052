using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Warren.Testing;

/// <summary>A GOPROXY on 127.0.0.1 serving a directory tree, recording every request, with hooks to misbehave.</summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly string _root;
    private WebApplication _app = null!;

    private FakeUpstream(string root)
    {
        _root = root;
    }

    public ConcurrentDictionary<string, int> Hits { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Return true when the hook wrote the response itself.</summary>
    public Func<HttpContext, Task<bool>>? Intercept { get; set; }

    /// <summary>Delay before answering each request.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>When set, bodies are sent in chunks of this size with ChunkDelay between them.</summary>
    public int ChunkSize { get; set; }

    public TimeSpan ChunkDelay { get; set; }

    public string Url { get; private set; } = "";

    public int Port { get; private set; }

    public static async Task<FakeUpstream> StartAsync(string root, int port = 0)
    {
        var self = new FakeUpstream(root);
        (self._app, self.Url) = await LoopbackApp.StartAsync(self.HandleAsync, port).ConfigureAwait(false);
        self.Port = new Uri(self.Url).Port;
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
            await Task.Delay(Delay).ConfigureAwait(false);
        }

        if (Intercept is { } hook && await hook(context).ConfigureAwait(false))
        {
            return;
        }

        var file = Path.GetFullPath(Path.Combine(_root, path.TrimStart('/')));
        if (!file.StartsWith(_root, StringComparison.Ordinal) || !File.Exists(file))
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync("not found: " + path + "\n").ConfigureAwait(false);
            return;
        }

        await SendFileAsync(context, file).ConfigureAwait(false);
    }

    /// <summary>Sends a file as the response body (in chunks when <see cref="ChunkSize"/> is set).</summary>
    public async Task SendFileAsync(HttpContext context, string file)
    {
        ArgumentNullException.ThrowIfNull(context);
        var length = new FileInfo(file).Length;
        context.Response.ContentLength = length;
        var stream = File.OpenRead(file);
        await using (stream.ConfigureAwait(false))
        {
            if (ChunkSize <= 0)
            {
                await stream.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            var buffer = new byte[ChunkSize];
            int n;
            while ((n = await stream.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, n), context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                await Task.Delay(ChunkDelay, context.RequestAborted).ConfigureAwait(false);
            }
        }
    }

    public ValueTask DisposeAsync() => LoopbackApp.StopAsync(_app);
}
