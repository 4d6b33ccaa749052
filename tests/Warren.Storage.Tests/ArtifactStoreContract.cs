using System.Security.Cryptography;
using System.Text;
using Warren.Storage;

namespace Warren.Storage.Tests;

/// <summary>What every <see cref="IArtifactStore"/> provider must do. A provider's test class derives from it and
/// supplies <see cref="CreateStoreAsync"/>: a fresh, empty store each call, unless <c>shareWith</c> is given: then a
/// second handle on the same store, as a second node would open it.</summary>
public abstract class ArtifactStoreContract
{
    protected const string ZipKey = "golang.org/x/text/@v/v0.3.0.zip";

    protected abstract Task<IArtifactStore> CreateStoreAsync(IArtifactStore? shareWith = null);

    /// <summary>Whether the backing storage never shows an object before it is complete, so that concurrent readers
    /// can be checked for it (false only for a test server known not to).</summary>
    protected virtual bool ReadersSeeOnlyCompleteObjects => true;

    protected static CancellationToken Ct => CancellationToken.None;

    /// <summary>A file with content in a scratch directory, as a caller would stage it.</summary>
    protected static string StageFile(byte[] content)
    {
        var path = Path.Combine(Warren.Testing.TestPaths.NewTempDir("staged"), "file.partial");
        File.WriteAllBytes(path, content);
        return path;
    }

    protected static async Task<byte[]> ReadAsync(IArtifactStore store, string key, long offset = 0, long? length = null)
    {
        var obj = await store.GetAsync(key, Ct);
        Assert.NotNull(obj);
        var stream = await obj.OpenReadAsync(offset, length, Ct);
        await using (stream)
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, Ct);
            return buffer.ToArray();
        }
    }

    [Fact]
    public async Task Put_from_a_file_is_if_absent_and_consumes_the_file()
    {
        var store = await CreateStoreAsync();
        var first = StageFile("first"u8.ToArray());
        Assert.True(await store.PutIfAbsentAsync(ZipKey, first, Ct));
        Assert.False(File.Exists(first));

        var second = StageFile("second"u8.ToArray());
        Assert.False(await store.PutIfAbsentAsync(ZipKey, second, Ct));
        Assert.False(File.Exists(second));
        Assert.Equal("first", Encoding.UTF8.GetString(await ReadAsync(store, ZipKey)));
    }

    [Fact]
    public async Task A_batch_put_is_if_absent_per_file_consumes_every_file_and_leaves_each_object_complete()
    {
        var store = await CreateStoreAsync();
        var other = await CreateStoreAsync(shareWith: store);
        const string ModKey = "golang.org/x/text/@v/v0.3.0.mod";
        const string InfoKey = "golang.org/x/text/@v/v0.3.0.info";
        const string NextZip = "golang.org/x/text/@v/v0.3.1.zip";
        Assert.True(await store.PutIfAbsentAsync(ModKey, StageFile("held"u8.ToArray()), Ct));

        var big = RandomNumberGenerator.GetBytes(300_000);
        var files = new List<(string Key, string StagedFile)>
        {
            (ModKey, StageFile("module golang.org/x/text\n"u8.ToArray())),
            (InfoKey, StageFile("""{"Version":"v0.3.0"}"""u8.ToArray())),
            (ZipKey, StageFile(big)),
            (NextZip, StageFile("next"u8.ToArray())),
        };
        var created = await store.PutManyIfAbsentAsync(files, Ct);
        Assert.Equal([false, true, true, true], created);
        Assert.All(files, f => Assert.False(File.Exists(f.StagedFile)));

        // What was there stays; the others are complete, for every handle.
        Assert.Equal("held", Encoding.UTF8.GetString(await ReadAsync(other, ModKey)));
        Assert.Equal("""{"Version":"v0.3.0"}""", Encoding.UTF8.GetString(await ReadAsync(other, InfoKey)));
        Assert.Equal(big, await ReadAsync(other, ZipKey));
        Assert.Equal("next", Encoding.UTF8.GetString(await ReadAsync(other, NextZip)));

        // Again: nothing created, every file consumed.
        var again = new List<(string Key, string StagedFile)> { (ZipKey, StageFile("x"u8.ToArray())), (NextZip, StageFile("y"u8.ToArray())) };
        Assert.Equal([false, false], await store.PutManyIfAbsentAsync(again, Ct));
        Assert.All(again, f => Assert.False(File.Exists(f.StagedFile)));
        Assert.Equal(big, await ReadAsync(store, ZipKey));
    }

    [Fact]
    public async Task A_batch_with_an_invalid_key_stores_nothing_and_consumes_every_file()
    {
        var store = await CreateStoreAsync();
        var files = new List<(string Key, string StagedFile)>
        {
            (ZipKey, StageFile("a"u8.ToArray())),
            ("../escape/@v/v1.0.0.zip", StageFile("b"u8.ToArray())),
        };
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.PutManyIfAbsentAsync(files, Ct));
        Assert.All(files, f => Assert.False(File.Exists(f.StagedFile)));
        Assert.Null(await store.GetAsync(ZipKey, Ct));
    }

    [Fact]
    public async Task Put_from_a_stream_is_if_absent()
    {
        var store = await CreateStoreAsync();
        const string key = "example.com/m/@v/v1.0.0.mod";
        Assert.True(await store.PutIfAbsentAsync(key, new MemoryStream("module example.com/m\n"u8.ToArray()), Ct));
        Assert.False(await store.PutIfAbsentAsync(key, new MemoryStream("module other\n"u8.ToArray()), Ct));
        Assert.Equal("module example.com/m\n", Encoding.UTF8.GetString(await ReadAsync(store, key)));

        // A stream that cannot seek (of unknown length), as from a network response.
        const string other = "example.com/m/@v/v1.1.0.mod";
        Assert.True(await store.PutIfAbsentAsync(other, new NonSeekableStream("unseekable"u8.ToArray()), Ct));
        Assert.Equal("unseekable", Encoding.UTF8.GetString(await ReadAsync(store, other)));
    }

    [Fact]
    public async Task A_missing_object_is_null_and_does_not_exist()
    {
        var store = await CreateStoreAsync();
        Assert.Null(await store.GetAsync(ZipKey, Ct));
        Assert.False(await store.ExistsAsync(ZipKey, Ct));
        Assert.False(await store.DeleteAsync(ZipKey, Ct));
    }

    [Fact]
    public async Task An_object_has_its_length_etag_and_time()
    {
        var store = await CreateStoreAsync();
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);
        var content = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream(content), Ct));
        Assert.True(await store.ExistsAsync(ZipKey, Ct));
        var obj = await store.GetAsync(ZipKey, Ct);
        Assert.NotNull(obj);
        Assert.Equal(ZipKey, obj.Key);
        Assert.Equal(1000, obj.Length);
        Assert.InRange(obj.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Matches("^\"[^\"]+\"$", obj.ETag);
        Assert.Equal(content, await obj.ReadAllBytesAsync(Ct));

        var again = await store.GetAsync(ZipKey, Ct);
        Assert.Equal(obj.ETag, again!.ETag);
        Assert.True(await store.PutIfAbsentAsync("example.com/m/@v/v1.0.0.zip", new MemoryStream([1, 2, 3]), Ct));
        Assert.NotEqual(obj.ETag, (await store.GetAsync("example.com/m/@v/v1.0.0.zip", Ct))!.ETag);
    }

    [Fact]
    public async Task Ranges_are_read()
    {
        var store = await CreateStoreAsync();
        var content = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        Assert.True(await store.PutIfAbsentAsync(ZipKey, StageFile(content), Ct));
        Assert.Equal(content[100..], await ReadAsync(store, ZipKey, 100));
        Assert.Equal(content[100..150], await ReadAsync(store, ZipKey, 100, 50));
        Assert.Equal(content[..1], await ReadAsync(store, ZipKey, 0, 1));
        Assert.Equal(content[9_990..], await ReadAsync(store, ZipKey, 9_990, 10));
        Assert.Empty(await ReadAsync(store, ZipKey, 10_000));
        Assert.Equal(content, await ReadAsync(store, ZipKey, 0, 10_000));
    }

    [Fact]
    public async Task Delete_removes_once()
    {
        var store = await CreateStoreAsync();
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream([1]), Ct));
        Assert.True(await store.DeleteAsync(ZipKey, Ct));
        Assert.False(await store.DeleteAsync(ZipKey, Ct));
        Assert.Null(await store.GetAsync(ZipKey, Ct));
        Assert.True(await store.PutIfAbsentAsync(ZipKey, new MemoryStream([2]), Ct));
        Assert.Equal([2], await ReadAsync(store, ZipKey));
    }

    [Fact]
    public async Task List_is_recursive_and_keeps_to_its_prefix()
    {
        var store = await CreateStoreAsync();
        string[] text = ["golang.org/x/text/@v/v0.3.0.info", "golang.org/x/text/@v/v0.3.0.zip", "golang.org/x/text/sub/@v/v1.0.0.mod"];
        string[] others = ["golang.org/x/textual/@v/v1.0.0.mod", "sumdb/sum.golang.org/tile/8/0/000"];
        foreach (var key in text.Concat(others))
        {
            Assert.True(await store.PutIfAbsentAsync(key, new MemoryStream("x"u8.ToArray()), Ct));
        }

        var listed = await ListAsync(store, "golang.org/x/text/");
        Assert.Equal(text.Order(StringComparer.Ordinal), listed.Where(k => !k.EndsWith("/list", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(["sumdb/sum.golang.org/tile/8/0/000"], await ListAsync(store, "sumdb/"));
        Assert.Empty(await ListAsync(store, "example.com/none/"));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("/abs")]
    [InlineData(".warren/index.db")]
    [InlineData("a/../../x")]
    [InlineData("a//b")]
    [InlineData("a\\b")]
    public async Task Invalid_keys_are_refused(string key)
    {
        var store = await CreateStoreAsync();
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.GetAsync(key, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.ExistsAsync(key, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.PutIfAbsentAsync(key, new MemoryStream([1]), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.PutIfAbsentAsync(key, StageFile([1]), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.DeleteAsync(key, Ct));
    }

    [Fact]
    public async Task Concurrent_puts_of_one_key_from_two_handles_have_one_winner()
    {
        var a = await CreateStoreAsync();
        var b = await CreateStoreAsync(shareWith: a);
        for (var round = 0; round < 3; round++)
        {
            var key = $"example.com/race/@v/v1.0.{round}.zip";
            // Different content per writer, so a reader would notice a mix; large enough to take a while to write.
            var contents = Enumerable.Range(0, 8).Select(i => Enumerable.Repeat((byte)(i + 1), 256 * 1024).ToArray()).ToArray();
            using var stop = new CancellationTokenSource();
            var reader = Task.Run(async () =>
            {
                var reads = 0;
                while (!stop.IsCancellationRequested)
                {
                    var obj = await b.GetAsync(key, Ct);
                    if (obj is not null && ReadersSeeOnlyCompleteObjects)
                    {
                        var bytes = await obj.ReadAllBytesAsync(Ct);
                        Assert.Equal(256 * 1024, bytes.Length);
                        Assert.All(bytes, x => Assert.Equal(bytes[0], x));
                        reads++;
                    }
                }

                return reads;
            });
            var staged = contents.Select((c, i) => i % 2 == 0 ? StageFile(c) : null).ToArray();
            var puts = contents.Select((c, i) => Task.Run(async () => staged[i] is { } file
                ? await (i % 4 == 0 ? a : b).PutIfAbsentAsync(key, file, Ct)
                : await (i % 4 == 1 ? a : b).PutIfAbsentAsync(key, new MemoryStream(c), Ct))).ToArray();
            var results = await Task.WhenAll(puts);
            await stop.CancelAsync();
            await reader;
            Assert.Single(results, r => r);
            Assert.All(staged.OfType<string>(), file => Assert.False(File.Exists(file), $"{file} was not consumed"));
            var winner = Array.IndexOf(results, true);
            Assert.Equal(contents[winner], await ReadAsync(a, key));
            Assert.Equal(contents[winner], await ReadAsync(b, key));
        }
    }

    [Fact]
    public async Task A_large_object_round_trips()
    {
        var store = await CreateStoreAsync();
        const long size = 40L * 1024 * 1024 + 12345;
        var staged = Path.Combine(Warren.Testing.TestPaths.NewTempDir("large"), "big.zip");
        byte[] expected;
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        await using (var file = File.Create(staged))
        {
            var block = new byte[1024 * 1024];
            var rng = new Random(42);
            for (long written = 0; written < size; written += block.Length)
            {
                rng.NextBytes(block);
                var n = (int)Math.Min(block.Length, size - written);
                sha.AppendData(block, 0, n);
                await file.WriteAsync(block.AsMemory(0, n), Ct);
            }

            expected = sha.GetHashAndReset();
        }

        Assert.True(await store.PutIfAbsentAsync(ZipKey, staged, Ct));
        var obj = await store.GetAsync(ZipKey, Ct);
        Assert.NotNull(obj);
        Assert.Equal(size, obj.Length);
        var stream = await obj.OpenReadAsync(Ct);
        await using (stream)
        {
            Assert.Equal(expected, await SHA256.HashDataAsync(stream, Ct));
        }

        // The same through a stream of unknown length.
        await using (var source = new NonSeekableStream(File.ReadAllBytes(obj.LocalPath ?? await DownloadAsync(obj))))
        {
            Assert.True(await store.PutIfAbsentAsync("example.com/large/@v/v1.0.0.zip", source, Ct));
        }

        var copy = await store.GetAsync("example.com/large/@v/v1.0.0.zip", Ct);
        var copyStream = await copy!.OpenReadAsync(Ct);
        await using (copyStream)
        {
            Assert.Equal(expected, await SHA256.HashDataAsync(copyStream, Ct));
        }
    }

    [Fact]
    public async Task A_writable_store_probes_null()
    {
        var store = await CreateStoreAsync();
        Assert.Null(await store.ProbeAsync(Ct));
        Assert.False(string.IsNullOrEmpty(store.Location));
    }

    protected static async Task<List<string>> ListAsync(IArtifactStore store, string prefix)
    {
        var keys = new List<string>();
        await foreach (var key in store.ListAsync(prefix, Ct))
        {
            keys.Add(key);
        }

        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    private static async Task<string> DownloadAsync(StoredObject obj)
    {
        var path = Path.Combine(Warren.Testing.TestPaths.NewTempDir("download"), "copy");
        var stream = await obj.OpenReadAsync(Ct);
        await using (stream)
        await using (var file = File.Create(path))
        {
            await stream.CopyToAsync(file, Ct);
        }

        return path;
    }

    /// <summary>A stream of bytes that cannot seek and does not know its length.</summary>
    protected sealed class NonSeekableStream(byte[] content) : Stream
    {
        private readonly MemoryStream _inner = new(content, writable: false);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 100_000));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
