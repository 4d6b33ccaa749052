using System.IO.Compression;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Warren.Server.Ingest;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Ingest;

/// <summary>Zips sent while they are fetched from an upstream proxy and verified (StreamFetchedZips): the client gets
/// the bytes as they arrive, the last one only after the zip is verified and stored; a zip that fails is cut short.</summary>
public sealed class StreamedZipTests
{
    private const string Module = "example.com/stream/big";
    private const string Version = "v1.0.0";
    private const string ZipPath = "/" + Module + "/@v/" + Version + ".zip";

    [Fact]
    public async Task A_zip_is_sent_while_upstream_sends_it_and_its_end_only_once_it_is_stored()
    {
        var root = TestPaths.NewTempDir("stream-up");
        var zip = WriteModule(root, 1 << 20);
        var half = zip.Length / 2;
        await using var upstream = await FakeUpstream.StartAsync(root);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        InterceptZip(upstream, async context =>
        {
            // Half the body, then nothing until the test has seen that half arrive through Warren.
            context.Response.ContentLength = zip.Length;
            await context.Response.Body.WriteAsync(zip.AsMemory(0, half));
            await context.Response.Body.FlushAsync();
            await release.Task;
            await context.Response.Body.WriteAsync(zip.AsMemory(half));
        });
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.StreamFetchedZips = "0");

        using var response = await warren.Client.GetAsync(ZipPath, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(zip.Length, response.Content.Headers.ContentLength);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[half];
        await body.ReadExactlyAsync(first).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(zip.AsSpan(0, half).ToArray(), first);
        Assert.Null(StoredZip(warren));

        release.SetResult();
        var rest = new MemoryStream();
        await body.CopyToAsync(rest).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(zip, first.Concat(rest.ToArray()).ToArray());

        // The last byte went only after the commit: the zip is stored, with its hash, and served from the store now.
        Assert.NotNull(StoredZip(warren));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(StoredZip(warren))!, "*.ziphash"));
        Assert.Equal(zip, await warren.Client.GetByteArrayAsync(ZipPath));
        Assert.Equal(1, upstream.HitsFor(".zip"));
        Assert.Equal(1, warren.Metrics.StreamedZips("complete"));
        Assert.Equal(0, warren.Metrics.StreamedZips("cut"));
        Assert.Equal(0, warren.Services.GetRequiredService<LiveStages>().Count);
    }

    [Fact]
    public async Task Requests_that_join_a_streamed_fetch_stream_it_too()
    {
        var root = TestPaths.NewTempDir("stream-join");
        var zip = WriteModule(root, 512 << 10);
        await using var upstream = await FakeUpstream.StartAsync(root);
        upstream.ChunkSize = 32 << 10;
        upstream.ChunkDelay = TimeSpan.FromMilliseconds(20);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.StreamFetchedZips = "100K");

        var bodies = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => warren.Client.GetByteArrayAsync(ZipPath)));

        Assert.All(bodies, b => Assert.Equal(zip, b));
        Assert.Equal(1, upstream.HitsFor(".zip"));
        Assert.True(warren.Metrics.StreamedZips("complete") >= 1, "no request was streamed");
        Assert.Equal(0, warren.Metrics.StreamedZips("cut"));
    }

    [Fact]
    public async Task A_refused_zip_is_cut_short_never_stored_and_the_next_request_gets_the_reason()
    {
        var root = TestPaths.NewTempDir("stream-bad");
        WriteModule(root, 1 << 10);
        // Not a zip at all: the check after the download refuses it.
        var junk = new byte[600 << 10];
        new Random(5).NextBytes(junk);
        File.WriteAllBytes(Path.Combine(root, Module, "@v", Version + ".zip"), junk);
        await using var upstream = await FakeUpstream.StartAsync(root);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.StreamFetchedZips = "0");

        using (var response = await warren.Client.GetAsync(ZipPath, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(junk.Length, response.Content.Headers.ContentLength);
            var received = await ReadUntilCutAsync(response);
            Assert.True(received.Length < junk.Length, $"received {received.Length} of {junk.Length} bytes");
        }

        Assert.Null(StoredZip(warren));
        Assert.Equal(1, warren.Metrics.StreamedZips("cut"));

        // Not streamed again for a while: the next request waits for the verdict and gets its reason in a 4xx/5xx.
        using var again = await warren.Client.GetAsync(ZipPath);
        Assert.False(again.IsSuccessStatusCode);
        Assert.Contains("invalid module zip", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(StoredZip(warren));
    }

    [Fact]
    public async Task A_download_cut_by_upstream_cuts_the_client_short()
    {
        var root = TestPaths.NewTempDir("stream-trunc");
        var zip = WriteModule(root, 1 << 20);
        await using var upstream = await FakeUpstream.StartAsync(root);
        InterceptZip(upstream, async context =>
        {
            context.Response.ContentLength = zip.Length;
            await context.Response.Body.WriteAsync(zip.AsMemory(0, zip.Length / 3));
            await context.Response.Body.FlushAsync();
            await Task.Delay(200);
            context.Abort();
        });
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.StreamFetchedZips = "0");

        using var response = await warren.Client.GetAsync(ZipPath, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = await ReadUntilCutAsync(response);
        Assert.True(received.Length < zip.Length);
        Assert.Equal(zip.AsSpan(0, (int)received.Length).ToArray(), received.ToArray());
        Assert.Null(StoredZip(warren));
        Assert.Equal(1, warren.Metrics.StreamedZips("cut"));
        Assert.Equal(0, warren.Services.GetRequiredService<LiveStages>().Count);
    }

    [Fact]
    public async Task Without_a_declared_size_the_body_is_chunked_and_complete_after_verification()
    {
        var root = TestPaths.NewTempDir("stream-chunked");
        var zip = WriteModule(root, 256 << 10);
        await using var upstream = await FakeUpstream.StartAsync(root);
        InterceptZip(upstream, async context =>
        {
            for (var offset = 0; offset < zip.Length; offset += 50_000)
            {
                await context.Response.Body.WriteAsync(zip.AsMemory(offset, Math.Min(50_000, zip.Length - offset)));
                await context.Response.Body.FlushAsync();
                await Task.Delay(20);
            }
        });
        // No declared size: streamed once 100 KB have arrived.
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.StreamFetchedZips = "100K");

        using var response = await warren.Client.GetAsync(ZipPath, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.Equal(zip, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, warren.Metrics.StreamedZips("complete"));
        Assert.NotNull(StoredZip(warren));

        // Under the size, with no declared size either: the stored zip, with its length and ETag.
        await using var larger = await WarrenInstance.StartAsync(upstream.Url, o => o.StreamFetchedZips = "1M");
        using var stored = await larger.Client.GetAsync(ZipPath, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(zip.Length, stored.Content.Headers.ContentLength);
        Assert.NotNull(stored.Headers.ETag);
        Assert.Equal(zip, await stored.Content.ReadAsByteArrayAsync());
        Assert.Equal(0, larger.Metrics.StreamedZips("complete"));
    }

    [Fact]
    public async Task Zips_under_the_size_ranges_and_heads_wait_for_the_stored_zip()
    {
        var root = TestPaths.NewTempDir("stream-small");
        var zip = WriteModule(root, 64 << 10);
        await using var upstream = await FakeUpstream.StartAsync(root);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.StreamFetchedZips = "1M");

        // Under the size: the stored zip, with its ETag.
        using var small = await warren.Client.GetAsync(ZipPath);
        Assert.Equal(zip, await small.Content.ReadAsByteArrayAsync());
        Assert.NotNull(small.Headers.ETag);

        // A range of a zip not yet stored, with streaming of everything: a 206 of the stored zip.
        await using var everything = await WarrenInstance.StartAsync(upstream.Url, o => o.StreamFetchedZips = "0");
        using var ranged = new HttpRequestMessage(HttpMethod.Get, ZipPath);
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 19);
        using var part = await everything.Client.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(zip.AsSpan(10, 10).ToArray(), await part.Content.ReadAsByteArrayAsync());

        Assert.Equal(0, warren.Metrics.StreamedZips("complete") + everything.Metrics.StreamedZips("complete"));
    }

    [Fact]
    public async Task The_go_command_downloads_corpus_versions_streamed_with_the_manifest_hashes()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        upstream.ChunkSize = 16 << 10;
        upstream.ChunkDelay = TimeSpan.FromMilliseconds(5);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.StreamFetchedZips = "0");
        var entries = Manifest.All.Where((_, i) => i % 8 == 0).ToList();
        var go = new GoRunner(warren.Url);
        var args = new List<string> { "mod", "download", "-json" };
        args.AddRange(entries.Select(e => e.Path + "@" + e.Version));

        var result = await go.RunAsync(TestPaths.NewTempDir("stream-go"), args.ToArray());

        Assert.True(result.ExitCode == 0, result.ToString());
        var objects = GoRunner.JsonStream(result.Stdout);
        Assert.Equal(entries.Count, objects.Count);
        foreach (var o in objects)
        {
            Assert.False(o.TryGetProperty("Error", out var error), error.ToString());
            var expected = Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!);
            Assert.Equal(expected.ZipHash, o.GetProperty("Sum").GetString());
        }

        // A zip that is whole and verified before its request looks (one chunk) is sent from the store; the rest stream.
        Assert.True(warren.Metrics.StreamedZips("complete") >= entries.Count / 2, $"{warren.Metrics.StreamedZips("complete")} of {entries.Count} streamed");
        Assert.Equal(0, warren.Metrics.StreamedZips("cut"));
    }

    [Fact]
    public void A_cut_response_is_not_recorded_as_a_download()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Items[Warren.Server.Endpoints.ProxyEndpoints.RouteItem] = "zip";
        context.Response.StatusCode = 200;
        Assert.True(Warren.Server.Impact.DownloadRecording.IsDownload(context));

        context.Items[Warren.Server.Endpoints.LiveZipResult.CutItem] = true;
        Assert.False(Warren.Server.Impact.DownloadRecording.IsDownload(context));
    }

    [Theory]
    [InlineData("off", null, true)]
    [InlineData("OFF", null, true)]
    [InlineData("0", 0L, true)]
    [InlineData("1M", 1L << 20, true)]
    [InlineData("12XB", null, false)]
    [InlineData("-1", null, false)]
    public void The_setting_is_a_size_or_off_and_a_bad_one_is_refused_at_start_up_with_one_line(string text, long? threshold, bool valid)
    {
        var options = new Configuration.WarrenOptionsBuilder { Root = TestPaths.NewTempDir("stream-config"), Upstream = "off", SumDb = "off", StreamFetchedZips = text }.Build();
        var result = new Configuration.WarrenOptionsValidator().Validate(null, options);
        Assert.Equal(valid, result.Succeeded);
        if (valid)
        {
            Assert.Equal(threshold, options.StreamFetchedZipsSize.Bytes);
        }
        else
        {
            Assert.Contains(result.Failures!, f => f.StartsWith("stream fetched zips", StringComparison.Ordinal) && !f.Contains('\n', StringComparison.Ordinal));
        }
    }

    /// <summary>Writes example.com/stream/big v1.0.0 (.info, .mod, a zip with payloadBytes of incompressible data) under
    /// root in the GOPROXY layout; returns the zip's bytes.</summary>
    private static byte[] WriteModule(string root, int payloadBytes)
    {
        var dir = Path.Combine(root, Module, "@v");
        Directory.CreateDirectory(dir);
        var goMod = $"module {Module}\n\ngo 1.19\n";
        File.WriteAllText(Path.Combine(dir, Version + ".mod"), goMod);
        File.WriteAllText(Path.Combine(dir, Version + ".info"), $"{{\"Version\":\"{Version}\",\"Time\":\"2024-01-02T00:00:00Z\"}}");
        File.WriteAllText(Path.Combine(dir, "list"), Version + "\n");
        var payload = new byte[payloadBytes];
        new Random(7).NextBytes(payload);
        var file = Path.Combine(dir, Version + ".zip");
        using (var archive = ZipFile.Open(file, ZipArchiveMode.Create))
        {
            using (var stream = archive.CreateEntry($"{Module}@{Version}/go.mod").Open())
            {
                stream.Write(Encoding.UTF8.GetBytes(goMod));
            }

            using (var stream = archive.CreateEntry($"{Module}@{Version}/data.bin", CompressionLevel.NoCompression).Open())
            {
                stream.Write(payload);
            }
        }

        return File.ReadAllBytes(file);
    }

    /// <summary>Answers the upstream's zip requests with send (everything else as the file tree says).</summary>
    private static void InterceptZip(FakeUpstream upstream, Func<HttpContext, Task> send) =>
        upstream.Intercept = async context =>
        {
            if (!context.Request.Path.Value!.EndsWith(".zip", StringComparison.Ordinal))
            {
                return false;
            }

            await send(context);
            return true;
        };

    /// <summary>Reads a response body that must end in an error (the connection cut short); returns what came before.</summary>
    private static async Task<MemoryStream> ReadUntilCutAsync(HttpResponseMessage response)
    {
        var received = new MemoryStream();
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            await body.CopyToAsync(received);
        });
        return received;
    }

    private static string? StoredZip(WarrenInstance warren) =>
        Directory.EnumerateFiles(warren.Root, Version + ".zip", SearchOption.AllDirectories).FirstOrDefault(f => !f.Contains(".warren", StringComparison.Ordinal));
}
