using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Warren.Core.SumDb;

/// <summary>One signature line of a note: the key's name and hash, and the base64 of (hash || signature).</summary>
public sealed record NoteSignature(string Name, uint KeyHash, string Base64);

/// <summary>A signed note (golang.org/x/mod/sumdb/note): text ending in a newline, a blank line, then one or more
/// lines "— name base64(keyhash || signature)". The signatures sign the text including its final newline.</summary>
public sealed class Note
{
    /// <summary>A note is rejected when it carries more signatures than this.</summary>
    public const int MaxSignatures = 100;

    private static readonly byte[] SignaturePrefix = "— "u8.ToArray();

    public Note(string text)
        : this(text, [], [])
    {
    }

    public Note(string text, IReadOnlyList<NoteSignature> signatures, IReadOnlyList<NoteSignature> unverifiedSignatures)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(signatures);
        ArgumentNullException.ThrowIfNull(unverifiedSignatures);
        Text = text;
        Signatures = signatures;
        UnverifiedSignatures = unverifiedSignatures;
    }

    /// <summary>The text of the note, ending in a newline.</summary>
    public string Text { get; }

    /// <summary>Signatures checked by a known verifier, in the order they appear.</summary>
    public IReadOnlyList<NoteSignature> Signatures { get; }

    /// <summary>Signatures by keys no verifier was known for (never checked), duplicates dropped.</summary>
    public IReadOnlyList<NoteSignature> UnverifiedSignatures { get; }

    /// <summary>Parses message and checks its signatures with the known verifiers (note.Open).</summary>
    /// <remarks>A signature whose key <paramref name="known"/> reports as unknown is kept as unverified; repeated
    /// signatures by one key are dropped after the first.</remarks>
    /// <exception cref="MalformedNoteException">The message is not a well-formed signed note.</exception>
    /// <exception cref="InvalidSignatureException">A known key's signature does not verify.</exception>
    /// <exception cref="UnverifiedNoteException">No signature is by a known key (the exception holds the note).</exception>
    /// <exception cref="NoteException">The verifier returned for a signature has another name or hash ("verifier name
    /// or hash doesn't match signature"), or <paramref name="known"/> failed otherwise (for example
    /// <see cref="AmbiguousVerifierException"/>).</exception>
    public static Note Open(ReadOnlySpan<byte> message, INoteVerifiers? known)
    {
        known ??= new NoteVerifierList();

        // Valid UTF-8 with no control character but newline.
        for (int i = 0; i < message.Length;)
        {
            if (Rune.DecodeFromUtf8(message[i..], out var rune, out int size) != OperationStatus.Done ||
                (rune.Value < 0x20 && rune.Value != '\n'))
            {
                throw new MalformedNoteException();
            }

            i += size;
        }

        // The text ends at the last blank line; the signature block after it ends in a newline.
        int split = message.LastIndexOf("\n\n"u8);
        if (split < 0)
        {
            throw new MalformedNoteException();
        }

        var textBytes = message[..(split + 1)];
        var sigs = message[(split + 2)..];
        if (sigs.IsEmpty || sigs[^1] != '\n')
        {
            throw new MalformedNoteException();
        }

        string text = Encoding.UTF8.GetString(textBytes);
        var verified = new List<NoteSignature>();
        var unverified = new List<NoteSignature>();
        var seen = new HashSet<(string, uint)>();
        var seenUnverified = new HashSet<string>(StringComparer.Ordinal);
        int count = 0;
        while (!sigs.IsEmpty)
        {
            int nl = sigs.IndexOf((byte)'\n');
            var lineBytes = sigs[..nl];
            sigs = sigs[(nl + 1)..];
            if (!lineBytes.StartsWith(SignaturePrefix))
            {
                throw new MalformedNoteException();
            }

            string line = Encoding.UTF8.GetString(lineBytes[SignaturePrefix.Length..]);
            var (name, b64) = NoteKeys.Chop(line, ' ');
            if (!Base64Strict.TryDecode(b64, out var raw) || !NoteKeys.IsValidName(name) || b64.Length == 0 || raw.Length < 5)
            {
                throw new MalformedNoteException();
            }

            uint hash = BinaryPrimitives.ReadUInt32BigEndian(raw);
            if (++count > MaxSignatures)
            {
                throw new MalformedNoteException();
            }

            INoteVerifier verifier;
            try
            {
                verifier = known.GetVerifier(name, hash);
            }
            catch (UnknownVerifierException)
            {
                if (seenUnverified.Add(line))
                {
                    unverified.Add(new NoteSignature(name, hash, b64));
                }

                continue;
            }

            if (verifier.Name != name || verifier.KeyHash != hash)
            {
                throw new NoteException("verifier name or hash doesn't match signature");
            }

            if (!seen.Add((name, hash)))
            {
                continue;
            }

            if (!verifier.Verify(textBytes, raw.AsSpan(4)))
            {
                throw new InvalidSignatureException(name, hash);
            }

            verified.Add(new NoteSignature(name, hash, b64));
        }

        var note = new Note(text, verified, unverified);
        if (verified.Count == 0)
        {
            throw new UnverifiedNoteException(note);
        }

        return note;
    }

    /// <summary>Opens a note given as text (UTF-8 encoded first).</summary>
    public static Note Open(string message, INoteVerifiers? known)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Open(Encoding.UTF8.GetBytes(message), known);
    }

    /// <summary>Signs the note with the signers and returns the encoded message (note.Sign).</summary>
    /// <remarks>The note's existing signatures (verified, then unverified) come first, except those by a key one of
    /// the signers uses; the new signatures follow in signer order.</remarks>
    /// <exception cref="MalformedNoteException">The text does not end in a newline, or an existing signature is
    /// malformed (bad name, or base64 not starting with its key hash).</exception>
    /// <exception cref="NoteException">A signer has an invalid name ("invalid signer").</exception>
    public static byte[] Sign(Note note, params IEnumerable<INoteSigner> signers)
    {
        ArgumentNullException.ThrowIfNull(note);
        ArgumentNullException.ThrowIfNull(signers);
        if (!note.Text.EndsWith('\n'))
        {
            throw new MalformedNoteException();
        }

        var text = Encoding.UTF8.GetBytes(note.Text);
        var newSigs = new StringBuilder();
        var have = new HashSet<(string, uint)>();
        Span<byte> hashBytes = stackalloc byte[4];
        foreach (var signer in signers)
        {
            string name = signer.Name;
            uint hash = signer.KeyHash;
            have.Add((name, hash));
            if (!NoteKeys.IsValidName(name))
            {
                throw new NoteException("invalid signer");
            }

            var sig = signer.Sign(text);
            var raw = new byte[4 + sig.Length];
            BinaryPrimitives.WriteUInt32BigEndian(raw, hash);
            sig.CopyTo(raw, 4);
            newSigs.Append("— ").Append(name).Append(' ').Append(Convert.ToBase64String(raw)).Append('\n');
        }

        var output = new StringBuilder(note.Text).Append('\n');
        foreach (var sig in note.Signatures.Concat(note.UnverifiedSignatures))
        {
            if (!NoteKeys.IsValidName(sig.Name))
            {
                throw new MalformedNoteException();
            }

            if (have.Contains((sig.Name, sig.KeyHash)))
            {
                continue;
            }

            if (!Base64Strict.TryDecode(sig.Base64, out var raw) || raw.Length < 4 ||
                BinaryPrimitives.ReadUInt32BigEndian(raw) != sig.KeyHash)
            {
                throw new MalformedNoteException();
            }

            output.Append("— ").Append(sig.Name).Append(' ').Append(sig.Base64).Append('\n');
        }

        output.Append(newSigs);
        return Encoding.UTF8.GetBytes(output.ToString());
    }
}
