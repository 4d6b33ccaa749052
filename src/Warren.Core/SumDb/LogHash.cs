using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Warren.Core.SumDb;

/// <summary>A SHA-256 hash naming a record or a subtree of a transparency log (tlog.Hash). The default value is the
/// all-zero hash, which is also the hash of the empty tree.</summary>
/// <remarks>Printed and parsed as standard base64 with padding (44 characters), as in tree heads and proofs.</remarks>
public readonly struct LogHash : IEquatable<LogHash>
{
    /// <summary>The size of a hash in bytes.</summary>
    public const int Size = 32;

    // Held as four big-endian words: no allocation, cheap equality, and default(LogHash) is the zero hash.
    private readonly ulong _w0;
    private readonly ulong _w1;
    private readonly ulong _w2;
    private readonly ulong _w3;

    /// <summary>The hash with the given 32 bytes.</summary>
    /// <exception cref="ArgumentException">bytes is not exactly 32 bytes long.</exception>
    public LogHash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a hash is {Size} bytes, not {bytes.Length}", nameof(bytes));
        }

        _w0 = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _w1 = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _w2 = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _w3 = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    /// <summary>The all-zero hash (the hash of the tree of size zero).</summary>
    public static LogHash Zero => default;

    /// <summary>Whether every byte is zero.</summary>
    public bool IsZero => (_w0 | _w1 | _w2 | _w3) == 0;

    /// <summary>Writes the 32 bytes to destination.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"destination is shorter than {Size} bytes", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, _w0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _w1);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _w2);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _w3);
    }

    /// <summary>The 32 bytes as a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>The hash in standard base64 (as Go's Hash.String).</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>Parses the base64 form of a hash (tlog.ParseHash).</summary>
    /// <exception cref="FormatException">s is not the base64 encoding of exactly 32 bytes.</exception>
    public static LogHash Parse(string s) =>
        TryParse(s, out var hash) ? hash : throw new FormatException("malformed hash");

    /// <summary>Parses the base64 form of a hash; false unless s is the base64 encoding of exactly 32 bytes.</summary>
    public static bool TryParse([NotNullWhen(true)] string? s, out LogHash hash)
    {
        hash = default;
        if (s is null || !Base64Strict.TryDecode(s, out var bytes) || bytes.Length != Size)
        {
            return false;
        }

        hash = new LogHash(bytes);
        return true;
    }

    public bool Equals(LogHash other) =>
        _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override bool Equals(object? obj) => obj is LogHash other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_w0, _w1, _w2, _w3);

    public static bool operator ==(LogHash left, LogHash right) => left.Equals(right);

    public static bool operator !=(LogHash left, LogHash right) => !left.Equals(right);
}
