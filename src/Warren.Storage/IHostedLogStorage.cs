using Warren.Core.SumDb;

namespace Warren.Storage;

/// <summary>The durable state of a hosted checksum database: record count and signed tree head.</summary>
public sealed record HostedLogState(long Size, byte[] SignedHead);

/// <summary>One record of a hosted log: the module version it is about and its go.sum lines.</summary>
public sealed record HostedLogEntry(string ModulePath, string Version, byte[] Text);

/// <summary>The records, stored tree hashes and signed head of one hosted checksum database (the transparency log
/// of <c>golang.org/x/mod/sumdb/tlog</c>: record i is leaf i; the stored hashes are numbered as tlog's StoredHashIndex).
/// Appends are all-or-nothing and ordered by compare-and-swap on the size, so several nodes may append to one log
/// and every node serves the same signed tree.</summary>
public interface IHostedLogStorage : IAsyncDisposable
{
    /// <summary>The state as last committed; null for a log with no signed head yet.</summary>
    Task<HostedLogState?> ReadStateAsync(CancellationToken cancellationToken);

    /// <summary>The texts of records first … first+count-1, all of which must exist.</summary>
    Task<IReadOnlyList<byte[]>> ReadRecordsAsync(long first, int count, CancellationToken cancellationToken);

    /// <summary>The stored hashes at the given storage indexes, all of which must exist.</summary>
    Task<IReadOnlyList<LogHash>> ReadHashesAsync(IReadOnlyList<long> storageIndexes, CancellationToken cancellationToken);

    /// <summary>The record id of a module version, or null when the log has none.</summary>
    Task<long?> FindAsync(string modulePath, string version, CancellationToken cancellationToken);

    /// <summary>Appends entries as records expectedSize, expectedSize+1, …, the stored hashes that the new leaves add
    /// (storage indexes from StoredHashCount(expectedSize) on, in order) and the new signed head, in one atomic step.
    /// False, with nothing written, when the log no longer holds exactly expectedSize records.</summary>
    Task<bool> TryAppendAsync(long expectedSize, IReadOnlyList<HostedLogEntry> entries, IReadOnlyList<LogHash> hashes, byte[] signedHead, CancellationToken cancellationToken);
}
