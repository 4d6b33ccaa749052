using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;

namespace Warren.Server.Auth;

/// <summary>Warren tokens: "wrn_", a 16-hex-digit public id (which principal), 64 hex digits of secret.</summary>
public static class TokenFormat
{
    public const string Prefix = "wrn_";
    public const int IdLength = 16;
    public const int SecretLength = 64;
    public const int Length = 4 + IdLength + SecretLength;

    /// <summary>A new random token and its id.</summary>
    public static (string Id, string Token) Create()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SecretLength / 2));
        return (id, Prefix + id + secret);
    }

    /// <summary>Whether the text has a token's shape; the id when it has.</summary>
    public static bool TryGetId(ReadOnlySpan<char> token, out ReadOnlySpan<char> id)
    {
        id = default;
        if (token.Length != Length || !token.StartsWith(Prefix, StringComparison.Ordinal) || !IsLowerHex(token[Prefix.Length..]))
        {
            return false;
        }

        id = token.Slice(Prefix.Length, IdLength);
        return true;
    }

    public static bool IsId(string? id) => id is { Length: IdLength } && IsLowerHex(id);

    private static bool IsLowerHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Argon2id of a token, with a random salt and the parameters stored beside the hash (OWASP's minimum: 19 MiB, 2 passes).</summary>
public static class TokenHash
{
    public const string Algorithm = "argon2id";
    public const int DefaultMemoryKiB = 19 * 1024;
    public const int DefaultIterations = 2;
    public const int DefaultParallelism = 1;
    private const int HashBytes = 32;

    public static TokenHashEntry Create(string token, int memoryKiB = DefaultMemoryKiB, int iterations = DefaultIterations, int parallelism = DefaultParallelism)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var entry = new TokenHashEntry
        {
            Algorithm = Algorithm,
            MemoryKiB = memoryKiB,
            Iterations = iterations,
            Parallelism = parallelism,
            Salt = Convert.ToBase64String(salt),
        };
        entry.Value = Convert.ToBase64String(Compute(token, salt, entry, HashBytes));
        return entry;
    }

    /// <summary>Recomputes the hash (slow by design) and compares in constant time.</summary>
    public static bool Verify(string token, TokenHashEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var expected = Convert.FromBase64String(entry.Value);
        var actual = Compute(token, Convert.FromBase64String(entry.Salt), entry, expected.Length);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    /// <summary>null when the entry can be verified with, else why not.</summary>
    public static string? Check(TokenHashEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Algorithm != Algorithm)
        {
            return $"algorithm \"{entry.Algorithm}\" (want {Algorithm})";
        }

        if (entry.MemoryKiB is < 8 or > 4 * 1024 * 1024 || entry.Iterations is < 1 or > 100 || entry.Parallelism is < 1 or > 64)
        {
            return "parameters out of range (memoryKiB 8..4194304, iterations 1..100, parallelism 1..64)";
        }

        return IsBase64(entry.Salt, 8, 64) && IsBase64(entry.Value, 16, 64) ? null : "salt or value is not base64 of a sensible length";
    }

    private static bool IsBase64(string? s, int min, int max)
    {
        if (string.IsNullOrEmpty(s))
        {
            return false;
        }

        var buffer = new byte[s.Length];
        return Convert.TryFromBase64String(s, buffer, out var n) && n >= min && n <= max;
    }

    private static byte[] Compute(string token, byte[] salt, TokenHashEntry p, int length)
    {
        using var argon = new Argon2id(Encoding.UTF8.GetBytes(token))
        {
            Salt = salt,
            MemorySize = p.MemoryKiB,
            Iterations = p.Iterations,
            DegreeOfParallelism = p.Parallelism,
        };
        return argon.GetBytes(length);
    }
}
