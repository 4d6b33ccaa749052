using System.Text;
using Warren.Core.SumDb;

namespace Warren.Core.Tests.SumDb;

// Vectors from golang.org/x/mod/sumdb/note/note_test.go, plus keys and notes cross-checked with Go (GoGolden).
public class NoteTests
{
    private const string PeterVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    private const string PeterSignerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    private const string EnochVerifierKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";

    private const string Text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    private const string PeterSig = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    private const string EnochSig = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    private static readonly NoteSignature Peter = new("PeterNeumann", 0xc74f20a3,
        "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=");

    private static readonly NoteSignature Enoch = new("EnochRoot", 0xaf0cfe78,
        "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=");

    private static readonly NoteVerifier PeterVerifier = NoteVerifier.Parse(PeterVerifierKey);
    private static readonly NoteVerifier EnochVerifier = NoteVerifier.Parse(EnochVerifierKey);

    [Fact]
    public void NewVerifier_ParsesKey()
    {
        var v = NoteVerifier.Parse(PeterVerifierKey);
        Assert.Equal("PeterNeumann", v.Name);
        Assert.Equal(0xc74f20a3u, v.KeyHash);
        Assert.Equal(PeterVerifierKey, v.VerifierKey);
        Assert.Equal(32, v.PublicKey.Length);
    }

    [Fact]
    public void NewVerifier_RejectsEveryMangling()
    {
        var b = Encoding.ASCII.GetBytes(PeterVerifierKey);
        for (int i = 0; i <= b.Length; i++)
        {
            for (int j = i + 1; j <= b.Length; j++)
            {
                if (i != 0 || j != b.Length)
                {
                    AssertBadVerifier(Encoding.ASCII.GetString(b[i..j]));
                }
            }
        }

        for (int i = 0; i < b.Length; i++)
        {
            b[i]++;
            AssertBadVerifier(Encoding.ASCII.GetString(b));
            b[i]--;
        }

        // Wrong key length and unknown algorithm, each with a key hash adjusted to match.
        AssertBadVerifier("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==");
        AssertBadVerifier("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
    }

    [Theory]
    [InlineData("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "invalid verifier hash")]
    [InlineData("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "unknown verifier algorithm")]
    [InlineData("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "malformed verifier id")]
    [InlineData("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "malformed verifier id")]
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T W", "malformed verifier id")]
    [InlineData("PeterNeumann+c74f20a3", "malformed verifier id")]
    public void NewVerifier_ErrorsAsGo(string key, string message)
    {
        var e = Assert.Throws<FormatException>(() => NoteVerifier.Parse(key));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void NewVerifier_AcceptsUpperCaseHash()
    {
        Assert.Equal(0xc74f20a3u, NoteVerifier.Parse(PeterVerifierKey.Replace("c74f20a3", "C74F20A3", StringComparison.Ordinal)).KeyHash);
    }

    [Fact]
    public void NewVerifier_SumGolangOrgKey()
    {
        // The go command's built-in key for sum.golang.org.
        var v = NoteVerifier.Parse("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8");
        Assert.Equal("sum.golang.org", v.Name);
        Assert.Equal(0x033de0aeu, v.KeyHash);
    }

    [Fact]
    public void NewSigner_ParsesKeyAndDerivesVerifier()
    {
        var s = NoteSigner.Parse(PeterSignerKey);
        Assert.Equal("PeterNeumann", s.Name);
        Assert.Equal(0xc74f20a3u, s.KeyHash);
        Assert.Equal(PeterVerifierKey, s.VerifierKey);
    }

    [Fact]
    public void NewSigner_RejectsEveryMangling()
    {
        var b = Encoding.ASCII.GetBytes(PeterSignerKey);
        for (int i = 0; i <= b.Length; i++)
        {
            for (int j = i + 1; j <= b.Length; j++)
            {
                if (i != 0 || j != b.Length)
                {
                    string key = Encoding.ASCII.GetString(b[i..j]);
                    Assert.False(NoteSigner.TryParse(key, out _, out _), key);
                }
            }
        }

        for (int i = 0; i < b.Length; i++)
        {
            b[i]++;
            string key = Encoding.ASCII.GetString(b);
            Assert.False(NoteSigner.TryParse(key, out _, out _), key);
            Assert.Throws<FormatException>(() => NoteSigner.Parse(key));
            b[i]--;
        }
    }

    [Fact]
    public void GenerateKey_IsSelfConsistent()
    {
        var (skey, vkey) = NoteKeys.GenerateKey("EnochRoot");
        Assert.StartsWith("PRIVATE+KEY+EnochRoot+", skey, StringComparison.Ordinal);
        Assert.StartsWith("EnochRoot+", vkey, StringComparison.Ordinal);
        var signer = NoteSigner.Parse(skey);
        var verifier = NoteVerifier.Parse(vkey);
        AssertSignerAndVerifier("EnochRoot", signer, verifier);
        Assert.Equal(vkey, signer.VerifierKey);

        var (skey2, _) = NoteKeys.GenerateKey("EnochRoot");
        Assert.NotEqual(skey, skey2);
    }

    [Fact]
    public void KeysFromEd25519Seed_MatchesGoGenerateKey()
    {
        var (skey, vkey) = NoteKeys.KeysFromEd25519Seed("go.example/sumdb", Convert.FromBase64String(GoGolden.GoSeedBase64));
        Assert.Equal(GoGolden.GoSignerKey, skey);
        Assert.Equal(GoGolden.GoVerifierKey, vkey);
    }

    [Fact]
    public void Ed25519VerifierKey_MatchesParsedKey()
    {
        var v = NoteVerifier.Parse(PeterVerifierKey);
        Assert.Equal(PeterVerifierKey, NoteKeys.Ed25519VerifierKey("PeterNeumann", v.PublicKey));
        Assert.Throws<ArgumentException>(() => NoteKeys.Ed25519VerifierKey("PeterNeumann", v.PublicKey[..31]));
        Assert.Throws<ArgumentException>(() => NoteKeys.Ed25519VerifierKey("Peter+Neumann", v.PublicKey));
    }

    [Theory]
    [InlineData("sum.golang.org", true)]
    [InlineData("example.com/sumdb", true)]
    [InlineData("ünïcödé", true)]
    [InlineData("", false)]
    [InlineData("a+b", false)]
    [InlineData("a b", false)]
    [InlineData("a\tb", false)]
    [InlineData("a\u00a0b", false)]
    [InlineData("a\u2003b", false)]
    [InlineData("a\u3000b", false)]
    public void IsValidName(string name, bool valid) => Assert.Equal(valid, NoteKeys.IsValidName(name));

    [Fact]
    public void IsValidName_RejectsLoneSurrogate() => Assert.False(NoteKeys.IsValidName("a" + '\ud800' + "b"));

    [Fact]
    public void Sign_MatchesGo()
    {
        var signer = NoteSigner.Parse(PeterSignerKey);
        string want = Text + "\n" + PeterSig;
        Assert.Equal(want, Encoding.UTF8.GetString(Note.Sign(new Note(Text), signer)));

        // An existing signature by the same key is replaced.
        var withOld = new Note(Text, [new NoteSignature("PeterNeumann", 0xc74f20a3, "BADSIGN=")], []);
        Assert.Equal(want, Encoding.UTF8.GetString(Note.Sign(withOld, signer)));
    }

    [Fact]
    public void Sign_KeepsOtherSignaturesBeforeNewOnes()
    {
        var signer = NoteSigner.Parse(PeterSignerKey);
        var note = new Note(Text, [], [Enoch]);
        Assert.Equal(Text + "\n" + EnochSig + PeterSig, Encoding.UTF8.GetString(Note.Sign(note, signer)));
    }

    [Fact]
    public void Sign_BadInputs()
    {
        var signer = NoteSigner.Parse(PeterSignerKey);
        Assert.Equal("malformed note", Assert.Throws<MalformedNoteException>(() => Note.Sign(new Note("abc"), signer)).Message);
        Assert.Throws<MalformedNoteException>(() => Note.Sign(new Note(Text, [new NoteSignature("a+b", 0, "ABCD")], [])));
        Assert.Throws<MalformedNoteException>(() => Note.Sign(new Note(Text, [new NoteSignature("PeterNeumann", 0xc74f20a3, "BADHASH=")], [])));
        var e = Assert.Throws<NoteException>(() => Note.Sign(new Note(Text), new RenamedSigner(signer, "bad name")));
        Assert.Equal("invalid signer", e.Message);
    }

    [Fact]
    public void VerifierList_LooksUpByNameAndHash()
    {
        var list = new NoteVerifierList(PeterVerifier, EnochVerifier, EnochVerifier);
        Assert.Same(PeterVerifier, list.GetVerifier("PeterNeumann", 0xc74f20a3));
        Assert.Equal("unknown key PeterNeumann+c74f20a4",
            Assert.Throws<UnknownVerifierException>(() => list.GetVerifier("PeterNeumann", 0xc74f20a4)).Message);
        Assert.Equal("unknown key PeterNeuman+c74f20a3",
            Assert.Throws<UnknownVerifierException>(() => list.GetVerifier("PeterNeuman", 0xc74f20a3)).Message);
        Assert.Equal("ambiguous key EnochRoot+af0cfe78",
            Assert.Throws<AmbiguousVerifierException>(() => list.GetVerifier("EnochRoot", 0xaf0cfe78)).Message);
    }

    [Fact]
    public void Open_OneVerifiedOneNot()
    {
        var n = Note.Open(Text + "\n" + PeterSig + EnochSig, new NoteVerifierList(PeterVerifier));
        Assert.Equal(Text, n.Text);
        Assert.Equal([Peter], n.Signatures);
        Assert.Equal([Enoch], n.UnverifiedSignatures);
    }

    [Fact]
    public void Open_BothVerified()
    {
        var n = Note.Open(Text + "\n" + PeterSig + EnochSig, new NoteVerifierList(PeterVerifier, EnochVerifier));
        Assert.Equal([Peter, Enoch], n.Signatures);
        Assert.Empty(n.UnverifiedSignatures);
    }

    [Fact]
    public void Open_NoneVerified_CarriesNote()
    {
        var e = Assert.Throws<UnverifiedNoteException>(() => Note.Open(Text + "\n" + PeterSig + EnochSig, new NoteVerifierList()));
        Assert.Equal("note has no verifiable signatures", e.Message);
        Assert.NotNull(e.Note);
        Assert.Empty(e.Note.Signatures);
        Assert.Equal([Peter, Enoch], e.Note.UnverifiedSignatures);

        Assert.Throws<UnverifiedNoteException>(() => Note.Open(Text + "\n" + PeterSig, null));
    }

    [Fact]
    public void Open_DuplicatedVerifier()
    {
        var list = new NoteVerifierList(EnochVerifier, PeterVerifier, EnochVerifier);
        Assert.Equal("ambiguous key EnochRoot+af0cfe78",
            Assert.Throws<AmbiguousVerifierException>(() => Note.Open(Text + "\n" + EnochSig, list)).Message);

        // Unused, the duplicate does not matter.
        Assert.Equal([Peter], Note.Open(Text + "\n" + PeterSig, list).Signatures);
    }

    [Fact]
    public void Open_TooManySignatures()
    {
        string many = Text + "\n" + string.Concat(Enumerable.Repeat(PeterSig, 101));
        Assert.Equal("malformed note", Assert.Throws<MalformedNoteException>(() => Note.Open(many, new NoteVerifierList(PeterVerifier))).Message);
        Assert.Throws<MalformedNoteException>(() => Note.Open(many, new NoteVerifierList()));

        // 100 are fine (and collapse to one).
        string hundred = Text + "\n" + string.Concat(Enumerable.Repeat(PeterSig, 100));
        Assert.Single(Note.Open(hundred, new NoteVerifierList(PeterVerifier)).Signatures);
    }

    [Fact]
    public void Open_InvalidSignature()
    {
        string bad = Text + "\n" + GoSplice(PeterSig, 60, "ABCD");
        var e = Assert.Throws<InvalidSignatureException>(() => Note.Open(bad, new NoteVerifierList(PeterVerifier)));
        Assert.Equal("invalid signature for key PeterNeumann+c74f20a3", e.Message);
        Assert.Equal("PeterNeumann", e.KeyName);
        Assert.Equal(0xc74f20a3u, e.KeyHash);
    }

    [Fact]
    public void Open_InvalidSignatureOverChangedText()
    {
        string bad = Text.Replace("problem", "Problem", StringComparison.Ordinal) + "\n" + PeterSig;
        Assert.Throws<InvalidSignatureException>(() => Note.Open(bad, new NoteVerifierList(PeterVerifier)));
    }

    [Fact]
    public void Open_DropsDuplicates()
    {
        var enochAbcd = new NoteSignature("EnochRoot", 0xaf0cfe78,
            "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n" + "ABCD" + "2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=");
        string msg = Text + "\n" + PeterSig + PeterSig + EnochSig + EnochSig + GoSplice(EnochSig, 60, "ABCD");
        var n = Note.Open(msg, new NoteVerifierList(PeterVerifier));
        Assert.Equal([Peter], n.Signatures);
        Assert.Equal([Enoch, enochAbcd], n.UnverifiedSignatures);
    }

    public static TheoryData<string> BadMessages => new()
    {
        Text,
        Text + "\n",
        Text + "\n" + PeterSig[..^1],
        "\x01" + Text + "\n" + PeterSig,
        Text + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        Text + "\n" + PeterSig + "Unexpected line.\n",
        Text + "\n" + "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        Text + "\n" + "— PeterNeumann\n",
        Text + "\n" + "— PeterNeumann AAAA\n",
        Text + "\n" + "- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "a\rb\n\n" + PeterSig,
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public void Open_MalformedMessages(string message)
    {
        var e = Assert.Throws<MalformedNoteException>(() => Note.Open(message, new NoteVerifierList(PeterVerifier)));
        Assert.Equal("malformed note", e.Message);
    }

    [Fact]
    public void Open_InvalidUtf8()
    {
        var msg = new byte[] { 0xff }.Concat(Encoding.UTF8.GetBytes(Text + "\n" + PeterSig)).ToArray();
        Assert.Throws<MalformedNoteException>(() => Note.Open(msg, new NoteVerifierList(PeterVerifier)));
    }

    [Fact]
    public void Open_VerifierForWrongNameOrHash()
    {
        var fixedVerifier = new FixedVerifiers(PeterVerifier);
        string misnamed = PeterSig.Replace("PeterNeumann", "CarmenSandiego", StringComparison.Ordinal);
        Assert.Equal("verifier name or hash doesn't match signature",
            Assert.Throws<NoteException>(() => Note.Open(Text + "\n" + misnamed, fixedVerifier)).Message);
        string wrongHash = PeterSig.Replace("x08g", "xxxx", StringComparison.Ordinal);
        Assert.Equal("verifier name or hash doesn't match signature",
            Assert.Throws<NoteException>(() => Note.Open(Text + "\n" + wrongHash, fixedVerifier)).Message);
    }

    [Fact]
    public void WarrenSignatures_AreGos()
    {
        // Go's note.Open verified these notes and note.Sign reproduced them; Warren must produce the same bytes.
        var signer = NoteSigner.Parse(GoGolden.WarrenSignerKey);
        Assert.Equal(GoGolden.WarrenVerifierKey, signer.VerifierKey);
        foreach (string golden in new[] { GoGolden.WarrenSignedNote1, GoGolden.WarrenSignedNote2 })
        {
            var note = Note.Open(golden, NoteVerifierList.FromKeys(GoGolden.WarrenVerifierKey));
            Assert.Equal(golden, Encoding.UTF8.GetString(Note.Sign(new Note(note.Text), signer)));
        }
    }

    [Fact]
    public void GoSignedNote_Verifies()
    {
        var note = Note.Open(GoGolden.GoSignedNote, NoteVerifierList.FromKeys(GoGolden.GoVerifierKey));
        Assert.Equal("Signed by Go.\nSecond line.\n", note.Text);
        Assert.Equal("go.example/sumdb", Assert.Single(note.Signatures).Name);
        Assert.Equal(GoGolden.GoSignedNote, Encoding.UTF8.GetString(Note.Sign(new Note(note.Text), NoteSigner.Parse(GoGolden.GoSignerKey))));
    }

    [Fact]
    public void ReSign_AddsSecondSignature()
    {
        // The doubly-signed example of note.go's package documentation.
        var n = Note.Open(Text + "\n" + PeterSig, new NoteVerifierList(PeterVerifier));
        var (skey, vkey) = NoteKeys.GenerateKey("EnochRoot");
        var msg = Note.Sign(n, NoteSigner.Parse(skey));
        string s = Encoding.UTF8.GetString(msg);
        Assert.StartsWith(Text + "\n" + PeterSig + "— EnochRoot ", s, StringComparison.Ordinal);
        var both = Note.Open(msg, new NoteVerifierList(PeterVerifier, NoteVerifier.Parse(vkey)));
        Assert.Equal(2, both.Signatures.Count);
    }

    // s[:at] + insert + s[at:] with Go's byte offsets (the em dash is three UTF-8 bytes).
    private static string GoSplice(string s, int at, string insert)
    {
        var b = Encoding.UTF8.GetBytes(s);
        return Encoding.UTF8.GetString(b[..at]) + insert + Encoding.UTF8.GetString(b[at..]);
    }

    private static void AssertBadVerifier(string key)
    {
        Assert.False(NoteVerifier.TryParse(key, out _, out string? error), key);
        Assert.NotNull(error);
    }

    private static void AssertSignerAndVerifier(string name, INoteSigner signer, INoteVerifier verifier)
    {
        Assert.Equal(name, signer.Name);
        Assert.Equal(name, verifier.Name);
        Assert.Equal(signer.KeyHash, verifier.KeyHash);
        var msg = "hi"u8.ToArray();
        var sig = signer.Sign(msg);
        Assert.True(verifier.Verify(msg, sig));
        sig[0]++;
        Assert.False(verifier.Verify(msg, sig));
        sig[0]--;
        msg[0]++;
        Assert.False(verifier.Verify(msg, sig));
        Assert.False(verifier.Verify(msg, sig[..63]));
    }

    private sealed class RenamedSigner(INoteSigner inner, string name) : INoteSigner
    {
        public string Name => name;

        public uint KeyHash => inner.KeyHash;

        public byte[] Sign(ReadOnlySpan<byte> message) => inner.Sign(message);
    }

    private sealed class FixedVerifiers(INoteVerifier verifier) : INoteVerifiers
    {
        public INoteVerifier GetVerifier(string name, uint keyHash) => verifier;
    }
}
