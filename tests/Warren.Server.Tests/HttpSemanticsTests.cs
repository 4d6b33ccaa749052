using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

public sealed class HttpSemanticsTests
{
    private const string Zip = "github.com/pkg/errors/@v/v0.9.1.zip";

    [Fact]
    public async Task Immutable_artifacts_carry_cache_headers_and_honour_conditional_and_range_requests()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);
        var full = await File.ReadAllBytesAsync(Path.Combine(TestPaths.Corpus, Zip));

        using var response = await warren.Client.GetAsync(Zip);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(full, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/zip", response.Content.Headers.ContentType!.MediaType);
        var cache = response.Headers.CacheControl!;
        Assert.True(cache.Public);
        Assert.True(cache.MaxAge >= TimeSpan.FromDays(30));
        Assert.Contains(cache.Extensions, e => e.Name == "immutable");
        Assert.NotNull(response.Headers.ETag);
        Assert.NotNull(response.Content.Headers.LastModified);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, Zip);
        conditional.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var notModified = await warren.Client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var ranged = new HttpRequestMessage(HttpMethod.Get, Zip);
        ranged.Headers.Range = new RangeHeaderValue(10, 109);
        using var partial = await warren.Client.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(full[10..110], await partial.Content.ReadAsByteArrayAsync());

        using var head = await warren.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, Zip));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(full.Length, head.Content.Headers.ContentLength);

        Assert.Equal(1, upstream.HitsFor(Zip));
    }

    /// <summary>A small zip (one read), and a zip of several 64 KB chunks read straight into the response's buffers
    /// or, when too many large files are being sent at once, copied through a rented buffer.</summary>
    [Theory]
    [InlineData(Zip, true)]
    [InlineData("golang.org/x/mod/@v/v0.4.2.zip", true)]
    [InlineData("golang.org/x/mod/@v/v0.4.2.zip", false)]
    public async Task A_warm_zip_is_sent_whole_from_its_open_file_and_a_stored_file_that_shrank_is_never_sent_as_whole(string zip, bool direct)
    {
        var limit = Warren.Server.Endpoints.OpenFileResult.DirectSenderLimit;
        Warren.Server.Endpoints.OpenFileResult.DirectSenderLimit = direct ? limit : 0;
        try
        {
            await SendWholeThenShrunkAsync(zip);
        }
        finally
        {
            Warren.Server.Endpoints.OpenFileResult.DirectSenderLimit = limit;
        }
    }

    private static async Task SendWholeThenShrunkAsync(string zip)
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);
        var full = await File.ReadAllBytesAsync(Path.Combine(TestPaths.Corpus, zip));

        // Cold, then warm several times over one connection (the open handle is reused, headers go first).
        for (var i = 0; i < 4; i++)
        {
            using var response = await warren.Client.GetAsync(zip);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(full.Length, response.Content.Headers.ContentLength);
            Assert.Equal("bytes", Assert.Single(response.Headers.AcceptRanges));
            Assert.Equal(full, await response.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(1, upstream.HitsFor(zip));

        // Damage the stored zip under the open handle: the response announces the stored length, so the client must
        // see a cut-short body, never a complete response with other bytes.
        var stored = Path.Combine(warren.Root, zip);
        File.SetAttributes(stored, FileAttributes.Normal);
        await using (var handle = new FileStream(stored, FileMode.Open, FileAccess.Write))
        {
            handle.SetLength(full.Length / 2);
        }

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => warren.Client.GetByteArrayAsync(zip));
    }

    [Fact]
    public async Task List_merges_held_versions_and_is_cached_for_the_ttl()
    {
        var upstreamRoot = TestPaths.NewTempDir("listup");
        var dir = Path.Combine(upstreamRoot, "example.com", "m", "@v");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "list"), "v1.1.0\nv1.0.0\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "v1.2.0.info"), "{\"Version\":\"v1.2.0\",\"Time\":\"2024-01-01T00:00:00Z\"}");
        await using var upstream = await FakeUpstream.StartAsync(upstreamRoot);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);

        using var info = await warren.Client.GetAsync("example.com/m/@v/v1.2.0.info");
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        using var list = await warren.Client.GetAsync("example.com/m/@v/list");
        Assert.Equal("v1.0.0\nv1.1.0\nv1.2.0\n", await list.Content.ReadAsStringAsync());
        Assert.True(list.Headers.CacheControl!.MaxAge > TimeSpan.Zero);
        Assert.DoesNotContain(list.Headers.CacheControl.Extensions, e => e.Name == "immutable");
        using var again = await warren.Client.GetAsync("example.com/m/@v/list");
        Assert.Equal(1, upstream.HitsFor("/@v/list"));

        // The store itself is a valid file:// GOPROXY tree: @v/list holds the versions it has.
        Assert.Equal("v1.2.0\n", await File.ReadAllTextAsync(Path.Combine(warren.Root, "example.com", "m", "@v", "list")));
    }

    [Fact]
    public async Task Health_readiness_and_metrics()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);
        Assert.Equal("ok\n", await warren.Client.GetStringAsync("healthz"));
        Assert.Equal("ready\n", await warren.Client.GetStringAsync("readyz"));
        await warren.Client.GetAsync(Zip);
        await warren.Client.GetAsync(Zip);
        await warren.Client.GetAsync("github.com/pkg/errors/@v/v0.99.0.info");

        var metrics = await warren.Client.GetStringAsync("metrics");
        Assert.Contains("warren_http_requests_total{route=\"zip\",status=\"200\"} 2", metrics);
        Assert.Contains("warren_http_requests_total{route=\"info\",status=\"404\"} 1", metrics);
        Assert.Contains("warren_cache_hits_total{kind=\"zip\"} 1", metrics);
        Assert.Contains("warren_cache_misses_total{kind=\"zip\"} 1", metrics);
        Assert.Contains("warren_upstream_fetch_duration_seconds_count{kind=\"zip\",outcome=\"ok\"} 1", metrics);
        Assert.Contains("warren_upstream_fetch_duration_seconds_count{kind=\"info\",outcome=\"not_found\"} 1", metrics);
        Assert.Contains("warren_upstream_fetches_in_flight 0", metrics);
        var zipBytes = new FileInfo(Path.Combine(TestPaths.Corpus, Zip)).Length;
        Assert.Contains($"warren_bytes_served_total{{kind=\"zip\"}} {2 * zipBytes}", metrics);
    }

    [Fact]
    public async Task Sumdb_endpoints_are_proxied_and_tiles_and_lookups_are_kept()
    {
        var sumRoot = TestPaths.NewTempDir("sumdb");
        Directory.CreateDirectory(Path.Combine(sumRoot, "tile", "8", "0"));
        Directory.CreateDirectory(Path.Combine(sumRoot, "lookup", "github.com", "pkg"));
        var (signerKey, verifierKey) = Warren.Core.SumDb.NoteKeys.GenerateKey("sum.example.com/db");
        var signedHead = new Warren.Core.SumDb.TreeHead(5, Warren.Core.SumDb.Tlog.RecordHash("five"u8)).Sign(Warren.Core.SumDb.NoteSigner.Parse(signerKey));
        await File.WriteAllBytesAsync(Path.Combine(sumRoot, "latest"), signedHead);
        Directory.CreateDirectory(Path.Combine(sumRoot, "tile", "8", "0", "000.p"));
        await File.WriteAllBytesAsync(Path.Combine(sumRoot, "tile", "8", "0", "000.p", "5"), new byte[160]);
        await File.WriteAllTextAsync(Path.Combine(sumRoot, "lookup", "github.com", "pkg", "errors@v0.9.1"), "12\nrecord\n");
        await using var sumdb = await FakeUpstream.StartAsync(sumRoot);
        await using var warren = await WarrenInstance.StartAsync("off", o => o.SumDb = $"{verifierKey} {sumdb.Url}");

        using var supported = await warren.Client.GetAsync("sumdb/sum.example.com/db/supported");
        Assert.Equal(HttpStatusCode.OK, supported.StatusCode);
        using var other = await warren.Client.GetAsync("sumdb/sum.golang.org/supported");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);

        Assert.StartsWith("go.sum database tree", await warren.Client.GetStringAsync("sumdb/sum.example.com/db/latest"));
        for (var i = 0; i < 2; i++)
        {
            using var tile = await warren.Client.GetAsync("sumdb/sum.example.com/db/tile/8/0/000.p/5");
            Assert.Equal(HttpStatusCode.OK, tile.StatusCode);
            Assert.Equal(160, (await tile.Content.ReadAsByteArrayAsync()).Length);
            Assert.Contains(tile.Headers.CacheControl!.Extensions, e => e.Name == "immutable");

            // A lookup that does not verify is refused, and not kept.
            using var lookup = await warren.Client.GetAsync("sumdb/sum.example.com/db/lookup/github.com/pkg/errors@v0.9.1");
            Assert.Equal(HttpStatusCode.BadGateway, lookup.StatusCode);
            Assert.Contains("refused the checksum database's answer", await lookup.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(1, sumdb.HitsFor("/tile/8/0/000.p/5"));
        Assert.Equal(2, sumdb.HitsFor("/lookup/github.com/pkg/errors@v0.9.1"));
        Assert.True(File.Exists(Path.Combine(warren.Root, "sumdb", "sum.example.com", "db", "tile", "8", "0", "000.p", "5")));

        var (badTile, _) = await HostileInputTests.RawGetAsync(warren.Url, "/sumdb/sum.example.com/db/tile/8/0/../../../../etc/passwd");
        Assert.Equal(400, badTile);
        var (badLookup, body) = await HostileInputTests.RawGetAsync(warren.Url, "/sumdb/sum.example.com/db/lookup/github.com/Pkg/errors@v0.9.1");
        Assert.Equal(400, badLookup);
        Assert.Contains("invalid lookup", body);
        var (badEndpoint, _) = await HostileInputTests.RawGetAsync(warren.Url, "/sumdb/sum.example.com/db/tile/x/y");
        Assert.Equal(404, badEndpoint);

        // ".." inside a path element is a valid module path: passed on (not cached), never a 500.
        var (dots, _) = await HostileInputTests.RawGetAsync(warren.Url, "/sumdb/sum.example.com/db/lookup/example.com/a..b@v1.0.0");
        Assert.Equal(404, dots);
        Assert.Equal(1, sumdb.HitsFor("/lookup/example.com/a..b@v1.0.0"));
    }

    [Fact]
    public async Task Proxied_lookups_are_kept_only_once_proven()
    {
        await using var db = await TestSumDb.StartAsync();
        db.AddFiller(300);
        db.Add("github.com/pkg/errors", "v0.9.1");
        db.Add("github.com/pkg/errors", "v0.9.0");
        await using var warren = await WarrenInstance.StartAsync("off", o => o.SumDb = $"{db.VerifierKey} {db.Url}");

        for (var i = 0; i < 2; i++)
        {
            var body = await warren.Client.GetStringAsync("sumdb/sum.test.example/lookup/github.com/pkg/errors@v0.9.1");
            Assert.Contains("github.com/pkg/errors v0.9.1 h1:", body, StringComparison.Ordinal);
        }

        Assert.Equal(1, db.Requests.Count(r => r == "/lookup/github.com/pkg/errors@v0.9.1"));
        Assert.True(File.Exists(Path.Combine(warren.Root, "sumdb", "sum.test.example", "lookup", "github.com", "pkg", "errors@v0.9.1")));

        // A record altered on the way does not match its tile hash: refused, not kept.
        db.TamperRecord = text => text.Replace("h1:", "h1:A", StringComparison.Ordinal);
        using var tampered = await warren.Client.GetAsync("sumdb/sum.test.example/lookup/github.com/pkg/errors@v0.9.0");
        Assert.Equal(HttpStatusCode.BadGateway, tampered.StatusCode);
        Assert.False(File.Exists(Path.Combine(warren.Root, "sumdb", "sum.test.example", "lookup", "github.com", "pkg", "errors@v0.9.0")));
    }

    [Fact]
    public async Task A_proxied_latest_that_does_not_verify_or_forks_is_refused_and_not_cached()
    {
        var sumRoot = TestPaths.NewTempDir("sumdb");
        var (signerKey, verifierKey) = Warren.Core.SumDb.NoteKeys.GenerateKey("sum.example.com");
        var signer = Warren.Core.SumDb.NoteSigner.Parse(signerKey);
        var latest = Path.Combine(sumRoot, "latest");
        await File.WriteAllBytesAsync(latest, new Warren.Core.SumDb.TreeHead(5, Warren.Core.SumDb.Tlog.RecordHash("a"u8)).Sign(signer));
        await using var sumdb = await FakeUpstream.StartAsync(sumRoot);
        await using var warren = await WarrenInstance.StartAsync("off", o =>
        {
            o.SumDb = $"{verifierKey} {sumdb.Url}";
            o.ListTtl = TimeSpan.FromMilliseconds(1);
        });
        Assert.Equal(HttpStatusCode.OK, (await warren.Client.GetAsync("sumdb/sum.example.com/latest")).StatusCode);

        // Same size, other hash, same key: a fork.
        await File.WriteAllBytesAsync(latest, new Warren.Core.SumDb.TreeHead(5, Warren.Core.SumDb.Tlog.RecordHash("b"u8)).Sign(signer));
        await Task.Delay(5);
        using (var fork = await warren.Client.GetAsync("sumdb/sum.example.com/latest"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, fork.StatusCode);
            Assert.Contains("SECURITY ERROR", await fork.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Signed by another key: does not verify.
        var other = Warren.Core.SumDb.NoteSigner.Parse(Warren.Core.SumDb.NoteKeys.GenerateKey("sum.example.com").SignerKey);
        await File.WriteAllBytesAsync(latest, new Warren.Core.SumDb.TreeHead(6, Warren.Core.SumDb.Tlog.RecordHash("c"u8)).Sign(other));
        await Task.Delay(5);
        using (var forged = await warren.Client.GetAsync("sumdb/sum.example.com/latest"))
        {
            var body = await forged.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadGateway, forged.StatusCode);
            Assert.Contains("verifying tree note", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_request_that_loops_back_is_refused_with_508()
    {
        await using var warren = await WarrenInstance.StartAsync("off");

        // A chain that reaches back to this instance (through another proxy or a DNS alias) carries its own id.
        using var request = new HttpRequestMessage(HttpMethod.Get, Zip);
        request.Headers.Add(Upstream.HttpDownloader.ViaHeader, warren.InstanceId);
        using var response = await warren.Client.SendAsync(request);
        Assert.Equal(StatusCodes.Status508LoopDetected, (int)response.StatusCode);
    }

    [Theory]
    [InlineData("upstream", "ftp://nope", "only http, https and file")]
    [InlineData("listen", "nohost", "is not HOST:PORT")]
    [InlineData("private", "[bad", "")]
    [InlineData("sumdb", "bad name! x y", "invalid sumdb")]
    [InlineData("loop", "http://127.0.0.1:{port}", "points back at this server")]
    public async Task Bad_configuration_stops_start_up_with_a_clear_message(string setting, string value, string reason)
    {
        var port = Loopback.FreePort();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => WarrenInstance.StartAsync("off", o =>
        {
            switch (setting)
            {
                case "upstream":
                    o.Upstream = value;
                    break;
                case "listen":
                    o.Listen = value;
                    break;
                case "private":
                    o.Private = value;
                    break;
                case "sumdb":
                    o.SumDb = value;
                    break;
                default:
                    o.Listen = $"127.0.0.1:{port}";
                    o.Upstream = value.Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
                    break;
            }
        }));
        Assert.Contains(reason, ex.Message);
    }
}
