using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Warren.Fetch.Direct.Git;
using Warren.Protocol.GoProxy;
using Warren.Server.Configuration;
using Warren.Server.Upstream;

namespace Warren.Server.Tests;

/// <summary>The server's downloader over the protocol client: files, statuses relayed to clients, loop detection, redaction.</summary>
public sealed class HttpDownloaderTests : IAsyncLifetime
{
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _dir = TestPaths.NewTempDir("downloader");
    private Microsoft.AspNetCore.Builder.WebApplication? _app;
    private string _url = "";
    private string? _via;

    public async Task InitializeAsync()
    {
        (_app, _url) = await LoopbackApp.StartAsync(async context =>
        {
            _via = context.Request.Headers[HttpDownloader.ViaHeader].FirstOrDefault();
            switch (context.Request.Path.Value)
            {
                case "/ok":
                    await context.Response.WriteAsync("hello");
                    break;
                case "/gone":
                    context.Response.StatusCode = 410;
                    await context.Response.WriteAsync("gone: token s3cr3t-token expired");
                    break;
                case "/gateway":
                    context.Response.StatusCode = 504;
                    break;
                case "/slow":
                    await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                    break;
                default:
                    context.Response.StatusCode = 500;
                    break;
            }
        });
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await LoopbackApp.StopAsync(_app!);
    }

    private HttpDownloader Downloader(out InstanceIdentity identity, TimeSpan? timeout = null)
    {
        identity = new InstanceIdentity();
        var redactor = new SecretRedactor();
        redactor.Add("s3cr3t-token");
        return new HttpDownloader(_http, Options.Create(new WarrenOptions { UpstreamTimeout = timeout ?? TimeSpan.FromMinutes(1) }), identity, redactor);
    }

    [Fact]
    public async Task A_success_is_written_to_the_file_with_the_instance_header()
    {
        var file = Path.Combine(_dir, "ok");
        var outcome = await Downloader(out var identity).DownloadAsync(new Uri(_url + "/ok"), "upstream", file, 100, CancellationToken.None);
        Assert.Equal(FetchOutcome.Ok("upstream", 5), outcome);
        Assert.Equal("hello", await File.ReadAllTextAsync(file));
        Assert.Equal(identity.Id, _via);
    }

    [Fact]
    public async Task Failures_leave_no_file_and_say_what_went_wrong()
    {
        var downloader = Downloader(out _, TimeSpan.FromMilliseconds(300));
        var file = Path.Combine(_dir, "f");

        var gone = await downloader.DownloadAsync(new Uri(_url + "/gone"), "upstream", file, 100, CancellationToken.None);
        Assert.Equal(FetchStatus.Gone, gone.Status);
        Assert.DoesNotContain("s3cr3t-token", gone.Reason, StringComparison.Ordinal);
        Assert.False(File.Exists(file));

        var gateway = await downloader.DownloadAsync(new Uri(_url + "/gateway"), "upstream", file, 100, CancellationToken.None);
        Assert.Equal(FetchStatus.TimedOut, gateway.Status);
        var broken = await downloader.DownloadAsync(new Uri(_url + "/broken"), "upstream", file, 100, CancellationToken.None);
        Assert.Equal(FetchStatus.Failed, broken.Status);
        var slow = await downloader.DownloadAsync(new Uri(_url + "/slow"), "upstream", file, 100, CancellationToken.None);
        Assert.Equal(FetchStatus.TimedOut, slow.Status);
        Assert.Contains("timed out after 0.3s", slow.Reason, StringComparison.Ordinal);
        var large = await downloader.DownloadAsync(new Uri(_url + "/ok"), "upstream", file, 4, CancellationToken.None);
        Assert.Equal(FetchStatus.Failed, large.Status);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public void Protocol_results_map_to_fetch_outcomes()
    {
        static ProxyFetchResult Failed(ProxyFailure failure, int? status = null) =>
            new(ProxyFetchStatus.Failed, failure, status, "r", 0, TimeSpan.Zero);
        Assert.Equal(FetchStatus.TimedOut, HttpDownloader.ToOutcome(Failed(ProxyFailure.ConnectTimeout), "s").Status);
        Assert.Equal(FetchStatus.Failed, HttpDownloader.ToOutcome(Failed(ProxyFailure.Refused), "s").Status);
        Assert.Equal(FetchStatus.Failed, HttpDownloader.ToOutcome(Failed(ProxyFailure.Status, 503), "s").Status);
        var notFound = HttpDownloader.ToOutcome(new ProxyFetchResult(ProxyFetchStatus.NotFound, ProxyFailure.Refused, null, "refused", 0, TimeSpan.Zero), "s");
        Assert.Equal(FetchStatus.NotFound, notFound.Status);
    }
}
