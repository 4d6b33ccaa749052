using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Warren.Core.Diagnostics;
using S3Protocol = Amazon.S3.Protocol;

namespace Warren.Storage.S3;

/// <summary>The artifact store in an S3 bucket (AWS S3 or a compatible server), under the same keys as the file
/// store (after <see cref="S3StoreOptions.Prefix"/>). An object is visible only complete, as S3 makes it; put-if-absent
/// is a conditional write (If-None-Match: *) where the server honours it, else HEAD then PUT under an
/// <see cref="IKeyLock"/>. Credentials come from the AWS SDK's standard chain only.</summary>
public sealed class S3ArtifactStore : IArtifactStore, IDisposable
{
    /// <summary>Where, after the prefix, the store's probes go: under ".warren/", which is never a store key.</summary>
    private const string ProbeDirectory = StoreLayout.StateDirectory + "/probe/";

    /// <summary>At most this many presigned redirect URLs are remembered (a few hundred bytes each).</summary>
    internal const int RedirectCacheEntries = 10_000;

    private readonly S3StoreOptions _options;
    private readonly AmazonS3Client _client;
    private readonly IKeyLock _keyLock;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly S3Protocol _protocol;
    private readonly SemaphoreSlim _detectGate = new(1, 1);

    /// <summary>Presigned redirect URLs, each reused for the first half of its lifetime: signing costs far more than
    /// answering, and every client still gets a URL valid for at least half the lifetime asked for.</summary>
    private readonly Warren.Core.Limits.BoundedCache<Uri> _redirects;
    // 0: not known yet (Auto), 1: honoured, 2: ignored.
    private int _conditional;
    private long _multipartUploads;
    private long _lockedPuts;

    /// <summary>A store on options (which must be valid). keyLock coordinates put-if-absent when the server ignores
    /// conditional writes (default: <see cref="InProcessKeyLock"/>, right for one node only).</summary>
    public S3ArtifactStore(S3StoreOptions options, IKeyLock? keyLock = null, ILogger<S3ArtifactStore>? logger = null, TimeProvider? timeProvider = null)
    {
        S3StoreOptionsValidator.ThrowIfInvalid(options);
        _options = options;
        _keyLock = keyLock ?? new InProcessKeyLock();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _redirects = new Warren.Core.Limits.BoundedCache<Uri>(RedirectCacheEntries, time: _time);
        _conditional = options.ConditionalWrites switch
        {
            ConditionalWrites.On => 1,
            ConditionalWrites.Off => 2,
            _ => 0,
        };

        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Plain requests (no aws-chunked bodies with trailing checksums): what every S3-compatible server accepts.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url;
            config.AuthenticationRegion = options.Region ?? "us-east-1";
            _protocol = new Uri(url).Scheme == Uri.UriSchemeHttp ? S3Protocol.HTTP : S3Protocol.HTTPS;
        }
        else
        {
            if (options.Region is { } region)
            {
                config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
            }

            _protocol = S3Protocol.HTTPS;
        }

        // The SDK's standard credential chain (environment, profile, container or instance role).
        _client = new AmazonS3Client(config);
        Location = "s3://" + options.Bucket + "/" + options.Prefix +
                   (options.ServiceUrl is { } endpoint ? " (" + new Uri(endpoint).GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped).TrimEnd('/') + ")" : "");
    }

    public string Location { get; }

    /// <summary>Whether put-if-absent uses the server's conditional writes: null until detected (Auto, before first use).</summary>
    public bool? ConditionalWritesHonoured => Volatile.Read(ref _conditional) switch { 1 => true, 2 => false, _ => null };

    /// <summary>How many multipart uploads this store has started.</summary>
    public long MultipartUploads => Interlocked.Read(ref _multipartUploads);

    /// <summary>How many put-if-absent calls went through the key lock (HEAD then PUT).</summary>
    public long LockedPuts => Interlocked.Read(ref _lockedPuts);

    public void Dispose()
    {
        _client.Dispose();
        _detectGate.Dispose();
    }

    public async ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken)
    {
        using var activity = WarrenActivity.Source.StartActivity(WarrenActivity.StoreGet);
        activity?.SetTag("warren.key", key);
        var full = FullKey(key);
        var head = await HeadAsync(full, cancellationToken).ConfigureAwait(false);
        return head is null
            ? null
            : new S3Object(this, key, full, head.ContentLength, AsUtc(head.LastModified), head.ETag ?? "\"\"");
    }

    public async ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken) =>
        await HeadAsync(FullKey(key), cancellationToken).ConfigureAwait(false) is not null;

    public async ValueTask<bool> PutIfAbsentAsync(string key, string stagedFile, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stagedFile);
        try
        {
            var full = FullKey(key);
            var file = new FileStream(stagedFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using (file.ConfigureAwait(false))
            {
                return await PutCoreAsync(key, full, file, file.Length, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            File.Delete(stagedFile);
        }
    }

    public ValueTask<bool> PutIfAbsentAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var full = FullKey(key);
        long? length = content.CanSeek ? content.Length - content.Position : null;
        return PutCoreAsync(key, full, content, length, cancellationToken);
    }

    public async ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var full = FullKey(key);
        if (await HeadAsync(full, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = full }, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0 && (!prefix.EndsWith('/') || !StoreLayout.IsValidKey(prefix[..^1])))
        {
            throw new ArgumentException($"invalid store prefix {prefix}", nameof(prefix));
        }

        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = _options.Prefix + prefix };
        while (true)
        {
            var response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var o in response.S3Objects ?? [])
            {
                if (o.Key is { } k && k.StartsWith(_options.Prefix, StringComparison.Ordinal))
                {
                    var key = k[_options.Prefix.Length..];
                    if (StoreLayout.IsValidKey(key))
                    {
                        yield return key;
                    }
                }
            }

            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    public async ValueTask<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        var probe = _options.Prefix + ProbeDirectory + Guid.NewGuid().ToString("N");
        try
        {
            await PutSmallAsync(probe, [], 0, ifNoneMatch: false, cancellationToken).ConfigureAwait(false);
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = probe }, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (AmazonServiceException ex)
        {
            return $"store {Location} is not writable: {(int)ex.StatusCode} {ex.ErrorCode ?? ex.StatusCode.ToString()}";
        }
        catch (Exception ex) when (ex is AmazonClientException or HttpRequestException or IOException)
        {
            return $"store {Location} is not reachable: {ex.GetType().Name}: {FirstLine(ex.Message)}";
        }
    }

    /// <summary>Probes (once, Auto only) whether the server refuses a second conditional put of a key; returns the
    /// cached answer. A probe that fails outright is an exception, and is tried again on the next put.</summary>
    public async ValueTask<bool> DetectConditionalWritesAsync(CancellationToken cancellationToken)
    {
        if (ConditionalWritesHonoured is { } known)
        {
            return known;
        }

        await _detectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ConditionalWritesHonoured is { } again)
            {
                return again;
            }

            var probe = _options.Prefix + ProbeDirectory + "conditional-" + Guid.NewGuid().ToString("N");
            bool honoured;
            try
            {
                await PutSmallAsync(probe, [1], 1, ifNoneMatch: true, cancellationToken).ConfigureAwait(false);
                try
                {
                    await PutSmallAsync(probe, [2], 1, ifNoneMatch: true, cancellationToken).ConfigureAwait(false);
                    honoured = false;
                }
                catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.PreconditionFailed)
                {
                    honoured = true;
                }
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.NotImplemented or HttpStatusCode.BadRequest)
            {
                // The server refuses the header itself.
                honoured = false;
            }
            finally
            {
                try
                {
                    await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = probe }, CancellationToken.None).ConfigureAwait(false);
                }
                catch (AmazonServiceException)
                {
                }
            }

            S3StoreLog.ConditionalWrites(_logger, Location, honoured ? "honoured" : "ignored", honoured ? "If-None-Match" : "the key lock");
            Volatile.Write(ref _conditional, honoured ? 1 : 2);
            return honoured;
        }
        finally
        {
            _detectGate.Release();
        }
    }

    private async ValueTask<bool> PutCoreAsync(string key, string full, Stream content, long? length, CancellationToken cancellationToken)
    {
        using var activity = WarrenActivity.Source.StartActivity(WarrenActivity.StoreCommit);
        activity?.SetTag("warren.key", key);

        // Not uploading what is there already (a cheap request, against a possibly large upload).
        if (await HeadAsync(full, cancellationToken).ConfigureAwait(false) is not null)
        {
            return false;
        }

        if (await DetectConditionalWritesAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                return await UploadAsync(full, content, length, ifNoneMatch: true, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.Conflict)
            {
                // A concurrent conditional write of the key was in progress: whoever finished holds the key.
                if (await HeadAsync(full, cancellationToken).ConfigureAwait(false) is not null)
                {
                    return false;
                }

                throw;
            }
        }

        var held = await _keyLock.AcquireAsync(_options.Bucket + "/" + full, cancellationToken).ConfigureAwait(false);
        await using (held.ConfigureAwait(false))
        {
            Interlocked.Increment(ref _lockedPuts);
            if (await HeadAsync(full, cancellationToken).ConfigureAwait(false) is not null)
            {
                return false;
            }

            return await UploadAsync(full, content, length, ifNoneMatch: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Uploads content under full: one PUT when its length is known and under the threshold, or when it
    /// ends within one part; else a multipart upload. False when a conditional write found the key taken.</summary>
    private async ValueTask<bool> UploadAsync(string full, Stream content, long? length, bool ifNoneMatch, CancellationToken cancellationToken)
    {
        try
        {
            if (length is { } known && known < _options.MultipartThreshold)
            {
                await PutStreamAsync(full, content, known, ifNoneMatch, cancellationToken).ConfigureAwait(false);
                return true;
            }

            var buffer = ArrayPool<byte>.Shared.Rent((int)_options.PartSize);
            try
            {
                var first = await ReadPartAsync(content, buffer, cancellationToken).ConfigureAwait(false);
                if (length is null && first < _options.PartSize)
                {
                    await PutSmallAsync(full, buffer, first, ifNoneMatch, cancellationToken).ConfigureAwait(false);
                    return true;
                }

                return await MultipartAsync(full, content, buffer, first, length, ifNoneMatch, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (AmazonS3Exception ex) when (ifNoneMatch && ex.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            return false;
        }
    }

    private async ValueTask<bool> MultipartAsync(string full, Stream content, byte[] buffer, int first, long? length, bool ifNoneMatch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _multipartUploads);
        var init = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = full }, cancellationToken).ConfigureAwait(false);
        S3StoreLog.MultipartStarted(_logger, full, length, _options.PartSize);
        var parts = new List<PartETag>();
        long total = 0;
        try
        {
            var n = first;
            while (true)
            {
                using (var part = new MemoryStream(buffer, 0, n, writable: false))
                {
                    var response = await _client.UploadPartAsync(new UploadPartRequest
                    {
                        BucketName = _options.Bucket,
                        Key = full,
                        UploadId = init.UploadId,
                        PartNumber = parts.Count + 1,
                        InputStream = part,
                        PartSize = n,
                        UseChunkEncoding = false,
                    }, cancellationToken).ConfigureAwait(false);
                    parts.Add(new PartETag(parts.Count + 1, response.ETag));
                }

                total += n;
                if (n < _options.PartSize)
                {
                    break;
                }

                n = await ReadPartAsync(content, buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
            }

            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _options.Bucket,
                Key = full,
                UploadId = init.UploadId,
                PartETags = parts,
                IfNoneMatch = ifNoneMatch ? "*" : null,
            }, cancellationToken).ConfigureAwait(false);
            S3StoreLog.MultipartCompleted(_logger, full, parts.Count, total);
            return true;
        }
        catch (AmazonS3Exception ex) when (ifNoneMatch && ex.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            S3StoreLog.MultipartLost(_logger, full);
            await AbortAsync(full, init.UploadId).ConfigureAwait(false);
            return false;
        }
        catch (Exception ex)
        {
            S3StoreLog.MultipartAborted(_logger, full, ex is OperationCanceledException ? "canceled" : ex.GetType().Name + ": " + FirstLine(ex.Message));
            await AbortAsync(full, init.UploadId).ConfigureAwait(false);
            throw;
        }
    }

    private async Task AbortAsync(string full, string uploadId)
    {
        try
        {
            // Not the caller's token: an abort must happen even when the upload was canceled.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), _time);
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _options.Bucket, Key = full, UploadId = uploadId }, timeout.Token).ConfigureAwait(false);
        }
        catch (AmazonServiceException ex)
        {
            S3StoreLog.MultipartAbortFailed(_logger, full, $"{(int)ex.StatusCode} {ex.ErrorCode}");
        }
        catch (Exception ex) when (ex is AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
            S3StoreLog.MultipartAbortFailed(_logger, full, ex.GetType().Name + ": " + FirstLine(ex.Message));
        }
    }

    private async Task PutStreamAsync(string full, Stream content, long length, bool ifNoneMatch, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = full,
            InputStream = content,
            AutoCloseStream = false,
            UseChunkEncoding = false,
            IfNoneMatch = ifNoneMatch ? "*" : null,
        };
        request.Headers.ContentLength = length;
        await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private async Task PutSmallAsync(string full, byte[] content, int count, bool ifNoneMatch, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(content, 0, count, writable: false);
        await PutStreamAsync(full, stream, stream.Length, ifNoneMatch, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Fills buffer up to PartSize bytes (fewer only at the end of content).</summary>
    private async ValueTask<int> ReadPartAsync(Stream content, byte[] buffer, CancellationToken cancellationToken)
    {
        var size = (int)_options.PartSize;
        var n = 0;
        while (n < size)
        {
            var read = await content.ReadAsync(buffer.AsMemory(n, size - n), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            n += read;
        }

        return n;
    }

    private async ValueTask<GetObjectMetadataResponse?> HeadAsync(string full, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _options.Bucket, Key = full }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The SDK's time (local or UTC kind; unspecified is taken as UTC, as HTTP dates are) as an offset.</summary>
    private static DateTimeOffset AsUtc(DateTime? time) => time switch
    {
        null => DateTimeOffset.UnixEpoch,
        { Kind: DateTimeKind.Unspecified } t => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)),
        { } t => new DateTimeOffset(t.ToUniversalTime()),
    };

    private string FullKey(string key) => _options.Prefix + StoreLayout.RequireValidKey(key);

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }

    /// <summary>An object of the bucket, as a HEAD described it.</summary>
    private sealed class S3Object(S3ArtifactStore store, string key, string fullKey, long length, DateTimeOffset lastModified, string etag)
        : StoredObject(key, length, lastModified, etag)
    {
        public override async ValueTask<Stream> OpenReadAsync(long offset, long? length, CancellationToken cancellationToken)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(offset);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);
            var count = length ?? Length - offset;
            ArgumentOutOfRangeException.ThrowIfNegative(count, nameof(length));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Length - offset, nameof(length));
            if (count == 0)
            {
                return new MemoryStream([], writable: false);
            }

            var request = new GetObjectRequest { BucketName = store._options.Bucket, Key = fullKey };
            if (offset > 0 || count < Length)
            {
                request.ByteRange = new ByteRange(offset, offset + count - 1);
            }

            var response = await store._client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
            try
            {
                // Exactly the bytes asked for, even from a server that answers a range with more (or with the whole object).
                var start = response.HttpStatusCode == HttpStatusCode.PartialContent ? RangeStart(response.ContentRange) : 0;
                if (start > offset)
                {
                    throw new IOException($"the server answered the range from {offset} of {fullKey} from {start}");
                }

                var body = new LimitedReadStream(response.ResponseStream, count, response);
                for (var skip = offset - start; skip > 0;)
                {
                    var buffer = new byte[(int)Math.Min(skip, 81920)];
                    var n = await body.Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw new IOException($"the server's answer for {fullKey} ended early");
                    }

                    skip -= n;
                }

                return body;
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }

        public override ValueTask<Uri?> GetRedirectAsync(TimeSpan lifetime, CancellationToken cancellationToken)
        {
            if (lifetime <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, "a redirect's lifetime must be positive");
            }

            if (lifetime > store._options.RedirectLifetime)
            {
                lifetime = store._options.RedirectLifetime;
            }

            var cacheKey = fullKey + "\n" + lifetime.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (store._redirects.TryGet(cacheKey, out var cached))
            {
                return ValueTask.FromResult<Uri?>(cached);
            }

            var url = new Uri(store._client.GetPreSignedURL(new GetPreSignedUrlRequest
            {
                BucketName = store._options.Bucket,
                Key = fullKey,
                Verb = HttpVerb.GET,
                Protocol = store._protocol,
                Expires = store._time.GetUtcNow().UtcDateTime + lifetime,
            }));
            store._redirects.Set(cacheKey, url, lifetime / 2);
            return ValueTask.FromResult<Uri?>(url);
        }
    }

    /// <summary>"bytes START-END/TOTAL" → START (0 when it does not parse).</summary>
    private static long RangeStart(string? contentRange)
    {
        if (contentRange is null || !contentRange.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        var dash = contentRange.IndexOf('-', StringComparison.Ordinal);
        return dash > 6 && long.TryParse(contentRange.AsSpan(6, dash - 6), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var start) ? start : 0;
    }
}
