namespace Warren.Storage;

/// <summary>Where immutable content lives: module files under the keys of the GOPROXY layout
/// (<see cref="StoreLayout"/>) and checksum database tiles under sumdb/NAME/. An object becomes visible only complete,
/// and is never rewritten: every write is put-if-absent. Keys are validated by the caller with
/// <see cref="StoreLayout.IsValidKey"/>; a provider refuses an invalid key with <see cref="ArgumentException"/>.</summary>
public interface IArtifactStore
{
    /// <summary>Where the store is, for logs and start-up lines (never with credentials).</summary>
    string Location { get; }

    /// <summary>The object under key, or null when there is none.</summary>
    ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken);

    ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken);

    /// <summary>Makes a complete local file the object under key unless one exists. The file is consumed either way
    /// (moved into the store, uploaded and deleted, or deleted). True when this call created the object.</summary>
    ValueTask<bool> PutIfAbsentAsync(string key, string stagedFile, CancellationToken cancellationToken);

    /// <summary>Makes the content of a stream the object under key unless one exists, without buffering it whole in
    /// memory. True when this call created the object.</summary>
    ValueTask<bool> PutIfAbsentAsync(string key, Stream content, CancellationToken cancellationToken);

    /// <summary>Publishes several complete local files, each put-if-absent exactly as
    /// <see cref="PutIfAbsentAsync(string, string, CancellationToken)"/> does, in list order (at any instant the objects
    /// visible are those of a prefix of the list, and each is complete). A provider may make them durable together (one
    /// flush for all instead of one per file). Every file is consumed. For each file, whether this call created its
    /// object.</summary>
    async ValueTask<IReadOnlyList<bool>> PutManyIfAbsentAsync(IReadOnlyList<(string Key, string StagedFile)> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var created = new bool[files.Count];
        try
        {
            // Every key is checked before anything is stored.
            if (files.FirstOrDefault(f => !StoreLayout.IsValidKey(f.Key)) is { Key: { } bad })
            {
                throw new ArgumentException($"invalid store key {bad}", nameof(files));
            }

            for (var i = 0; i < files.Count; i++)
            {
                created[i] = await PutIfAbsentAsync(files[i].Key, files[i].StagedFile, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            foreach (var (_, staged) in files)
            {
                File.Delete(staged);
            }

            throw;
        }

        return created;
    }

    /// <summary>Removes an object (repair: content that later failed verification). False when there was none.</summary>
    ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>The keys under a prefix ending in '/' (every level below it), in no particular order.</summary>
    IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Readiness: can the store be written to now? Null when it can, else a one-line reason.</summary>
    ValueTask<string?> ProbeAsync(CancellationToken cancellationToken);
}

/// <summary>A complete object of an <see cref="IArtifactStore"/>.</summary>
public abstract class StoredObject(string key, long length, DateTimeOffset lastModified, string etag)
{
    public string Key => key;

    public long Length => length;

    public DateTimeOffset LastModified => lastModified;

    /// <summary>A strong entity tag, quoted.</summary>
    public string ETag => etag;

    /// <summary>A local file holding exactly this content, when the store has one: the server may send it with
    /// sendfile. No check may depend on it; every reader must work through <see cref="OpenReadAsync"/>.</summary>
    public virtual string? LocalPath => null;

    /// <summary>Opens the content from offset, length bytes of it (to the end when null).</summary>
    public abstract ValueTask<Stream> OpenReadAsync(long offset, long? length, CancellationToken cancellationToken);

    /// <summary>Opens the whole content.</summary>
    public ValueTask<Stream> OpenReadAsync(CancellationToken cancellationToken) => OpenReadAsync(0, null, cancellationToken);

    /// <summary>A short-lived URL a client may fetch the content from directly (a presigned URL), when the store
    /// offers one; null otherwise.</summary>
    public virtual ValueTask<Uri?> GetRedirectAsync(TimeSpan lifetime, CancellationToken cancellationToken) => ValueTask.FromResult<Uri?>(null);

    /// <summary>Copies the whole content to a new local file at path (which must not exist), streaming it.</summary>
    public async ValueTask CopyToFileAsync(string path, CancellationToken cancellationToken)
    {
        var source = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (target.ConfigureAwait(false))
            {
                await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Reads the whole content into memory, or null when a local file went after it was found (evicted under a
    /// store quota): the object is no longer held.</summary>
    public async ValueTask<byte[]?> ReadAllBytesIfStillHeldAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await ReadAllBytesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (LocalPath is not null && ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Reads the whole content into memory (small objects only: tiles, .info, .mod).</summary>
    public async ValueTask<byte[]> ReadAllBytesAsync(CancellationToken cancellationToken)
    {
        var stream = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream(Length is > 0 and < int.MaxValue ? (int)Length : 0);
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
    }
}
