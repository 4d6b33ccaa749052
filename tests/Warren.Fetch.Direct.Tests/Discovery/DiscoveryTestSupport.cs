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
