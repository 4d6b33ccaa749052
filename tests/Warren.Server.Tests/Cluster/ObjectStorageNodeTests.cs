using System.Net;
using System.Net.Http.Headers;
using Warren.Server.Configuration;
using Warren.Server.Tests.Infrastructure;
using Warren.Testing.Services;

namespace Warren.Server.Tests.Cluster;

/// <summary>One node on S3 and PostgreSQL: redirects the go client follows, ranges passed through to the object
/// store, readiness that depends on both services, and their latency in /metrics.</summary>
public sealed class ObjectStorageNodeTests(ClusterServices services) : IClassFixture<ClusterServices>
{
    private void Shared(WarrenOptionsBuilder o, string? endpoint = null)
    {
        o.Store = $"s3://{services.S3.Bucket}/{S3ServerFixture.NewPrefix().TrimEnd('/')}";
        o.S3Endpoint = endpoint ?? services.S3.Endpoint;
        o.S3PathStyle = true;
        o.Index = services.NewDatabase();
    }

    private static ManifestEntry Entry() => Manifest.All.Where(e => !e.Version.Contains('+', StringComparison.Ordinal))
        .OrderBy(e => Math.Abs(new FileInfo(e.ZipPath).Length - 300_000)).First();

    private static string ZipUrl(ManifestEntry e) => $"{Manifest.Escape(e.Path)}/@v/{Manifest.Escape(e.Version)}.zip";

    [Fact]
    public async Task With_s3_redirect_zips_are_answered_with_a_presigned_url_the_go_client_follows()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o =>
        {
            Shared(o);
            o.S3Redirect = true;
        });
        var entry = Entry();

        // The first request stores it; then a zip request is a 302 to the object store, valid for minutes, never cached.
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(warren.Url + "/") };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{Manifest.Escape(entry.Path)}/@v/{Manifest.Escape(entry.Version)}.info")).StatusCode);
        using (var first = await http.GetAsync(ZipUrl(entry)))
        {
            Assert.True(first.StatusCode is HttpStatusCode.OK or HttpStatusCode.Found, first.StatusCode.ToString());
        }

        using var redirect = await http.GetAsync(ZipUrl(entry));
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        var location = redirect.Headers.Location!;
        Assert.StartsWith(services.S3.Endpoint, location.AbsoluteUri, StringComparison.Ordinal);
        Assert.Contains("X-Amz-Expires=", location.Query, StringComparison.Ordinal);
        Assert.True(redirect.Headers.CacheControl?.NoStore);
        using var plain = new HttpClient();
        Assert.Equal(await File.ReadAllBytesAsync(entry.ZipPath), await plain.GetByteArrayAsync(location));

        // The go client follows it and verifies the zip.
        var result = await new GoRunner(warren.Url).RunAsync(TestPaths.NewTempDir("redirect"), "mod", "download", "-json", entry.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(entry.ZipHash, GoRunner.JsonStream(result.Stdout).Single().GetProperty("Sum").GetString());
        Assert.Equal(1, upstream.HitsFor(ZipUrl(entry)));
    }

    [Fact]
    public async Task A_range_of_a_zip_in_object_storage_is_read_from_the_store_as_a_range_and_conditional_requests_are_answered()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        // Without local copies (--local-cache 0), so that every read goes to the object store.
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o =>
        {
            Shared(o);
            o.LocalCache = "0";
        });
        var entry = Entry();
        var bytes = await File.ReadAllBytesAsync(entry.ZipPath);
        Assert.Equal(bytes, await warren.Client.GetByteArrayAsync(ZipUrl(entry)));

        using var request = new HttpRequestMessage(HttpMethod.Get, ZipUrl(entry));
        request.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var ranged = await warren.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode);
        Assert.Equal($"bytes 1000-1999/{bytes.Length}", ranged.Content.Headers.ContentRange!.ToString());
        Assert.Equal(bytes.AsSpan(1000, 1000).ToArray(), await ranged.Content.ReadAsByteArrayAsync());

        using var suffix = new HttpRequestMessage(HttpMethod.Get, ZipUrl(entry));
        suffix.Headers.Range = new RangeHeaderValue(null, 10);
        using var tail = await warren.Client.SendAsync(suffix);
        Assert.Equal(bytes.AsSpan(bytes.Length - 10).ToArray(), await tail.Content.ReadAsByteArrayAsync());

        using var beyond = new HttpRequestMessage(HttpMethod.Get, ZipUrl(entry));
        beyond.Headers.Range = new RangeHeaderValue(bytes.Length + 5, null);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, (await warren.Client.SendAsync(beyond)).StatusCode);

        var etag = (await warren.Client.GetAsync(ZipUrl(entry))).Headers.ETag!;
        using var conditional = new HttpRequestMessage(HttpMethod.Get, ZipUrl(entry));
        conditional.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await warren.Client.SendAsync(conditional)).StatusCode);

        // The store's latency and errors are in /metrics, by backend and provider.
        var metrics = await warren.Client.GetStringAsync("metrics");
        Assert.Contains("warren_storage_operation_duration_seconds_count{backend=\"store\",provider=\"s3\",operation=\"put\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("provider=\"postgres\",operation=\"record_artifact\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_is_ready_only_while_it_reaches_its_object_store()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using (var ready = await WarrenInstance.StartAsync(upstream.Url, o => Shared(o)))
        {
            Assert.Equal(HttpStatusCode.OK, (await ready.Client.GetAsync("readyz")).StatusCode);
        }

        // An S3 endpoint nothing listens on: healthy (the process runs), not ready, with a one-line reason.
        var closed = $"http://127.0.0.1:{Loopback.FreePort()}";
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => Shared(o, closed));
        Assert.Equal(HttpStatusCode.OK, (await warren.Client.GetAsync("healthz")).StatusCode);
        using var response = await warren.Client.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("not ready: ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", body.TrimEnd('\n'), StringComparison.Ordinal);
        Assert.Contains("warren_storage_errors_total{backend=\"store\",provider=\"s3\",operation=\"probe\"}", await warren.Client.GetStringAsync("metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_whose_index_is_unreachable_does_not_start_and_says_so_in_one_line()
    {
        var index = $"postgres://warren:s3cret-pw@127.0.0.1:{Loopback.FreePort()}/warren";
        var result = await Processes.RunAsync("dotnet", null, null,
            [WarrenProcess.Dll, "serve", "--listen", $"127.0.0.1:{Loopback.FreePort()}", "--root", TestPaths.NewTempDir("no-index"), "--upstream", "off", "--sumdb", "off", "--index", index],
            timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("warren serve: cannot start: the module index: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }
}
