using System.Text;
using Warren.Core.SumDb;
using Warren.Storage;
using Warren.Testing.Storage;

namespace Warren.Server.Tests.SumDb;

/// <summary>The in-memory reference storage honours the contract the other providers are held to.</summary>
public sealed class MemoryHostedLogStorageTests
{
    private static (HostedLogEntry[] Entries, LogHash[] Hashes) Records(long first, int count)
    {
        var store = new MemoryHashStore();
        var entries = new List<HostedLogEntry>();
        for (long i = 0; i < first + count; i++)
        {
            var text = Encoding.UTF8.GetBytes($"rec {i}\n");
            store.AppendRecord(text);
            if (i >= first)
            {
                entries.Add(new HostedLogEntry("m.example/r" + i, "v1.0." + i, text));
            }
        }

        var hashes = Enumerable.Range((int)Tlog.StoredHashCount(first), (int)(Tlog.StoredHashCount(first + count) - Tlog.StoredHashCount(first))).Select(x => store[x]).ToArray();
        return ([.. entries], hashes);
    }

    [Fact]
    public async Task Appends_are_all_or_nothing_at_the_expected_size_and_exactly_one_racer_wins()
    {
        await using var storage = new MemoryHostedLogStorage();
        Assert.Null(await storage.ReadStateAsync(CancellationToken.None));
        var (entries, hashes) = Records(0, 3);
        Assert.False(await storage.TryAppendAsync(1, entries, hashes, "head 3\n"u8.ToArray(), CancellationToken.None));
        Assert.Null(await storage.ReadStateAsync(CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => storage.TryAppendAsync(0, entries, hashes[1..], "head 3\n"u8.ToArray(), CancellationToken.None));
        Assert.Null(await storage.FindAsync("m.example/r0", "v1.0.0", CancellationToken.None));

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => storage.TryAppendAsync(0, entries, hashes, "head 3\n"u8.ToArray(), CancellationToken.None))));
        Assert.Single(results, r => r);
        var state = await storage.ReadStateAsync(CancellationToken.None);
        Assert.Equal(3, state!.Size);
        Assert.Equal("head 3\n"u8.ToArray(), state.SignedHead);
        Assert.Equal(2L, await storage.FindAsync("m.example/r2", "v1.0.2", CancellationToken.None));
        Assert.Equal(["rec 1\n", "rec 2\n"], (await storage.ReadRecordsAsync(1, 2, CancellationToken.None)).Select(t => Encoding.UTF8.GetString(t)));
        Assert.Equal(hashes, await storage.ReadHashesAsync([.. Enumerable.Range(0, hashes.Length).Select(i => (long)i)], CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => storage.ReadRecordsAsync(2, 2, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => storage.ReadHashesAsync([hashes.Length], CancellationToken.None));
    }
}
