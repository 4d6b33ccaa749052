using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Warren.Core.Limits;

namespace Warren.Server.Storage;

/// <summary>Node-local copies of zips that live in a store without local files (object storage), so that a warm zip is
/// sent from a local file with sendfile instead of being pulled through the node from the bucket on every request.
/// Under ROOT/.warren/objects, bounded by bytes (least recently used copies are deleted), kept across restarts.
///
/// A copy is only ever used for the object it was made from: it carries the object's key, length and entity tag, and a
/// lookup must present the same. Each copy is written under a temporary name, checked for its length and renamed into
/// place; its description (a small JSON file) is renamed into place after it, and at start-up only copies with a
/// matching description are kept. So a crash at any instant leaves at worst an unused file, never a copy that passes
/// for a whole object.</summary>
public sealed class LocalObjectCache : IDisposable
{
    private const string DataSuffix = ".data";
    private const string MetaSuffix = ".json";
    private const string TempDirectory = "tmp";

    private readonly string _directory;
    private readonly BoundedCache<Copy>? _copies;
    private readonly ConcurrentDictionary<string, Task> _filling = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _fillSlots = new(2);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger<LocalObjectCache> _logger;

    public LocalObjectCache(IOptions<WarrenOptions> options, StoreLock storeLock, ILogger<LocalObjectCache> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storeLock);
        _logger = logger;
        _directory = Path.Combine(storeLock.Root, ".warren", "objects");
        // Only a store without local files needs local copies, and not when its zips are answered with redirects.
        BudgetBytes = string.IsNullOrWhiteSpace(options.Value.Store) || options.Value.S3Redirect ? 0 : options.Value.LocalCacheBytes;
        if (BudgetBytes > 0)
        {
            _copies = new BoundedCache<Copy>(1_000_000, BudgetBytes, static c => c.Length, Delete);
        }
    }

    /// <summary>The disk budget; 0 when the cache is off.</summary>
    public long BudgetBytes { get; }

    public bool Enabled => _copies is not null;

    /// <summary>Copies held.</summary>
    public int Count => _copies?.Count ?? 0;

    /// <summary>Bytes held.</summary>
    public long Bytes => _copies?.Bytes ?? 0;

    /// <summary>Loads the copies a previous process left (those with a matching description; everything else in the
    /// directory is deleted). Call once, before serving.</summary>
    public int Load()
    {
        if (_copies is null)
        {
            return 0;
        }

        PrivateFiles.CreateDirectory(_directory);
        var temp = Path.Combine(_directory, TempDirectory);
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }

        PrivateFiles.CreateDirectory(temp);
        var loaded = 0;
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var meta in Directory.EnumerateFiles(_directory, "*" + MetaSuffix))
        {
            var data = Path.ChangeExtension(meta, DataSuffix);
            if (ReadDescription(meta) is { } d && new FileInfo(data) is { Exists: true } info && info.Length == d.Length)
            {
                _copies.Set(d.Key, new Copy(d.Key, data, d.Length, d.ETag, d.LastModified));
                kept.Add(data);
                kept.Add(meta);
                loaded++;
            }
        }

        Log.LocalCacheLoaded(_logger, loaded, _directory, BudgetBytes);

        foreach (var file in Directory.EnumerateFiles(_directory))
        {
            if (!kept.Contains(file))
            {
                TryDelete(file);
            }
        }

        return loaded;
    }

    /// <summary>The local copy of a stored object, when one was made from this very object (same key, length and
    /// entity tag); null otherwise.</summary>
    public StoredObject? TryGet(StoredObject remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (_copies is not null && _copies.TryGet(remote.Key, out var copy) && copy.Length == remote.Length &&
            string.Equals(copy.ETag, remote.ETag, StringComparison.Ordinal))
        {
            return new LocalCopy(copy);
        }

        return null;
    }

    /// <summary>Starts making a local copy of a stored object in the background unless one exists or is being made.
    /// At most two copies are made at once; the rest wait.</summary>
    public void Fill(StoredObject remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (_copies is null || remote.LocalPath is not null || remote.Length > BudgetBytes / 4 || TryGet(remote) is not null ||
            _stopping.IsCancellationRequested)
        {
            return;
        }

        var started = new TaskCompletionSource();
        if (!_filling.TryAdd(remote.Key, started.Task))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await FillAsync(remote, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!_stopping.IsCancellationRequested)
            {
                // A copy is an optimisation: the object is still served from the store.
                Log.LocalCopyFailed(_logger, remote.Key, ex.Message);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                _filling.TryRemove(remote.Key, out _);
                started.TrySetResult();
            }
        });
    }

    /// <summary>Waits for the copies being made now (tests, shutdown).</summary>
    public Task WhenIdleAsync() => Task.WhenAll(_filling.Values);

    /// <summary>Reserves a file that is about to become a stored object (the staged file a node verified and commits
    /// now) as that object's local copy: a hard link in the cache's temporary directory, so nothing is copied. Null when
    /// the cache is off or the file cannot be linked; else hand the result to <see cref="Adopt"/>.</summary>
    public string? Reserve(string file)
    {
        if (_copies is null || new FileInfo(file) is not { Exists: true } info || info.Length > BudgetBytes / 4)
        {
            return null;
        }

        var temp = NewTempFile();
        return Warren.Storage.FileSystem.StoreFiles.TryHardLink(file, temp) ? temp : null;
    }

    /// <summary>Makes a reserved file the local copy of the object it was committed as, when it holds exactly that
    /// object (same length; the object may have been written by another node first); deletes it otherwise.</summary>
    public void Adopt(string reserved, StoredObject? stored)
    {
        try
        {
            if (stored is not null && stored.LocalPath is null && TryGet(stored) is null && new FileInfo(reserved).Length == stored.Length)
            {
                Publish(reserved, stored);
            }
        }
        catch (IOException ex)
        {
            Log.LocalCopyFailed(_logger, stored?.Key ?? reserved, ex.Message);
        }
        finally
        {
            TryDelete(reserved);
        }
    }

    private async Task FillAsync(StoredObject remote, CancellationToken cancellationToken)
    {
        await _fillSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var temp = NewTempFile();
        try
        {
            await remote.CopyToFileAsync(temp, cancellationToken).ConfigureAwait(false);
            var length = new FileInfo(temp).Length;
            if (length != remote.Length)
            {
                throw new InvalidDataException($"read {length} bytes, the store says {remote.Length}");
            }

            Publish(temp, remote);
        }
        finally
        {
            _fillSlots.Release();
            TryDelete(temp);
        }
    }

    /// <summary>Renames a complete temporary copy into place, then its description, and makes it the key's copy.</summary>
    private void Publish(string temp, StoredObject stored)
    {
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(stored.Key)))[..32] + "-" + Guid.NewGuid().ToString("N")[..8];
        var data = Path.Combine(_directory, name + DataSuffix);
        var meta = Path.Combine(_directory, name + MetaSuffix);
        File.Move(temp, data);
        var metaTemp = NewTempFile();
        File.WriteAllBytes(metaTemp, JsonSerializer.SerializeToUtf8Bytes(
            new Description(stored.Key, stored.Length, stored.ETag, stored.LastModified), LocalObjectCacheJson.Default.Description));
        File.Move(metaTemp, meta);
        _copies!.Set(stored.Key, new Copy(stored.Key, data, stored.Length, stored.ETag, stored.LastModified));
    }

    private string NewTempFile() => Path.Combine(_directory, TempDirectory, Guid.NewGuid().ToString("N"));

    private static Description? ReadDescription(string meta)
    {
        try
        {
            var d = JsonSerializer.Deserialize(File.ReadAllBytes(meta), LocalObjectCacheJson.Default.Description);
            return d is { Key.Length: > 0, ETag.Length: > 0, Length: >= 0 } ? d : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Deletes an evicted copy, its data first: a crash in between leaves a description without its data, which
    /// the next start-up ignores and deletes.</summary>
    private static void Delete(Copy copy)
    {
        TryDelete(copy.Path);
        TryDelete(Path.ChangeExtension(copy.Path, MetaSuffix));
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
        _fillSlots.Dispose();
    }

    private sealed record Copy(string Key, string Path, long Length, string ETag, DateTimeOffset LastModified);

    internal sealed record Description(string Key, long Length, string ETag, DateTimeOffset LastModified);

    /// <summary>A local copy served in place of the stored object: the same key, length and validators, so clients
    /// see the same answer from every node.</summary>
    private sealed class LocalCopy(Copy copy) : StoredObject(copy.Key, copy.Length, copy.LastModified, copy.ETag)
    {
        public override string? LocalPath => copy.Path;

        public override ValueTask<Stream> OpenReadAsync(long offset, long? length, CancellationToken cancellationToken)
        {
            var stream = new FileStream(copy.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.Asynchronous);
            stream.Seek(offset, SeekOrigin.Begin);
            return ValueTask.FromResult<Stream>(length is { } l ? new LimitedReadStream(stream, l) : stream);
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(LocalObjectCache.Description))]
internal sealed partial class LocalObjectCacheJson : System.Text.Json.Serialization.JsonSerializerContext;
