using System.Net;
using System.Text;

namespace Warren.Fetch.Direct.Tests.Discovery;

/// <summary>An in-memory HTTP layer: answers by URL, records what was asked.</summary>
internal sealed class StubHandler : HttpMessageHandler
{
    private readonly Func<Uri, CancellationToken, Task<HttpResponseMessage>> answer;

    public StubHandler(Func<Uri, CancellationToken, Task<HttpResponseMessage>> answer)
    {
        this.answer = answer;
    }

    public StubHandler(IReadOnlyDictionary<string, Func<HttpResponseMessage>> pages)
        : this((uri, _) => Task.FromResult(pages.TryGetValue(uri.AbsoluteUri, out var page)
            ? page()
            : throw new HttpRequestException($"Connection refused ({uri.Host}:{uri.Port})")))
    {
    }

    public List<string> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (Requests)
        {
            Requests.Add(request.RequestUri!.AbsoluteUri);
        }

        return await answer(request.RequestUri!, cancellationToken).ConfigureAwait(false);
    }

    public static HttpResponseMessage Html(string body, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "text/html") };

    public static HttpResponseMessage GoImport(string prefix, string vcs, string url, HttpStatusCode status = HttpStatusCode.OK) =>
        Html($"<!DOCTYPE html><html><head><meta name=\"go-import\" content=\"{prefix} {vcs} {url}\"></head><body>go get {prefix}</body></html>", status);
}

/// <summary>A clock that moves only when told to.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private DateTimeOffset now = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;
}

/// <summary>Where the shared folder and the corpus are (WARREN_SHARED, WARREN_CORPUS_DIR).</summary>
internal static class DiscoveryTestPaths
{
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Warren.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Warren.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Shared => Environment.GetEnvironmentVariable("WARREN_SHARED") is { Length: > 0 } s
        ? s
        : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Corpus => Environment.GetEnvironmentVariable("WARREN_CORPUS_DIR") is { Length: > 0 } d ? d : "/tmp/corpus-out";

    public static string NewTempDir(string prefix)
    {
        string dir = Path.Combine(Path.GetTempPath(), "warren-tests", prefix + "-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
