using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Warren.Core.SumDb;

/// <summary>Verifies signatures made with one server key (note.Verifier).</summary>
public interface INoteVerifier
{
    /// <summary>The server name the key belongs to.</summary>
    string Name { get; }

    /// <summary>The 32-bit key hash (first four bytes, big-endian, of SHA-256(name + "\n" + algorithm + key)).</summary>
    uint KeyHash { get; }

    /// <summary>Whether signature is a valid signature of message by this key.</summary>
    bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature);
}

/// <summary>Signs messages with one server key (note.Signer).</summary>
public interface INoteSigner
{
    /// <summary>The server name the key belongs to.</summary>
    string Name { get; }

    /// <summary>The key hash of the corresponding verifier key.</summary>
    uint KeyHash { get; }

    /// <summary>The signature of message.</summary>
    byte[] Sign(ReadOnlySpan<byte> message);
}

/// <summary>Finds the verifier for a (name, key hash) pair (note.Verifiers).</summary>
public interface INoteVerifiers
{
    /// <summary>The verifier with the given name and key hash.</summary>
    /// <exception cref="UnknownVerifierException">No such key is known; <see cref="Note.Open"/> then records the
    /// signature as unverified.</exception>
    /// <exception cref="NoteException">Any other failure (for example an ambiguous key); Open rethrows it.</exception>
    INoteVerifier GetVerifier(string name, uint keyHash);
}

/// <summary>Key encodings, key hashes and key generation for signed notes. Only Ed25519 (algorithm 1) exists.</summary>
/// <remarks>A verifier key is "name+hash+base64(1 || public key)"; a signer key is
/// "PRIVATE+KEY+name+hash+base64(1 || seed)", where hash is the 8-digit lower-case hex key hash.</remarks>
public static class NoteKeys
{
    /// <summary>The algorithm byte of Ed25519 keys.</summary>
    public const byte AlgorithmEd25519 = 1;

    internal const int Ed25519KeySize = 32;

    /// <summary>The key hash of an encoded public key (algorithm byte followed by the key) for a server name.</summary>
    public static uint KeyHash(string name, ReadOnlySpan<byte> encodedKey)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(name + "\n"));
        sha.AppendData(encodedKey);
        Span<byte> sum = stackalloc byte[32];
        sha.GetHashAndReset(sum);
        return BinaryPrimitives.ReadUInt32BigEndian(sum);
    }

    /// <summary>Whether name can name a key: non-empty, without Unicode spaces or '+', and valid UTF-16 (no lone
    /// surrogates, so that it is valid UTF-8).</summary>
    public static bool IsValidName([NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('+', StringComparison.Ordinal))
        {
            return false;
        }

        for (int i = 0; i < name.Length;)
        {
            if (Rune.DecodeFromUtf16(name.AsSpan(i), out var rune, out int used) != System.Buffers.OperationStatus.Done ||
                Rune.IsWhiteSpace(rune))
            {
                return false;
            }

            i += used;
        }

        return true;
    }

    /// <summary>Generates a new Ed25519 key pair for the named server (note.GenerateKey). The signer key must be kept
    /// secret; the verifier key is given to clients.</summary>
    public static (string SignerKey, string VerifierKey) GenerateKey(string name)
    {
        var seed = RandomNumberGenerator.GetBytes(Ed25519KeySize);
        try
        {
            return KeysFromEd25519Seed(name, seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>The signer and verifier keys of the Ed25519 key with the given 32-byte seed (private key).</summary>
    public static (string SignerKey, string VerifierKey) KeysFromEd25519Seed(string name, ReadOnlySpan<byte> seed)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException("invalid key name", nameof(name));
        }

        if (seed.Length != Ed25519KeySize)
        {
            throw new ArgumentException($"invalid seed size {seed.Length}, expected {Ed25519KeySize}", nameof(seed));
        }

        var publicKey = Ed25519PublicKey(seed);
        string verifierKey = Ed25519VerifierKey(name, publicKey);
        var encodedSeed = new byte[1 + Ed25519KeySize];
        encodedSeed[0] = AlgorithmEd25519;
        seed.CopyTo(encodedSeed.AsSpan(1));
        uint hash = KeyHash(name, Encode(publicKey));
        string signerKey = $"PRIVATE+KEY+{name}+{hash:x8}+{Convert.ToBase64String(encodedSeed)}";
        CryptographicOperations.ZeroMemory(encodedSeed);
        return (signerKey, verifierKey);
    }

    /// <summary>The verifier key for an Ed25519 public key (note.NewEd25519VerifierKey).</summary>
    public static string Ed25519VerifierKey(string name, ReadOnlySpan<byte> publicKey)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException("invalid key name", nameof(name));
        }

        if (publicKey.Length != Ed25519KeySize)
        {
            throw new ArgumentException($"invalid public key size {publicKey.Length}, expected {Ed25519KeySize}", nameof(publicKey));
        }

        var encoded = Encode(publicKey);
        return $"{name}+{KeyHash(name, encoded):x8}+{Convert.ToBase64String(encoded)}";
    }

    internal static byte[] Ed25519PublicKey(ReadOnlySpan<byte> seed)
    {
        var publicKey = new byte[Ed25519KeySize];
        Ed25519.GeneratePublicKey(seed.ToArray(), 0, publicKey, 0);
        return publicKey;
    }

    internal static byte[] Encode(ReadOnlySpan<byte> publicKey)
    {
        var encoded = new byte[1 + publicKey.Length];
        encoded[0] = AlgorithmEd25519;
        publicKey.CopyTo(encoded.AsSpan(1));
        return encoded;
    }

    /// <summary>Cuts s at the first sep: (before, after), or (s, "") when there is none (Go's chop).</summary>
    internal static (string Before, string After) Chop(string s, char sep)
    {
        int i = s.IndexOf(sep, StringComparison.Ordinal);
        return i < 0 ? (s, "") : (s[..i], s[(i + 1)..]);
    }

    /// <summary>Parses exactly 8 hex digits (either case), as strconv.ParseUint(s, 16, 32) with a length check.</summary>
    internal static bool TryParseHash(string s, out uint hash)
    {
        hash = 0;
        return s.Length == 8 && s.All(char.IsAsciiHexDigit) &&
            uint.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out hash);
    }
}

/// <summary>A verifier built from a verifier key "name+hash+base64key" (note.NewVerifier).</summary>
public sealed class NoteVerifier : INoteVerifier
{
    private readonly byte[] _publicKey;

    private NoteVerifier(string name, uint keyHash, byte[] publicKey, string verifierKey) =>
        (Name, KeyHash, _publicKey, VerifierKey) = (name, keyHash, publicKey, verifierKey);

    public string Name { get; }

    public uint KeyHash { get; }

    /// <summary>The encoded verifier key this verifier was made from.</summary>
    public string VerifierKey { get; }

    /// <summary>The raw 32-byte Ed25519 public key.</summary>
    public ReadOnlySpan<byte> PublicKey => _publicKey;

    /// <summary>Parses a verifier key.</summary>
    /// <exception cref="FormatException">"malformed verifier id", "unknown verifier algorithm" or "invalid verifier
    /// hash", as Go reports them.</exception>
    public static NoteVerifier Parse(string verifierKey)
    {
        ArgumentNullException.ThrowIfNull(verifierKey);
        return TryParse(verifierKey, out var verifier, out string? error) ? verifier : throw new FormatException(error);
    }

    /// <summary>Parses a verifier key; on failure error is Go's message for it.</summary>
    public static bool TryParse(string? verifierKey, [NotNullWhen(true)] out NoteVerifier? verifier, [NotNullWhen(false)] out string? error)
    {
        verifier = null;
        error = "malformed verifier id";
        if (verifierKey is null)
        {
            return false;
        }

        var (name, rest) = NoteKeys.Chop(verifierKey, '+');
        var (hash16, key64) = NoteKeys.Chop(rest, '+');
        if (!NoteKeys.TryParseHash(hash16, out uint hash) || !Base64Strict.TryDecode(key64, out var key) ||
            !NoteKeys.IsValidName(name) || key.Length == 0)
        {
            return false;
        }

        if (hash != NoteKeys.KeyHash(name, key))
        {
            error = "invalid verifier hash";
            return false;
        }

        if (key[0] != NoteKeys.AlgorithmEd25519)
        {
            error = "unknown verifier algorithm";
            return false;
        }

        if (key.Length != 1 + NoteKeys.Ed25519KeySize)
        {
            return false;
        }

        verifier = new NoteVerifier(name, hash, key[1..], verifierKey);
        error = null;
        return true;
    }

    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != Ed25519.SignatureSize)
        {
            return false;
        }

        var m = message.ToArray();
        return Ed25519.Verify(signature.ToArray(), 0, _publicKey, 0, m, 0, m.Length);
    }

    public override string ToString() => VerifierKey;
}

/// <summary>A signer built from a signer key "PRIVATE+KEY+name+hash+base64key" (note.NewSigner).</summary>
public sealed class NoteSigner : INoteSigner
{
    private readonly byte[] _seed;

    private NoteSigner(string name, uint keyHash, byte[] seed, byte[] publicKey)
    {
        Name = name;
        KeyHash = keyHash;
        _seed = seed;
        VerifierKey = NoteKeys.Ed25519VerifierKey(name, publicKey);
    }

    public string Name { get; }

    public uint KeyHash { get; }

    /// <summary>The verifier key matching this signer.</summary>
    public string VerifierKey { get; }

    /// <summary>Parses a signer key.</summary>
    /// <exception cref="FormatException">Go's messages: "malformed verifier id", "unknown verifier algorithm",
    /// "invalid verifier hash" (note.NewSigner reuses the verifier wording).</exception>
    public static NoteSigner Parse(string signerKey) =>
        TryParse(signerKey ?? throw new ArgumentNullException(nameof(signerKey)), out var signer, out string? error) ? signer : throw new FormatException(error);

    /// <summary>Parses a signer key; on failure error is Go's message for it.</summary>
    public static bool TryParse(string? signerKey, [NotNullWhen(true)] out NoteSigner? signer, [NotNullWhen(false)] out string? error)
    {
        (signer, error) = (null, "malformed verifier id");
        if (signerKey is null)
        {
            return false;
        }

        var (priv1, rest) = NoteKeys.Chop(signerKey, '+');
        (string priv2, rest) = NoteKeys.Chop(rest, '+');
        (string name, rest) = NoteKeys.Chop(rest, '+');
        var (hash16, key64) = NoteKeys.Chop(rest, '+');
        if (priv1 != "PRIVATE" || priv2 != "KEY" || !NoteKeys.TryParseHash(hash16, out uint hash) ||
            !Base64Strict.TryDecode(key64, out var key) || !NoteKeys.IsValidName(name) || key.Length == 0)
        {
            return false;
        }

        if (key[0] != NoteKeys.AlgorithmEd25519)
        {
            error = "unknown verifier algorithm";
            return false;
        }

        if (key.Length != 1 + NoteKeys.Ed25519KeySize)
        {
            return false;
        }

        // The hash names the public key, so it can only be checked once that is derived.
        var seed = key[1..];
        CryptographicOperations.ZeroMemory(key);
        var publicKey = NoteKeys.Ed25519PublicKey(seed);
        if (hash != NoteKeys.KeyHash(name, NoteKeys.Encode(publicKey)))
        {
            CryptographicOperations.ZeroMemory(seed);
            error = "invalid verifier hash";
            return false;
        }

        signer = new NoteSigner(name, hash, seed, publicKey);
        error = null;
        return true;
    }

    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var m = message.ToArray();
        var signature = new byte[Ed25519.SignatureSize];
        Ed25519.Sign(_seed, 0, m, 0, m.Length, signature, 0);
        return signature;
    }

    public override string ToString() => $"signer {Name}+{KeyHash:x8}";
}

/// <summary>A fixed set of verifiers (note.VerifierList). A (name, hash) pair given by more than one verifier is
/// reported as ambiguous when looked up.</summary>
public sealed class NoteVerifierList : INoteVerifiers
{
    private readonly Dictionary<(string Name, uint Hash), List<INoteVerifier>> _byKey = [];

    public NoteVerifierList(params IEnumerable<INoteVerifier> verifiers)
    {
        ArgumentNullException.ThrowIfNull(verifiers);
        foreach (var verifier in verifiers)
        {
            var key = (verifier.Name, verifier.KeyHash);
            if (!_byKey.TryGetValue(key, out var list))
            {
                _byKey[key] = list = [];
            }

            list.Add(verifier);
        }
    }

    /// <summary>A list of the verifiers for the given verifier keys.</summary>
    /// <exception cref="FormatException">A key is malformed.</exception>
    public static NoteVerifierList FromKeys(params IEnumerable<string> verifierKeys) =>
        new(verifierKeys.Select(NoteVerifier.Parse));

    public INoteVerifier GetVerifier(string name, uint keyHash)
    {
        if (!_byKey.TryGetValue((name, keyHash), out var list))
        {
            throw new UnknownVerifierException(name, keyHash);
        }

        if (list.Count > 1)
        {
            throw new AmbiguousVerifierException(name, keyHash);
        }

        return list[0];
    }
}
