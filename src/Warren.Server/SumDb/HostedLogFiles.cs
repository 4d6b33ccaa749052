using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Warren.Core.SumDb;
using Warren.Storage.FileSystem;

namespace Warren.Server.SumDb;

/// <summary>The files of a <see cref="FileHostedLogStorage"/> directory: the exclusive lock, the three append-only data files
/// read and written by offset, and the signed head replaced atomically. No policy lives here: which sizes are
/// committed is the caller's business.</summary>
internal sealed class HostedLogFiles(string directory, bool fsync, FileStream lockFile, SafeFileHandle records, SafeFileHandle index, SafeFileHandle hashes)
    : IDisposable
{
    public const string RecordsName = "records.dat";
    public const string IndexName = "records.idx";
    public const string HashesName = "hashes.dat";
    public const string HeadName = "head";
    public const string LockName = "lock";
    public const string HeadTempName = "head.tmp";

    /// <summary>The size of one records.idx entry.</summary>
    public const int OffsetSize = sizeof(long);

    /// <summary>A record longer than this is taken as corruption (go.sum records are a few hundred bytes).</summary>
    public const int MaxRecordBytes = 1 << 20;

    // Hash reads merge nearby indexes into one read of at most this many hashes, skipping gaps of up to MaxGap.
    private const int MaxRunHashes = 2048;
    private const int MaxGap = 32;

    private readonly FileStream _lock = lockFile;
    private readonly SafeFileHandle _records = records;
    private readonly SafeFileHandle _index = index;
    private readonly SafeFileHandle _hashes = hashes;
    private readonly bool _fsync = fsync;

    /// <summary>The log directory (full path).</summary>
    public string Directory { get; } = directory;

    public long RecordsLength => RandomAccess.GetLength(_records);

    public long IndexLength => RandomAccess.GetLength(_index);

    public long HashesLength => RandomAccess.GetLength(_hashes);

    /// <summary>Creates the directory if needed, takes the lock (failing with a clear IOException when another
    /// process holds it), removes a stale head temp file and opens the data files.</summary>
    public static HostedLogFiles Open(string directory, bool fsync)
    {
        directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(directory);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(directory, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"checksum database log {directory} is in use by another process", e);
        }

        var handles = new List<SafeFileHandle>();
        try
        {
            // Only a writer that crashed between writing and renaming leaves this; it was never the head.
            File.Delete(Path.Combine(directory, HeadTempName));
            foreach (var name in new[] { RecordsName, IndexName, HashesName })
            {
                handles.Add(File.OpenHandle(Path.Combine(directory, name), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite));
            }

            if (fsync)
            {
                // The data files may have just been created.
                SyncDirectory(directory);
            }

            return new HostedLogFiles(directory, fsync, lockFile, handles[0], handles[1], handles[2]);
        }
        catch
        {
            foreach (var handle in handles)
            {
                handle.Dispose();
            }

            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>The signed head, or null when there is none (or it is empty).</summary>
    public byte[]? ReadHead()
    {
        var path = Path.Combine(Directory, HeadName);
        if (!File.Exists(path))
        {
            return null;
        }

        var head = File.ReadAllBytes(path);
        return head.Length == 0 ? null : head;
    }

    /// <summary>Replaces the head: writes a temp file, fsyncs it, renames it over the head and fsyncs the directory
    /// (the fsyncs only when the log fsyncs). A crash leaves either the old head or the new one.</summary>
    public void WriteHead(byte[] signedHead)
    {
        var temp = Path.Combine(Directory, HeadTempName);
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1))
        {
            stream.Write(signedHead);
            stream.Flush(flushToDisk: _fsync);
        }

        File.Move(temp, Path.Combine(Directory, HeadName), overwrite: true);
        if (_fsync)
        {
            SyncDirectory(Directory);
        }
    }

    /// <summary>Cuts the data files to the given lengths (dropping what an interrupted commit left behind).</summary>
    public void Truncate(long recordsLength, long indexLength, long hashesLength)
    {
        foreach (var (handle, length) in new[] { (_records, recordsLength), (_index, indexLength), (_hashes, hashesLength) })
        {
            if (RandomAccess.GetLength(handle) != length)
            {
                RandomAccess.SetLength(handle, length);
                if (_fsync)
                {
                    RandomAccess.FlushToDisk(handle);
                }
            }
        }
    }

    /// <summary>Writes a commit's records, index entries and hashes at the given offsets, then (when the log fsyncs)
    /// flushes all three to disk.</summary>
    public void Append(long recordsOffset, ReadOnlySpan<byte> records, long indexOffset, ReadOnlySpan<byte> index, long hashesOffset, ReadOnlySpan<byte> hashes)
    {
        RandomAccess.Write(_records, records, recordsOffset);
        RandomAccess.Write(_index, index, indexOffset);
        RandomAccess.Write(_hashes, hashes, hashesOffset);
        if (_fsync)
        {
            RandomAccess.FlushToDisk(_records);
            RandomAccess.FlushToDisk(_index);
            RandomAccess.FlushToDisk(_hashes);
        }
    }

    /// <summary>The end offset in records.dat of record id (its records.idx entry).</summary>
    public long ReadEndOffset(long id)
    {
        Span<byte> entry = stackalloc byte[OffsetSize];
        ReadExactly(_index, entry, id * OffsetSize, IndexName);
        return BinaryPrimitives.ReadInt64LittleEndian(entry);
    }

    /// <summary>The texts of records [first, first + count), which must be committed.</summary>
    public byte[][] ReadRecords(long first, int count)
    {
        if (count == 0)
        {
            return [];
        }

        // The end offsets of records first-1 .. first+count-1 (record -1 ends at 0).
        long from = first == 0 ? 0 : first - 1;
        int entries = count + (first == 0 ? 0 : 1);
        var raw = new byte[entries * OffsetSize];
        ReadExactly(_index, raw, from * OffsetSize, IndexName);
        var ends = new long[count + 1];
        for (int i = 0; i < entries; i++)
        {
            ends[i + (first == 0 ? 1 : 0)] = BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(i * OffsetSize));
        }

        long start = ends[0];
        long length = ends[^1] - start;
        if (length < 0 || length > (long)count * MaxRecordBytes)
        {
            throw Corrupt(IndexName, $"bad offsets for records {first}..{first + count - 1}");
        }

        var data = new byte[length];
        ReadExactly(_records, data, start, RecordsName);
        var texts = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            long a = ends[i] - start;
            long b = ends[i + 1] - start;
            if (b < a)
            {
                throw Corrupt(IndexName, $"bad offsets for record {first + i}");
            }

            texts[i] = data[(int)a..(int)b];
        }

        return texts;
    }

    /// <summary>The stored hashes at the given indexes, each of which must be below limit (the committed or
    /// currently written hash count). Runs of nearby indexes are read with one read each.</summary>
    /// <exception cref="TlogException">An index is not below limit.</exception>
    public LogHash[] ReadHashes(IReadOnlyList<long> indexes, long limit)
    {
        var hashes = new LogHash[indexes.Count];
        var buffer = ArrayPool<byte>.Shared.Rent(MaxRunHashes * LogHash.Size);
        try
        {
            int i = 0;
            while (i < indexes.Count)
            {
                long first = CheckIndex(indexes[i], limit);
                long last = first;
                int j = i + 1;
                while (j < indexes.Count)
                {
                    long x = CheckIndex(indexes[j], limit);
                    if (x < last || x - last > MaxGap || x - first >= MaxRunHashes)
                    {
                        break;
                    }

                    last = x;
                    j++;
                }

                var run = buffer.AsSpan(0, (int)(last - first + 1) * LogHash.Size);
                ReadExactly(_hashes, run, first * LogHash.Size, HashesName);
                for (int k = i; k < j; k++)
                {
                    hashes[k] = new LogHash(run.Slice((int)(indexes[k] - first) * LogHash.Size, LogHash.Size));
                }

                i = j;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return hashes;
    }

    /// <summary>Reads records [0, count) in order, front to back, with buffered sequential reads of records.idx and
    /// records.dat, calling visit with each id and text (the span is only valid during the call).</summary>
    /// <exception cref="InvalidDataException">The index is not increasing, or a record is empty or too long.</exception>
    public void ScanRecords(long count, Action<long, ReadOnlySpan<byte>> visit)
    {
        const int bufferSize = 1 << 20;
        using var index = new FileStream(Path.Combine(Directory, IndexName), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize, FileOptions.SequentialScan);
        using var records = new FileStream(Path.Combine(Directory, RecordsName), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize, FileOptions.SequentialScan);
        Span<byte> entry = stackalloc byte[OffsetSize];
        var text = new byte[4096];
        long previous = 0;
        for (long id = 0; id < count; id++)
        {
            index.ReadExactly(entry);
            long end = BinaryPrimitives.ReadInt64LittleEndian(entry);
            long length = end - previous;
            if (length <= 0 || length > MaxRecordBytes)
            {
                throw Corrupt(IndexName, $"record {id} ends at offset {end}, after {previous}");
            }

            if (text.Length < length)
            {
                text = new byte[Math.Max(length, 2L * text.Length)];
            }

            try
            {
                records.ReadExactly(text, 0, (int)length);
            }
            catch (EndOfStreamException e)
            {
                throw Corrupt(RecordsName, $"record {id} is cut short", e);
            }

            visit(id, text.AsSpan(0, (int)length));
            previous = end;
        }
    }

    public void Dispose()
    {
        _records.Dispose();
        _index.Dispose();
        _hashes.Dispose();
        _lock.Dispose();
    }

    /// <summary>An InvalidDataException naming the damaged file.</summary>
    public InvalidDataException Corrupt(string file, string what, Exception? inner = null) =>
        new($"checksum database log {Directory}: {file} is corrupt: {what}", inner);

    private static long CheckIndex(long index, long limit) =>
        index >= 0 && index < limit ? index : throw new TlogException($"stored hash index {index} is not in the log (have {limit})");

    private void ReadExactly(SafeFileHandle handle, Span<byte> destination, long offset, string file)
    {
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(handle, destination, offset);
            if (n == 0)
            {
                throw Corrupt(file, $"ends before offset {offset + destination.Length}");
            }

            destination = destination[n..];
            offset += n;
        }
    }

    /// <summary>fsyncs a directory, making the creation, removal and renaming of its entries durable. Windows has no
    /// such call (and needs none for its journaled metadata).</summary>
    private static void SyncDirectory(string directory) => StoreFiles.SyncDirectory(directory);
}
