using System.Collections.Concurrent;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Warren.Storage.S3;
using Warren.Testing;
using Warren.Testing.Services;

namespace Warren.Storage.Tests;

/// <summary>The artifact store contract on the S3 store against a real S3-compatible server (s3rver, which ignores
/// If-None-Match, so put-if-absent goes through the key lock), and what only the S3 store does. Each store gets a
/// prefix of its own, so tests do not see each other's objects.</summary>
public sealed class S3ArtifactStoreTests(S3ServerFixture server) : ArtifactStoreContract, IClassFixture<S3ServerFixture>, IDisposable
{
    private const long MiB = 1024 * 1024;

    private readonly List<IDisposable> _disposables = [];
    private readonly CountingKeyLock _keyLock = new();
    private readonly CapturingLoggerProvider _logs = new();

    protected override Task<IArtifactStore> CreateStoreAsync(IArtifactStore? shareWith = null)
    {
        var prefix = shareWith is S3ArtifactStore other ? Prefixes[other] : S3ServerFixture.NewPrefix();
        return Task.FromResult<IArtifactStore>(Open(Options(prefix)));
    }

    private ConcurrentDictionary<S3ArtifactStore, string> Prefixes { get; } = new();

    /// <summary>s3rver writes an object in place while it receives it, so a reader may see it incomplete; AWS S3 (and
    /// MinIO, Ceph) never show an object before its upload completes, and the store writes no key but the object's own.</summary>
    protected override bool ReadersSeeOnlyCompleteObjects => false;

    public void Dispose()
    {
        foreach (var d in _disposables)
        {
            d.Dispose();
        }

        _logs.Dispose();
    }

    private S3StoreOptions Options(string prefix) => new()
    {
        Bucket = server.Bucket,
        Prefix = prefix,
        ServiceUrl = server.Endpoint,
        ForcePathStyle = true,
        MultipartThreshold = 5 * MiB,
        PartSize = 5 * MiB,
    };

    private S3ArtifactStore Open(S3StoreOptions options, TimeProvider? time = null)
    {
        var factory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));
        _disposables.Add(factory);
        var store = new S3ArtifactStore(options, _keyLock, factory.CreateLogger<S3ArtifactStore>(), time);
        _disposables.Add(store);
        Prefixes[store] = options.Prefix;
        return store;
    }

    private AmazonS3Client RawClient()
    {
        var client = new AmazonS3Client(new AmazonS3Config
        {
            ServiceURL = server.Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
        });
        _disposables.Add(client);
        return client;
    }

    [Fact]
    public async Task Objects_are_at_the_keys_of_the_file_store_after_the_prefix()
    {
        var prefix = S3ServerFixture.NewPrefix();
        var store = Open(Options(prefix));
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream("zip"u8.ToArray()), Ct));
        Assert.True(await store.PutIfAbsentAsync("sumdb/sum.golang.org/tile/8/0/001", new MemoryStream([1]), Ct));
        var listed = await RawClient().ListObjectsV2Async(new ListObjectsV2Request { BucketName = server.Bucket, Prefix = prefix }, Ct);
        Assert.Equal([prefix + "golang.org/x/text/@v/v0.3.0.zip", prefix + "sumdb/sum.golang.org/tile/8/0/001"],
            listed.S3Objects.Select(o => o.Key).Order(StringComparer.Ordinal));
        using var get = await RawClient().GetObjectAsync(server.Bucket, prefix + ZipKey, Ct);
        using var reader = new StreamReader(get.ResponseStream);
        Assert.Equal("zip", await reader.ReadToEndAsync(Ct));
        Assert.Equal($"s3://{server.Bucket}/{prefix} ({server.Endpoint})", store.Location);
    }

    [Fact]
    public async Task Ignored_conditional_writes_are_detected_and_the_key_lock_is_used()
    {
        var store = Open(Options(S3ServerFixture.NewPrefix()));
        Assert.Null(store.ConditionalWritesHonoured);
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream([1]), Ct));
        Assert.False(store.ConditionalWritesHonoured);
        Assert.Contains(_logs.Lines, l => l.Contains("conditional writes (If-None-Match) are ignored; put-if-absent uses the key lock", StringComparison.Ordinal));
        Assert.Equal(1, store.LockedPuts);
        Assert.Equal([server.Bucket + "/" + Prefixes[store] + ZipKey], _keyLock.Keys);

        // Detected once: the next put neither probes again nor logs again.
        Assert.True(await store.PutIfAbsentAsync("example.com/m/@v/v1.0.0.mod", new MemoryStream([2]), Ct));
        Assert.Equal(2, store.LockedPuts);
        Assert.Single(_logs.Lines, l => l.Contains("conditional writes", StringComparison.Ordinal));

        // The probe left nothing behind, and nothing under the store's prefix but the two objects.
        var raw = await RawClient().ListObjectsV2Async(new ListObjectsV2Request { BucketName = server.Bucket, Prefix = Prefixes[store] }, Ct);
        Assert.Equal(2, raw.S3Objects.Count);
    }

    [Fact]
    public async Task Honoured_conditional_writes_are_detected_and_used_instead_of_the_lock()
    {
        await using var proxy = await ConditionalS3Proxy.StartAsync(server.Endpoint);
        var store = Open(Options(S3ServerFixture.NewPrefix()) with { ServiceUrl = proxy.Endpoint });
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream([1]), Ct));
        Assert.True(store.ConditionalWritesHonoured);
        Assert.Contains(_logs.Lines, l => l.Contains("conditional writes (If-None-Match) are honoured; put-if-absent uses If-None-Match", StringComparison.Ordinal));
        Assert.Equal(0, store.LockedPuts);
        Assert.Empty(_keyLock.Keys);
        // The probe's second put was refused; the put itself was conditional.
        Assert.Equal(1, proxy.Refused);
        Assert.Equal(proxy.Writes, proxy.ConditionalWrites);
        Assert.False(await store.PutIfAbsentAsync(ZipKey, new MemoryStream([2]), Ct));
        Assert.Equal([1], await ReadAsync(store, ZipKey));
    }

    [Fact]
    public async Task Racing_conditional_writes_have_one_winner_and_the_losers_get_false()
    {
        await using var proxy = await ConditionalS3Proxy.StartAsync(server.Endpoint);
        var prefix = S3ServerFixture.NewPrefix();
        var a = Open(Options(prefix) with { ServiceUrl = proxy.Endpoint, ConditionalWrites = ConditionalWrites.On });
        var b = Open(Options(prefix) with { ServiceUrl = proxy.Endpoint, ConditionalWrites = ConditionalWrites.On });
        // Single PUTs and multipart uploads (6 MiB: two parts), from both handles at once.
        var contents = Enumerable.Range(0, 6).Select(i => Enumerable.Repeat((byte)(i + 1), (int)(i % 2 == 0 ? 1 * MiB : 6 * MiB)).ToArray()).ToArray();
        var results = await Task.WhenAll(contents.Select((c, i) => Task.Run(async () => await (i % 3 == 0 ? a : b).PutIfAbsentAsync(ZipKey, StageFile(c), Ct))));
        Assert.Single(results, r => r);
        Assert.Equal(contents[Array.IndexOf(results, true)], await ReadAsync(a, ZipKey));
        Assert.Equal(0, a.LockedPuts + b.LockedPuts);
        Assert.Equal(proxy.Writes, proxy.ConditionalWrites);
        Assert.Equal(proxy.ConditionalWrites - 1, proxy.Refused);
    }

    [Fact]
    public async Task Conditional_writes_off_use_the_key_lock_without_a_probe()
    {
        var store = Open(Options(S3ServerFixture.NewPrefix()) with { ConditionalWrites = ConditionalWrites.Off });
        Assert.False(store.ConditionalWritesHonoured);
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream([1]), Ct));
        Assert.Equal(1, store.LockedPuts);
        Assert.False(await store.PutIfAbsentAsync(ZipKey, new MemoryStream([2]), Ct));
        Assert.Equal([1], await ReadAsync(store, ZipKey));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("conditional writes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_presigned_redirect_serves_the_content()
    {
        var store = Open(Options(S3ServerFixture.NewPrefix()));
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream("redirected"u8.ToArray()), Ct));
        var obj = await store.GetAsync(ZipKey, Ct);
        var url = await obj!.GetRedirectAsync(TimeSpan.FromHours(1), Ct);
        Assert.NotNull(url);
        Assert.Equal(new Uri(server.Endpoint).Authority, url.Authority);
        Assert.Equal("http", url.Scheme);
        // Shortened to the store's RedirectLifetime (10 minutes; the SDK counts from its own clock, a second apart at most).
        var expires = int.Parse(System.Text.RegularExpressions.Regex.Match(url.Query, "X-Amz-Expires=([0-9]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, 599, 601);
        using var http = new HttpClient();
        Assert.Equal("redirected", await http.GetStringAsync(url, Ct));
    }

    [Fact]
    public async Task A_presigned_redirect_is_reused_for_half_its_lifetime_then_signed_anew()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var store = Open(Options(S3ServerFixture.NewPrefix()), time);
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream("redirected"u8.ToArray()), Ct));
        Assert.True(await store.PutIfAbsentAsync("example.com/other/@v/v1.0.0.zip", new MemoryStream("other"u8.ToArray()), Ct));
        var lifetime = TimeSpan.FromMinutes(4);
        async Task<Uri> RedirectAsync(string key) => (await (await store.GetAsync(key, Ct))!.GetRedirectAsync(lifetime, Ct))!;

        var first = await RedirectAsync(ZipKey);
        time.Advance(TimeSpan.FromMinutes(2) - TimeSpan.FromSeconds(1));
        Assert.Equal(first, await RedirectAsync(ZipKey)); // still valid for more than half the lifetime: not signed again
        Assert.NotEqual(first, await RedirectAsync("example.com/other/@v/v1.0.0.zip")); // one URL per object
        Assert.NotEqual(first, (await (await store.GetAsync(ZipKey, Ct))!.GetRedirectAsync(TimeSpan.FromMinutes(3), Ct))!); // per lifetime

        time.Advance(TimeSpan.FromSeconds(2));
        var second = await RedirectAsync(ZipKey);
        Assert.NotEqual(first, second); // less than half its lifetime left: a new signature
        using var http = new HttpClient();
        Assert.Equal("redirected", await http.GetStringAsync(second, Ct));
    }

    [Fact]
    public async Task Multipart_is_used_from_the_threshold_on()
    {
        var store = Open(Options(S3ServerFixture.NewPrefix()));
        Assert.True(await store.PutIfAbsentAsync("example.com/small/@v/v1.0.0.zip", StageFile(new byte[(int)(4 * MiB)]), Ct));
        Assert.Equal(0, store.MultipartUploads);

        var content = Enumerable.Range(0, (int)(11 * MiB)).Select(i => (byte)(i % 251)).ToArray();
        Assert.True(await store.PutIfAbsentAsync(ZipKey, StageFile(content), Ct));
        Assert.Equal(1, store.MultipartUploads);
        Assert.Contains(_logs.Lines, l => l.Contains($"Multipart upload of {Prefixes[store]}{ZipKey} completed: 3 parts, {11 * MiB} bytes", StringComparison.Ordinal));
        Assert.Equal(content, await ReadAsync(store, ZipKey));
        Assert.Equal(content[(int)(5 * MiB - 10)..(int)(5 * MiB + 10)], await ReadAsync(store, ZipKey, 5 * MiB - 10, 20));
    }

    [Fact]
    public async Task A_failed_multipart_upload_is_aborted_and_leaves_no_object()
    {
        var store = Open(Options(S3ServerFixture.NewPrefix()));
        await Assert.ThrowsAsync<IOException>(async () => await store.PutIfAbsentAsync(ZipKey, new FailingStream(12 * MiB), Ct));
        Assert.Equal(1, store.MultipartUploads);
        Assert.Contains(_logs.Lines, l => l.Contains($"Multipart upload of {Prefixes[store]}{ZipKey} aborted: IOException", StringComparison.Ordinal));
        Assert.Null(await store.GetAsync(ZipKey, Ct));
        Assert.Empty(await ListAsync(store, ""));

        // The key is free for a later writer.
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream([1]), Ct));
    }

    [Fact]
    public async Task A_canceled_multipart_upload_is_aborted_and_leaves_no_object()
    {
        var store = Open(Options(S3ServerFixture.NewPrefix()));
        using var cancel = new CancellationTokenSource();
        // The caller gives up once two parts have been read.
        var source = new FailingStream(long.MaxValue, afterBytes: 10 * MiB, cancel.Cancel);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.PutIfAbsentAsync(ZipKey, source, cancel.Token));
        Assert.Equal(1, store.MultipartUploads);
        Assert.Contains(_logs.Lines, l => l.Contains($"Multipart upload of {Prefixes[store]}{ZipKey} aborted: canceled", StringComparison.Ordinal));
        Assert.Null(await store.GetAsync(ZipKey, Ct));
    }

    [Fact]
    public void The_location_names_bucket_prefix_and_a_custom_endpoint_only()
    {
        using var aws = new S3ArtifactStore(new S3StoreOptions { Bucket = "warren-store", Prefix = "proxy", Region = "eu-west-1" });
        Assert.Equal("s3://warren-store/proxy/", aws.Location);
        using var custom = new S3ArtifactStore(Options("p/") with { ServiceUrl = server.Endpoint + "/" });
        Assert.Equal($"s3://{server.Bucket}/p/ ({server.Endpoint})", custom.Location);
    }

    [Fact]
    public async Task A_missing_bucket_fails_the_probe_with_one_line()
    {
        var store = Open(Options(S3ServerFixture.NewPrefix()) with { Bucket = "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8] });
        var reason = await store.ProbeAsync(Ct);
        Assert.NotNull(reason);
        Assert.DoesNotContain('\n', reason);
        Assert.Contains("404", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("S3RVER", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://warren", "warren", "")]
    [InlineData("s3://warren/", "warren", "")]
    [InlineData("s3://warren/proxy", "warren", "proxy/")]
    [InlineData("s3://my.bucket-1/a/b/", "my.bucket-1", "a/b/")]
    public void Locations_are_parsed(string text, string bucket, string prefix)
    {
        var options = S3StoreOptions.Parse(text);
        Assert.Equal((bucket, prefix), (options.Bucket, options.Prefix));
        Assert.Equal(ConditionalWrites.Auto, options.ConditionalWrites);
        Assert.Equal((16 * MiB, 8 * MiB, TimeSpan.FromMinutes(10)), (options.MultipartThreshold, options.PartSize, options.RedirectLifetime));
    }

    [Theory]
    [InlineData("")]
    [InlineData("warren/x")]
    [InlineData("https://warren/x")]
    [InlineData("s3://")]
    [InlineData("s3:///prefix")]
    [InlineData("s3://key:secret@warren/x")]
    [InlineData("s3://Upper/x")]
    [InlineData("s3://warren/a//b")]
    [InlineData("s3://warren/../b")]
    public void Bad_locations_are_refused(string text)
    {
        Assert.False(S3StoreOptions.TryParse(text, out _, out var error));
        Assert.DoesNotContain('\n', error);
        Assert.Throws<FormatException>(() => S3StoreOptions.Parse(text));
    }

    [Fact]
    public void Options_are_validated_one_line_per_problem()
    {
        var bad = new S3StoreOptions
        {
            Bucket = "",
            PartSize = 4 * MiB,
            MultipartThreshold = 0,
            ServiceUrl = "http://user:pass@127.0.0.1:9000",
            RedirectLifetime = TimeSpan.Zero,
            Region = "",
        };
        var problems = S3StoreOptionsValidator.Problems(bad);
        Assert.Equal(6, problems.Count);
        Assert.Contains(problems, p => p.Contains("bucket: required", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("part size", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("may not hold credentials", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("pass", StringComparison.Ordinal));
        Assert.All(problems, p => Assert.DoesNotContain('\n', p));
        Assert.Empty(S3StoreOptionsValidator.Problems(Options("p/")));
        Assert.Single(S3StoreOptionsValidator.Problems(Options("p/") with { PartSize = 2L * 1024 * MiB }));
        Assert.Single(S3StoreOptionsValidator.Problems(Options("p/") with { ConditionalWrites = (ConditionalWrites)7 }));
        Assert.Single(S3StoreOptionsValidator.Problems(Options("p/") with { ServiceUrl = "ftp://127.0.0.1/" }));
        Assert.Throws<OptionsValidationException>(() => new ServiceCollection().AddS3Store(bad));
        Assert.Throws<OptionsValidationException>(() => new S3ArtifactStore(bad));
    }

    [Fact]
    public async Task Registration_gives_one_store_with_the_registered_key_lock()
    {
        var services = new ServiceCollection().AddSingleton<IKeyLock>(_keyLock).AddS3Store(Options(S3ServerFixture.NewPrefix()) with { ConditionalWrites = ConditionalWrites.Off });
        using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IArtifactStore>();
        Assert.Same(provider.GetRequiredService<S3ArtifactStore>(), store);
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream([1]), Ct));
        Assert.Single(_keyLock.Keys);
    }

    /// <summary>An in-process key lock that records the keys it was asked for.</summary>
    private sealed class CountingKeyLock : IKeyLock
    {
        private readonly InProcessKeyLock _inner = new();
        private readonly ConcurrentQueue<string> _keys = new();

        public IReadOnlyList<string> Keys => [.. _keys];

        public ValueTask<IAsyncDisposable> AcquireAsync(string key, CancellationToken cancellationToken)
        {
            _keys.Enqueue(key);
            return _inner.AcquireAsync(key, cancellationToken);
        }
    }

    /// <summary>A stream of unknown length that fails after some bytes, as a broken download would (and may call back
    /// once some bytes have been read).</summary>
    private sealed class FailingStream(long failAfter, long afterBytes = long.MaxValue, Action? then = null) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter)
            {
                throw new IOException("the download broke");
            }

            var n = (int)Math.Min(count, failAfter - _position);
            Array.Fill(buffer, (byte)7, offset, n);
            _position += n;
            if (_position >= afterBytes)
            {
                then?.Invoke();
            }

            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
