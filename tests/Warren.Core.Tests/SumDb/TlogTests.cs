using System.Text;
using Warren.Core.SumDb;

namespace Warren.Core.Tests.SumDb;

// Ports of golang.org/x/mod/sumdb/tlog's tlog_test.go and note_test.go, plus negative cases.
public class TlogTests
{
    [Fact]
    public void RecordHash_AndNodeHash_AreRfc6962()
    {
        // RFC 6962: the empty leaf hashes to SHA-256(0x00).
        Assert.Equal("bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", Tlog.RecordHash([]).ToString());
        Assert.Equal("TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=", Tlog.RecordHash("hello world"u8).ToString());
        var a = Tlog.RecordHash("a"u8);
        var b = Tlog.RecordHash("b"u8);
        var buffer = new byte[65];
        buffer[0] = 1;
        a.CopyTo(buffer.AsSpan(1));
        b.CopyTo(buffer.AsSpan(33));
        Assert.Equal(new LogHash(System.Security.Cryptography.SHA256.HashData(buffer)), Tlog.NodeHash(a, b));
        Assert.NotEqual(Tlog.NodeHash(a, b), Tlog.NodeHash(b, a));
    }

    // TestTree: 100 records; tree hashes, tiles of height 2, record and tree proofs from storage and from tiles.
    [Fact]
    public async Task Tree_AllSizesUpTo100()
    {
        const int h = 2;
        var trees = new List<LogHash>();
        var leafHashes = new List<LogHash>();
        var storage = new MemoryHashStore();
        var reader = new OrderCheckingReader(storage);
        var tiles = new Dictionary<Tile, byte[]>();
        for (long i = 0; i < 100; i++)
        {
            var data = Encoding.UTF8.GetBytes($"leaf {i}");
            var hashes = await Tlog.StoredHashesAsync(i, data, reader);
            leafHashes.Add(Tlog.RecordHash(data));
            long oldStorage = storage.Count;
            storage.Append(hashes);
            Assert.Equal(Tlog.StoredHashCount(i + 1), storage.Count);
            Assert.Equal(i + 1, storage.RecordCount);
            var th = await Tlog.TreeHashAsync(i + 1, reader);

            foreach (var tile in Tile.NewTiles(h, i, i + 1))
            {
                var tileData = await Tile.ReadDataAsync(tile, reader);
                var old = tile with { Width = tile.Width - 1 };
                var oldData = tiles.GetValueOrDefault(old) ?? [];
                Assert.True(oldData.Length == tileData.Length - LogHash.Size && tileData.AsSpan().StartsWith(oldData),
                    $"tile {tile} not extending earlier tile {old}");
                tiles[tile] = tileData;
            }

            foreach (var tile in Tile.NewTiles(h, 0, i + 1).Concat(Tile.NewTiles(h, i / 2, i + 1)))
            {
                Assert.Equal(tiles[tile], await Tile.ReadDataAsync(tile, reader));
            }

            // Every new hash can be read from its tile.
            for (long j = oldStorage; j < storage.Count; j++)
            {
                var tile = Tile.ForIndex(h, j);
                Assert.True(tiles.TryGetValue(tile, out var tileData), $"TileForIndex({h}, {j}) = {tile}, not yet stored");
                Assert.Equal(storage[j], tile.HashFromData(tileData, j));
            }

            trees.Add(th);

            // Record proofs for every record of every tree so far; any corrupted proof hash fails.
            for (long j = 0; j <= i; j++)
            {
                var p = await Tlog.ProveRecordAsync(i + 1, j, reader);
                Tlog.CheckRecord(p, i + 1, th, j, leafHashes[(int)j]);
                for (int k = 0; k < p.Length; k++)
                {
                    var saved = p[k];
                    p[k] = Flip(saved);
                    Assert.Throws<TlogVerificationException>(() => Tlog.CheckRecord(p, i + 1, th, j, leafHashes[(int)j]));
                    p[k] = saved;
                }
            }

            // Reading a leaf hash through the tile reader proves it; proofs can be made from it too.
            var tileReader = new DictionaryTileReader(h, tiles);
            var thr = new TileHashReader(new TreeHead(i + 1, th), tileReader);
            for (long j = 0; j <= i; j++)
            {
                var leaf = await thr.ReadHashesAsync([Tlog.StoredHashIndex(0, j)]);
                Assert.Equal(leafHashes[(int)j], leaf[0]);
                var p = await Tlog.ProveRecordAsync(i + 1, j, thr);
                Tlog.CheckRecord(p, i + 1, th, j, leafHashes[(int)j]);
            }

            Assert.Equal(0, tileReader.Unsaved);
            await Assert.ThrowsAsync<TlogException>(async () => await thr.ReadHashesAsync([(i + 1) * 2]));
            Assert.Equal(0, tileReader.Unsaved);

            // Tree proofs for every earlier tree, through the tile reader.
            for (long j = 0; j <= i; j++)
            {
                Assert.Equal(trees[(int)j], await Tlog.TreeHashAsync(j + 1, thr));
                var p = await Tlog.ProveTreeAsync(i + 1, j + 1, thr);
                Tlog.CheckTree(p, i + 1, th, j + 1, trees[(int)j]);
                for (int k = 0; k < p.Length; k++)
                {
                    var saved = p[k];
                    p[k] = Flip(saved);
                    Assert.Throws<TlogVerificationException>(() => Tlog.CheckTree(p, i + 1, th, j + 1, trees[(int)j]));
                    p[k] = saved;
                }
            }

            Assert.Equal(0, tileReader.Unsaved);
        }
    }

    // Every (t, n) pair up to 64: proofs from storage check; wrong hashes, wrong sizes, extra or missing proof hashes
    // all fail.
    [Fact]
    public async Task Proofs_AllPairsUpTo64_AndNegativeCases()
    {
        const int max = 64;
        var storage = new MemoryHashStore();
        var trees = new List<LogHash> { default };
        var leaves = new List<LogHash>();
        for (int i = 0; i < max; i++)
        {
            leaves.Add(Tlog.RecordHash(Encoding.UTF8.GetBytes($"record {i}")));
            storage.Append(await Tlog.StoredHashesForRecordHashAsync(i, leaves[i], storage));
            trees.Add(await Tlog.TreeHashAsync(i + 1, storage));
        }

        var wrong = Tlog.RecordHash("wrong"u8);
        for (long t = 1; t <= max; t++)
        {
            var th = trees[(int)t];
            for (long n = 0; n < t; n++)
            {
                var p = await Tlog.ProveRecordAsync(t, n, storage);
                Assert.True(Tlog.IsValidRecordProof(p, t, th, n, leaves[(int)n]));
                Assert.False(Tlog.IsValidRecordProof(p, t, th, n, wrong));
                Assert.False(Tlog.IsValidRecordProof(p, t, wrong, n, leaves[(int)n]));
                Assert.False(Tlog.IsValidRecordProof([.. p, th], t, th, n, leaves[(int)n]));
                if (p.Length > 0)
                {
                    Assert.False(Tlog.IsValidRecordProof(p[..^1], t, th, n, leaves[(int)n]));
                }

                if (t > 1)
                {
                    // The proof does not hold for another record, at either position.
                    long other = (n + 1) % t;
                    Assert.False(Tlog.IsValidRecordProof(p, t, th, n, leaves[(int)other]));
                    Assert.False(Tlog.IsValidRecordProof(p, t, th, other, leaves[(int)n]));
                    Assert.False(Tlog.IsValidRecordProof(p, t, th, other, leaves[(int)other]));
                }
            }

            for (long n = 1; n <= t; n++)
            {
                var p = await Tlog.ProveTreeAsync(t, n, storage);
                var old = trees[(int)n];
                Assert.True(Tlog.IsValidTreeProof(p, t, th, n, old));
                Assert.False(Tlog.IsValidTreeProof(p, t, th, n, wrong));
                Assert.False(Tlog.IsValidTreeProof(p, t, wrong, n, old));
                Assert.False(Tlog.IsValidTreeProof([.. p, th], t, th, n, old));
                if (p.Length > 0)
                {
                    Assert.False(Tlog.IsValidTreeProof(p[..^1], t, th, n, old));
                }

                if (n < t)
                {
                    // Claiming the proof is for a tree one larger fails.
                    Assert.False(Tlog.IsValidTreeProof(p, t, th, n + 1, trees[(int)n + 1]));
                }
            }
        }
    }

    [Fact]
    public async Task InvalidProofInputs_Throw()
    {
        var storage = new MemoryHashStore();
        storage.AppendRecord("x"u8);
        await Assert.ThrowsAsync<ArgumentException>(async () => await Tlog.ProveRecordAsync(1, 1, storage));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Tlog.ProveRecordAsync(1, -1, storage));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Tlog.ProveTreeAsync(1, 0, storage));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Tlog.ProveTreeAsync(1, 2, storage));
        Assert.Throws<ArgumentException>(() => Tlog.CheckRecord([], 0, default, 0, default));
        Assert.Throws<ArgumentException>(() => Tlog.CheckTree([], 0, default, 0, default));
        Assert.Empty(await Tlog.ProveRecordAsync(1, 0, storage));
        Assert.Empty(await Tlog.ProveTreeAsync(1, 1, storage));
    }

    [Fact]
    public async Task ShortHashReader_IsReported()
    {
        var e = await Assert.ThrowsAsync<TlogException>(async () => await Tlog.TreeHashAsync(5, new ShortReader()));
        Assert.Equal("tlog: ReadHashes(2 indexes) = 1 hashes", e.Message);
    }

    [Fact]
    public async Task TreeHash_OfEmptyTree_IsZero()
    {
        Assert.Equal(LogHash.Zero, await Tlog.TreeHashAsync(0, new ShortReader()));
        Assert.True(LogHash.Zero.IsZero);
    }

    [Fact]
    public void SplitStoredHashIndex_InvertsStoredHashIndex()
    {
        for (int l = 0; l < 10; l++)
        {
            for (long n = 0; n < 100; n++)
            {
                long x = Tlog.StoredHashIndex(l, n);
                Assert.Equal((l, n), Tlog.SplitStoredHashIndex(x));
            }
        }

        // Every index is some (level, n).
        for (long x = 0; x < 2000; x++)
        {
            var (level, n) = Tlog.SplitStoredHashIndex(x);
            Assert.Equal(x, Tlog.StoredHashIndex(level, n));
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 4)]
    [InlineData(4, 7)]
    [InlineData(5, 8)]
    [InlineData(8, 15)]
    [InlineData(1L << 20, (1L << 21) - 1)]
    public void StoredHashCount_Values(long n, long count) => Assert.Equal(count, Tlog.StoredHashCount(n));

    [Fact]
    public void FormatTree_MatchesGo()
    {
        var tree = new TreeHead(123456789012, Tlog.RecordHash("hello world"u8));
        Assert.Equal("go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n", tree.Format());
    }

    [Fact]
    public void ParseTree_MatchesGo()
    {
        const string text = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n";
        var want = new TreeHead(123456789012, Tlog.RecordHash("hello world"u8));
        Assert.Equal(want, TreeHead.Parse(text));

        // Junk after the three lines is ignored.
        Assert.Equal(want, TreeHead.Parse(text + "JOE"));
        Assert.Equal(want, TreeHead.Parse(text + "JOE\n"));
        Assert.Equal(want, TreeHead.Parse(text + string.Concat(Enumerable.Repeat("JOE\n", 1000))));
    }

    [Theory]
    [InlineData("not-go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n")]
    [InlineData("go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n")]
    [InlineData("go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n")]
    [InlineData("go.sum database tree\n0123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n")]
    [InlineData("go.sum database tree\n-1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n")]
    [InlineData("go.sum database tree\n+1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n")]
    [InlineData("go.sum database tree\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=")]
    [InlineData("go.sum database tree\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40Hmuw Bb0=\n")]
    public void ParseTree_RejectsMalformed(string text)
    {
        Assert.Equal("malformed tree note", Assert.Throws<FormatException>(() => TreeHead.Parse(text)).Message);
    }

    [Fact]
    public void FormatRecord_MatchesGo()
    {
        Assert.Equal("123456789012\nhello, world\n\n"u8.ToArray(), LogRecord.Format(123456789012, "hello, world\n"u8));
        foreach (var bad in new[] { "", "hello\nworld", "hello\n\nworld\n", "hello\x01world\n" })
        {
            Assert.Throws<FormatException>(() => LogRecord.Format(1, Encoding.UTF8.GetBytes(bad)));
        }
    }

    [Fact]
    public void ParseRecord_MatchesGo()
    {
        var input = "123456789012\nhello, world\n\njunk on end\x01"u8.ToArray().Append((byte)0xff).ToArray();
        var (id, text, rest) = LogRecord.Parse(input);
        Assert.Equal(123456789012, id);
        Assert.Equal("hello, world\n"u8.ToArray(), text.ToArray());
        Assert.Equal("junk on end\x01"u8.ToArray().Append((byte)0xff).ToArray(), rest.ToArray());

        (id, text, rest) = LogRecord.Parse("123456789012\nhello, world\n\n"u8.ToArray());
        Assert.Equal(123456789012, id);
        Assert.Equal("hello, world\n"u8.ToArray(), text.ToArray());
        Assert.True(rest.IsEmpty);
    }

    [Fact]
    public void ParseRecord_RejectsMalformed()
    {
        var bad = new List<byte[]>
        {
            "not-123456789012\nhello, world\n\n"u8.ToArray(),
            "123\nhello\x01world\n\n"u8.ToArray(),
            "123\nhello"u8.ToArray().Append((byte)0xff).Concat("world\n\n"u8.ToArray()).ToArray(),
            "123\nhello world\n"u8.ToArray(),
            "0x123\nhello world\n\n"u8.ToArray(),
            "-1\nhello world\n\n"u8.ToArray(),
            "\nhello world\n\n"u8.ToArray(),
            "123"u8.ToArray(),
        };
        foreach (var b in bad)
        {
            Assert.Equal("malformed record data", Assert.Throws<FormatException>(() => LogRecord.Parse(b)).Message);
        }
    }

    [Fact]
    public void LogHash_ParseFormatAndEquality()
    {
        var h = Tlog.RecordHash("hello world"u8);
        Assert.Equal(h, LogHash.Parse(h.ToString()));
        Assert.Equal(h, new LogHash(h.ToArray()));
        Assert.True(h == LogHash.Parse("TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0="));
        Assert.True(h != LogHash.Zero);
        Assert.Equal(h.GetHashCode(), LogHash.Parse(h.ToString()).GetHashCode());
        Assert.False(LogHash.TryParse("TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0", out _));
        Assert.False(LogHash.TryParse("AAAA", out _));
        Assert.False(LogHash.TryParse(null, out _));
        Assert.Throws<FormatException>(() => LogHash.Parse("not base64!"));
        Assert.Throws<ArgumentException>(() => new LogHash(new byte[31]));
        Assert.Equal("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", LogHash.Zero.ToString());
    }

    internal static LogHash Flip(LogHash h)
    {
        var bytes = h.ToArray();
        bytes[0] ^= 1;
        return new LogHash(bytes);
    }

    private sealed class ShortReader : IHashReader
    {
        public ValueTask<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> indexes, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<IReadOnlyList<LogHash>>([default]);
    }
}
