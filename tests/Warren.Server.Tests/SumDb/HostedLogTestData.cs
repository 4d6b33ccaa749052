using Warren.Core.SumDb;
using Warren.Server.SumDb;

namespace Warren.Server.Tests.SumDb;

/// <summary>Records, hashes and reference trees shared by the hosted log tests.</summary>
internal static class HostedLogTestData
{
    public const string ServerName = "sum.hosted.example";

    public static string Module(int i) => $"example.com/m{i}";

    public static string ZipHash(string path, string version) => TestSumDb.FakeHash(path + "@" + version);

    public static string ModHash(string path, string version) => TestSumDb.FakeHash(path + "@" + version + "/go.mod");

    public static byte[] RecordText(string path, string version) =>
        GoSumRecord.FormatBytes(path, version, ZipHash(path, version), ModHash(path, version));

    public static Task<HostedAppendResult> AppendAsync(HostedLog log, string path, string version = "v1.0.0") =>
        log.AppendAsync(path, version, ZipHash(path, version), ModHash(path, version), CancellationToken.None);

    /// <summary>Appends modules [from, to) one at a time (so ids follow i), adding each to the reference log.</summary>
    public static async Task AppendInOrderAsync(HostedLog log, Reference reference, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            var result = await AppendAsync(log, Module(i));
            Assert.Equal(HostedAppendStatus.Added, result.Status);
            Assert.Equal(reference.Count, result.RecordId);
            reference.Add(RecordText(Module(i), "v1.0.0"));
        }
    }

    /// <summary>The same log in memory, built as TestSumDb builds it.</summary>
    public sealed class Reference
    {
        public MemoryHashStore Store { get; } = new();

        public List<byte[]> Records { get; } = [];

        public int Count => Records.Count;

        public void Add(byte[] text)
        {
            Store.AppendRecord(text);
            Records.Add(text);
        }

        public async Task<byte[]> TileAsync(Tile tile) => tile.IsData
            ? SumDbProtocol.FormatDataTile(tile, Records.GetRange((int)(tile.Number << tile.Height), tile.Width))
            : await Tile.ReadDataAsync(tile, Store);
    }

    /// <summary>Tiles served by the log itself, as a client would fetch them.</summary>
    public sealed class HostedTiles(HostedLog log) : ITileReader
    {
        public int Height => log.TileHeight;

        public async ValueTask<IReadOnlyList<byte[]>> ReadTilesAsync(IReadOnlyList<Tile> tiles, CancellationToken cancellationToken = default)
        {
            var data = new List<byte[]>();
            foreach (var tile in tiles)
            {
                data.Add(await log.ReadTileAsync(tile, cancellationToken) ?? throw new TlogException($"{tile.Path} not found"));
            }

            return data;
        }
    }
}
