namespace Warren.Core.SumDb;

/// <summary>A signed note could not be opened or signed. The message is the one Go's note package gives (for example
/// "malformed note", "invalid signer", "verifier name or hash doesn't match signature").</summary>
public class NoteException : Exception
{
    public NoteException()
        : this("malformed note")
    {
    }

    public NoteException(string message)
        : base(message)
    {
    }

    public NoteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The note's syntax is invalid ("malformed note"): not UTF-8, a control character, no signature block, a
/// malformed signature line, or more than 100 signatures.</summary>
public sealed class MalformedNoteException : NoteException
{
    public MalformedNoteException()
    {
    }

    public MalformedNoteException(string message)
        : base(message)
    {
    }

    public MalformedNoteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A note exception about one signing key, named and hashed as in the signature line.</summary>
public abstract class KeyedNoteException(string message, string keyName, uint keyHash) : NoteException(message)
{
    public string KeyName { get; } = keyName;

    public uint KeyHash { get; } = keyHash;
}

/// <summary>No verifier is known for the key (name, hash). <see cref="Note.Open"/> keeps such signatures as
/// unverified rather than failing.</summary>
public sealed class UnknownVerifierException(string keyName, uint keyHash)
    : KeyedNoteException($"unknown key {keyName}+{keyHash:x8}", keyName, keyHash);

/// <summary>More than one verifier of a <see cref="NoteVerifierList"/> has the same name and key hash.</summary>
public sealed class AmbiguousVerifierException(string keyName, uint keyHash)
    : KeyedNoteException($"ambiguous key {keyName}+{keyHash:x8}", keyName, keyHash);

/// <summary>A known verifier rejected its signature on the note.</summary>
public sealed class InvalidSignatureException(string keyName, uint keyHash)
    : KeyedNoteException($"invalid signature for key {keyName}+{keyHash:x8}", keyName, keyHash);

/// <summary>The note parsed, but none of its signatures is by a known key. <see cref="Note"/> holds the unverified
/// note (its text must not be trusted).</summary>
public sealed class UnverifiedNoteException : NoteException
{
    private const string DefaultMessage = "note has no verifiable signatures";

    public UnverifiedNoteException()
        : base(DefaultMessage)
    {
    }

    public UnverifiedNoteException(string message)
        : base(message)
    {
    }

    public UnverifiedNoteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public UnverifiedNoteException(Note note)
        : base(DefaultMessage)
    {
        Note = note;
    }

    public Note? Note { get; }
}

/// <summary>A transparency-log operation failed: invalid arguments reached a hash reader, a reader broke its contract,
/// or a requested index is not in the tree.</summary>
public class TlogException : Exception
{
    public TlogException()
    {
    }

    public TlogException(string message)
        : base(message)
    {
    }

    public TlogException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Data failed authentication against a trusted hash: an invalid proof ("invalid transparency proof"),
/// a tile that does not match the tree ("downloaded inconsistent tile"), a record that does not match its leaf, or two
/// tree heads that are not on one timeline. Any of these is evidence of a misbehaving (or corrupted) server.</summary>
public class TlogVerificationException : TlogException
{
    public TlogVerificationException()
        : base("invalid transparency proof")
    {
    }

    public TlogVerificationException(string message)
        : base(message)
    {
    }

    public TlogVerificationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
