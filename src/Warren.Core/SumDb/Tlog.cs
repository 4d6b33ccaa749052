using System.Numerics;
using System.Security.Cryptography;

namespace Warren.Core.SumDb;

/// <summary>The tamper-evident log of the checksum database (golang.org/x/mod/sumdb/tlog): RFC 6962 Merkle tree
/// hashing, the dense stored-hash ordering, tree hashes, and inclusion (record) and consistency (tree) proofs.</summary>
/// <remarks>Hashes are stored in the order of Crosby and Wallach's "Efficient Data Structures for Tamper-Evident
/// Logging" §3.3: writing record n stores its leaf hash followed by the hash of every subtree that leaf completes.
/// Proofs are compatible with Certificate Transparency's.</remarks>
public static class Tlog
{
    /// <summary>The hash of a record: SHA-256(0x00 || data).</summary>
    public static LogHash RecordHash(ReadOnlySpan<byte> data)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData([0x00]);
        sha.AppendData(data);
        Span<byte> sum = stackalloc byte[LogHash.Size];
        sha.GetHashAndReset(sum);
        return new LogHash(sum);
    }

    /// <summary>The hash of an interior node: SHA-256(0x01 || left || right).</summary>
    public static LogHash NodeHash(LogHash left, LogHash right)
    {
        Span<byte> buffer = stackalloc byte[1 + 2 * LogHash.Size];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + LogHash.Size)..]);
        Span<byte> sum = stackalloc byte[LogHash.Size];
        SHA256.HashData(buffer, sum);
        return new LogHash(sum);
    }

    /// <summary>The position in the dense stored-hash order of the hash at tree coordinates (level, n): the n'th
    /// hash of that level.</summary>
    public static long StoredHashIndex(int level, long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfNegative(n);

        // Level L's n'th hash is written right after level L+1's (2n+1)'th, so descend to level 0 first.
        for (int l = level; l > 0; l--)
        {
            n = 2 * n + 1;
        }

        // Level 0's n'th hash is written at n + n/2 + n/4 + ...
        long i = 0;
        for (; n > 0; n >>= 1)
        {
            i += n;
        }

        return i + level;
    }

    /// <summary>The tree coordinates of a stored hash index: the inverse of <see cref="StoredHashIndex"/>.</summary>
    public static (int Level, long N) SplitStoredHashIndex(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);

        // StoredHashIndex(0, n) < 2n, so the record that stored this hash is in [index/2, index/2 + log2(index)].
        long n = index / 2;
        long indexN = StoredHashIndex(0, n);
        while (true)
        {
            // Record n+1 stores 1 + trailingZeros(n+1) hashes after record n's.
            long x = indexN + 1 + BitOperations.TrailingZeroCount((ulong)(n + 1));
            if (x > index)
            {
                break;
            }

            n++;
            indexN = x;
        }

        // The hash was stored with record n, so it is one of (0, n), (1, n/2), (2, n/4), ...
        int level = (int)(index - indexN);
        return (level, n >> level);
    }

    /// <summary>The number of hashes stored for a tree of n records.</summary>
    public static long StoredHashCount(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n == 0)
        {
            return 0;
        }

        // The hashes up to the last leaf, and those of the subtrees that leaf completes.
        long count = StoredHashIndex(0, n - 1) + 1;
        for (ulong i = (ulong)(n - 1); (i & 1) != 0; i >>= 1)
        {
            count++;
        }

        return count;
    }

    /// <summary>The hashes to store, starting at <c>StoredHashIndex(0, n)</c>, when appending record n with the given
    /// data: its leaf hash and the hashes of the subtrees it completes (at most 1 + log2 n, under two on average).
    /// Reads up to log2 n earlier hashes from reader.</summary>
    public static ValueTask<LogHash[]> StoredHashesAsync(long n, ReadOnlyMemory<byte> data, IHashReader reader, CancellationToken cancellationToken = default) =>
        StoredHashesForRecordHashAsync(n, RecordHash(data.Span), reader, cancellationToken);

    /// <summary>As <see cref="StoredHashesAsync"/>, given the record's hash instead of its data.</summary>
    public static async ValueTask<LogHash[]> StoredHashesForRecordHashAsync(long n, LogHash recordHash, IHashReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentNullException.ThrowIfNull(reader);

        // Each trailing 1 bit of n completes a subtree, consuming the hash of its left sibling.
        int m = BitOperations.TrailingZeroCount((ulong)(n + 1));
        var indexes = new long[m];
        for (int i = 0; i < m; i++)
        {
            // In increasing order; n >> i is odd.
            indexes[m - 1 - i] = StoredHashIndex(i, (n >> i) - 1);
        }

        var old = m == 0 ? [] : await ReadExactlyAsync(reader, indexes, cancellationToken).ConfigureAwait(false);
        var hashes = new LogHash[m + 1];
        var h = hashes[0] = recordHash;
        for (int i = 0; i < m; i++)
        {
            h = hashes[i + 1] = NodeHash(old[m - 1 - i], h);
        }

        return hashes;
    }

    /// <summary>The hash of the tree of n records, computed from at most 1 + log2 n stored hashes read in one call.
    /// The tree of size zero has the all-zero hash.</summary>
    public static async ValueTask<LogHash> TreeHashAsync(long n, IHashReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentNullException.ThrowIfNull(reader);
        if (n == 0)
        {
            return default;
        }

        var indexes = new List<long>();
        SubTreeIndex(0, n, indexes);
        var hashes = await ReadExactlyAsync(reader, indexes, cancellationToken).ConfigureAwait(false);
        int next = 0;
        var hash = SubTreeHash(0, n, hashes, ref next);
        Check(next == hashes.Count, "bad index math in TreeHash");
        return hash;
    }

    /// <summary>The proof that the tree of size t contains record n (RFC 6962's Merkle audit path).</summary>
    public static ValueTask<LogHash[]> ProveRecordAsync(long t, long n, IHashReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (t < 0 || n < 0 || n >= t)
        {
            throw new ArgumentException("tlog: invalid inputs in ProveRecord");
        }

        return ProveAsync(reader, need => LeafProofIndex(0, t, n, need),
            (IReadOnlyList<LogHash> hashes, ref int next, List<LogHash> proof) => LeafProof(0, t, n, hashes, ref next, proof), "ProveRecord", cancellationToken);
    }

    /// <summary>Checks that proof shows that the tree of size t with hash treeHash has record n with hash
    /// recordHash.</summary>
    /// <exception cref="ArgumentException">Not 0 ≤ n &lt; t.</exception>
    /// <exception cref="TlogVerificationException">The proof is invalid ("invalid transparency proof").</exception>
    public static void CheckRecord(IReadOnlyList<LogHash> proof, long t, LogHash treeHash, long n, LogHash recordHash) =>
        ThrowUnlessValid(IsValidRecordProof(proof, t, treeHash, n, recordHash));

    /// <summary>Whether proof shows that the tree of size t with hash treeHash has record n with hash
    /// recordHash.</summary>
    /// <exception cref="ArgumentException">Not 0 ≤ n &lt; t.</exception>
    public static bool IsValidRecordProof(IReadOnlyList<LogHash> proof, long t, LogHash treeHash, long n, LogHash recordHash)
    {
        RequireInputs(proof, t >= 0 && n >= 0 && n < t, "CheckRecord");
        return RunRecordProof(proof, proof.Count, 0, t, n, recordHash) is { } computed && computed == treeHash;
    }

    /// <summary>The proof that the tree of size t contains as a prefix the tree of size n (RFC 6962's Merkle
    /// consistency proof).</summary>
    public static ValueTask<LogHash[]> ProveTreeAsync(long t, long n, IHashReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (t < 1 || n < 1 || n > t)
        {
            throw new ArgumentException("tlog: invalid inputs in ProveTree");
        }

        return ProveAsync(reader, need => TreeProofIndex(0, t, n, need),
            (IReadOnlyList<LogHash> hashes, ref int next, List<LogHash> proof) => TreeProof(0, t, n, hashes, ref next, proof), "ProveTree", cancellationToken);
    }

    /// <summary>Checks that proof shows that the tree of size t with hash treeHash contains as a prefix the tree of
    /// size n with hash oldHash.</summary>
    /// <exception cref="ArgumentException">Not 1 ≤ n ≤ t.</exception>
    /// <exception cref="TlogVerificationException">The proof is invalid ("invalid transparency proof").</exception>
    public static void CheckTree(IReadOnlyList<LogHash> proof, long t, LogHash treeHash, long n, LogHash oldHash) =>
        ThrowUnlessValid(IsValidTreeProof(proof, t, treeHash, n, oldHash));

    /// <summary>Whether proof shows that the tree of size t with hash treeHash contains as a prefix the tree of size n
    /// with hash oldHash.</summary>
    /// <exception cref="ArgumentException">Not 1 ≤ n ≤ t.</exception>
    public static bool IsValidTreeProof(IReadOnlyList<LogHash> proof, long t, LogHash treeHash, long n, LogHash oldHash)
    {
        RequireInputs(proof, t >= 1 && n >= 1 && n <= t, "CheckTree");
        return RunTreeProof(proof, proof.Count, 0, t, n, oldHash) is (var oldComputed, var newComputed) &&
            oldComputed == oldHash && newComputed == treeHash;
    }

    private delegate void ProofBuilder(IReadOnlyList<LogHash> hashes, ref int next, List<LogHash> proof);

    /// <summary>Reads the stored hashes a proof needs (listed by <paramref name="index"/>) and assembles the proof.</summary>
    private static async ValueTask<LogHash[]> ProveAsync(IHashReader reader, Action<List<long>> index, ProofBuilder build, string what,
        CancellationToken cancellationToken)
    {
        var indexes = new List<long>();
        index(indexes);
        if (indexes.Count == 0)
        {
            return [];
        }

        var hashes = await ReadExactlyAsync(reader, indexes, cancellationToken).ConfigureAwait(false);
        var proof = new List<LogHash>();
        int next = 0;
        build(hashes, ref next, proof);
        Check(next == hashes.Count, "bad index math in " + what);
        return [.. proof];
    }

    private static void RequireInputs(IReadOnlyList<LogHash> proof, bool valid, string what)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (!valid)
        {
            throw new ArgumentException("tlog: invalid inputs in " + what);
        }
    }

    private static void ThrowUnlessValid(bool valid)
    {
        if (!valid)
        {
            throw new TlogVerificationException();
        }
    }

    /// <summary>Reads exactly one hash per index, or fails.</summary>
    internal static async ValueTask<IReadOnlyList<LogHash>> ReadExactlyAsync(IHashReader reader, IReadOnlyList<long> indexes, CancellationToken cancellationToken)
    {
        var hashes = await reader.ReadHashesAsync(indexes, cancellationToken).ConfigureAwait(false);
        if (hashes is null || hashes.Count != indexes.Count)
        {
            throw new TlogException($"tlog: ReadHashes({indexes.Count} indexes) = {hashes?.Count ?? 0} hashes");
        }

        return hashes;
    }

    /// <summary>The largest power of two k smaller than n, and log2 k (n ≥ 2; for n = 1, k = 1).</summary>
    internal static (long K, int Level) MaxPow2(long n)
    {
        int l = 0;
        while (1L << (l + 1) < n)
        {
            l++;
        }

        return (1L << l, l);
    }

    /// <summary>Appends the stored hash indexes needed for the hash of the subtree of records [lo, hi): the complete
    /// subtrees it splits into, largest (leftmost) first.</summary>
    internal static void SubTreeIndex(long lo, long hi, List<long> need)
    {
        while (lo < hi)
        {
            var (k, level) = MaxPow2(hi - lo + 1);
            Check((lo & (k - 1)) == 0, "bad math in subTreeIndex");
            need.Add(StoredHashIndex(level, lo >> level));
            lo += k;
        }
    }

    /// <summary>The hash of the subtree of records [lo, hi) from hashes (those of <see cref="SubTreeIndex"/>),
    /// starting at next; advances next past the ones used.</summary>
    internal static LogHash SubTreeHash(long lo, long hi, IReadOnlyList<LogHash> hashes, ref int next)
    {
        int numTree = 0;
        while (lo < hi)
        {
            var (k, _) = MaxPow2(hi - lo + 1);
            Check((lo & (k - 1)) == 0, "bad math in subTreeHash");
            numTree++;
            lo += k;
        }

        Check(numTree > 0 && hashes.Count - next >= numTree, "bad index math in subTreeHash");
        var h = hashes[next + numTree - 1];
        for (int i = numTree - 2; i >= 0; i--)
        {
            h = NodeHash(hashes[next + i], h);
        }

        next += numTree;
        return h;
    }

    private static void LeafProofIndex(long lo, long hi, long n, List<long> need)
    {
        Check(lo <= n && n < hi, "bad math in leafProofIndex");
        if (lo + 1 == hi)
        {
            return;
        }

        var (k, _) = MaxPow2(hi - lo);
        if (n < lo + k)
        {
            LeafProofIndex(lo, lo + k, n, need);
            SubTreeIndex(lo + k, hi, need);
        }
        else
        {
            SubTreeIndex(lo, lo + k, need);
            LeafProofIndex(lo + k, hi, n, need);
        }
    }

    // Walks from the root toward leaf n, recording the hash of each path not taken; the proof lists them leaf first.
    private static void LeafProof(long lo, long hi, long n, IReadOnlyList<LogHash> hashes, ref int next, List<LogHash> proof)
    {
        Check(lo <= n && n < hi, "bad math in leafProof");
        if (lo + 1 == hi)
        {
            // The verifier knows the leaf hash.
            return;
        }

        var (k, _) = MaxPow2(hi - lo);
        LogHash sibling;
        if (n < lo + k)
        {
            LeafProof(lo, lo + k, n, hashes, ref next, proof);
            sibling = SubTreeHash(lo + k, hi, hashes, ref next);
        }
        else
        {
            sibling = SubTreeHash(lo, lo + k, hashes, ref next);
            LeafProof(lo + k, hi, n, hashes, ref next, proof);
        }

        proof.Add(sibling);
    }

    // The hash of the subtree [lo, hi) implied by proof[..count] and the leaf hash, or null if the proof has the
    // wrong length.
    private static LogHash? RunRecordProof(IReadOnlyList<LogHash> proof, int count, long lo, long hi, long n, LogHash leafHash)
    {
        if (lo + 1 == hi)
        {
            return count == 0 ? leafHash : null;
        }

        if (count == 0)
        {
            return null;
        }

        var (k, _) = MaxPow2(hi - lo);
        var last = proof[count - 1];
        if (n < lo + k)
        {
            return RunRecordProof(proof, count - 1, lo, lo + k, n, leafHash) is { } left ? NodeHash(left, last) : null;
        }

        return RunRecordProof(proof, count - 1, lo + k, hi, n, leafHash) is { } right ? NodeHash(last, right) : null;
    }

    private static void TreeProofIndex(long lo, long hi, long n, List<long> need)
    {
        Check(lo < n && n <= hi, "bad math in treeProofIndex");
        if (n == hi)
        {
            if (lo != 0)
            {
                SubTreeIndex(lo, hi, need);
            }

            return;
        }

        var (k, _) = MaxPow2(hi - lo);
        if (n <= lo + k)
        {
            TreeProofIndex(lo, lo + k, n, need);
            SubTreeIndex(lo + k, hi, need);
        }
        else
        {
            SubTreeIndex(lo, lo + k, need);
            TreeProofIndex(lo + k, hi, n, need);
        }
    }

    private static void TreeProof(long lo, long hi, long n, IReadOnlyList<LogHash> hashes, ref int next, List<LogHash> proof)
    {
        Check(lo < n && n <= hi, "bad math in treeProof");
        if (n == hi)
        {
            // Common ground: the old tree itself needs no hash (the verifier has it); any other subtree does.
            if (lo != 0)
            {
                proof.Add(SubTreeHash(lo, hi, hashes, ref next));
            }

            return;
        }

        var (k, _) = MaxPow2(hi - lo);
        LogHash sibling;
        if (n <= lo + k)
        {
            TreeProof(lo, lo + k, n, hashes, ref next, proof);
            sibling = SubTreeHash(lo + k, hi, hashes, ref next);
        }
        else
        {
            sibling = SubTreeHash(lo, lo + k, hashes, ref next);
            TreeProof(lo + k, hi, n, hashes, ref next, proof);
        }

        proof.Add(sibling);
    }

    // The hashes of the subtree [lo, hi) in the old tree of n records and in the new tree implied by proof[..count],
    // or null if the proof has the wrong length.
    private static (LogHash Old, LogHash New)? RunTreeProof(IReadOnlyList<LogHash> proof, int count, long lo, long hi, long n, LogHash old)
    {
        if (n == hi)
        {
            if (lo == 0)
            {
                return count == 0 ? (old, old) : null;
            }

            return count == 1 ? (proof[0], proof[0]) : null;
        }

        if (count == 0)
        {
            return null;
        }

        var (k, _) = MaxPow2(hi - lo);
        var last = proof[count - 1];
        if (n <= lo + k)
        {
            return RunTreeProof(proof, count - 1, lo, lo + k, n, old) is (var oh, var th) ? (oh, NodeHash(th, last)) : null;
        }

        return RunTreeProof(proof, count - 1, lo + k, hi, n, old) is (var oh2, var th2)
            ? (NodeHash(last, oh2), NodeHash(last, th2))
            : null;
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("tlog: " + what);
        }
    }
}
