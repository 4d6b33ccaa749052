using Warren.Storage;

namespace Warren.Server.Tests.Infrastructure;

/// <summary>A local file presented as a stored object, for tests of what serves objects.</summary>
internal sealed class TestStoredFile(string path, long length, DateTimeOffset lastModified, string etag) : StoredObject("test", length, lastModified, etag)
{
    public override string? LocalPath => path;

    public override ValueTask<Stream> OpenReadAsync(long offset, long? length, CancellationToken cancellationToken)
    {
        var stream = File.OpenRead(path);
        stream.Position = offset;
        return ValueTask.FromResult<Stream>(stream);
    }
}
