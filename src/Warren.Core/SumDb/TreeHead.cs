using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Warren.Core.SumDb;

/// <summary>A tree head: the size of a log and the hash of its tree (tlog.Tree), as signed by a checksum database in
/// a note whose text is <see cref="Format"/>.</summary>
public readonly record struct TreeHead(long Size, LogHash Hash)
{
    /// <summary>The first line of a tree head's text.</summary>
    public const string Header = "go.sum database tree\n";

    private const int MaxTextBytes = 1_000_000;

    /// <summary>The note text: "go.sum database tree\n" + size in decimal + "\n" + base64 hash + "\n"
    /// (tlog.FormatTree).</summary>
    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{Header}{Size}\n{Hash}\n");

    public override string ToString() => Format();

    /// <summary>Parses a tree head text (tlog.ParseTree). Lines after the third are ignored, for forward
    /// compatibility.</summary>
    /// <exception cref="FormatException">"malformed tree note".</exception>
    public static TreeHead Parse(string text) =>
        TryParse(text, out var tree) ? tree : throw new FormatException("malformed tree note");

    /// <summary>Parses a tree head text; false if it is malformed.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out TreeHead tree)
    {
        tree = default;
        if (text is null || !text.StartsWith(Header, StringComparison.Ordinal) || text.Count(c => c == '\n') < 3 ||
            Encoding.UTF8.GetByteCount(text) > MaxTextBytes)
        {
            return false;
        }

        var lines = text.Split('\n', 4);
        if (!long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out long n) ||
            lines[1] != n.ToString(CultureInfo.InvariantCulture) ||
            !LogHash.TryParse(lines[2], out var hash))
        {
            return false;
        }

        tree = new TreeHead(n, hash);
        return true;
    }

    /// <summary>Signs this tree head: the note a checksum database serves at /latest and after lookups.</summary>
    public byte[] Sign(params IEnumerable<INoteSigner> signers) => Note.Sign(new Note(Format()), signers);

    /// <summary>Opens a signed tree note and parses its text.</summary>
    /// <exception cref="NoteException">The note does not open (see <see cref="Note.Open(ReadOnlySpan{byte}, INoteVerifiers?)"/>).</exception>
    /// <exception cref="FormatException">Its text is not a tree head ("malformed tree note").</exception>
    public static TreeHead OpenSigned(ReadOnlySpan<byte> signedNote, INoteVerifiers verifiers) =>
        Parse(Note.Open(signedNote, verifiers).Text);
}
