using System.Text;
using Warren.Core.Modules;

namespace Warren.Core.Tests;

public class DirHashTests
{
    // The "simple" module of golang.org/x/mod/zip/testdata/unzip/simple.txt and its published hash.
    private static readonly TestZipEntry[] SimpleModule =
    [
        TestZipEntry.Text("example.com/m@v1.0.0/go.mod", "module example.com/m\n\ngo 1.13\n"),
        TestZipEntry.Text("example.com/m@v1.0.0/m.go", "package m\n\nfunc Foo() int { return 42 }\n"),
        TestZipEntry.Text("example.com/m@v1.0.0/cmd/hello/hello.go",
            "package main\n\nimport (\n  \"fmt\"\n  \"example.com/m\"\n)\n\nfunc main() {\n  fmt.Println(m.Foo())\n}\n"),
    ];

    private const string SimpleModuleHash = "h1:tpqYOOmuilagXzyqoJ3roUjp8gneQeTv5YVpL6BG7/k=";

    [Fact]
    public void HashZip_EmptyZip_IsHashOfEmptySummary()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("empty.zip");
        TestZipWriter.Write(zip, []);
        Assert.Equal("h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", DirHash.HashZip(zip));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HashZip_SimpleModule_MatchesGo(bool deflate)
    {
        using var tmp = new TempDir();
        string zip = tmp.File("m.zip");
        TestZipWriter.Write(zip, SimpleModule.Select(e => e with { Deflate = deflate }));
        Assert.Equal(SimpleModuleHash, DirHash.HashZip(zip));
    }

    [Fact]
    public void HashZip_IgnoresEntryOrder()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("m.zip");
        TestZipWriter.Write(zip, SimpleModule.Reverse());
        Assert.Equal(SimpleModuleHash, DirHash.HashZip(zip));
    }

    [Fact]
    public void HashDir_MatchesHashZipOfSameFiles()
    {
        using var tmp = new TempDir();
        const string prefix = "example.com/m@v1.0.0";
        string root = Path.Combine(tmp.Path, "extracted");
        foreach (var entry in SimpleModule)
        {
            string file = Path.Combine(root, entry.Name[(prefix.Length + 1)..]);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, entry.Content);
        }
        Directory.CreateDirectory(Path.Combine(root, "empty-dir-is-ignored"));

        Assert.Equal(SimpleModuleHash, DirHash.HashDir(root, prefix));
        Assert.Equal(SimpleModuleHash, DirHash.HashDir(root + Path.DirectorySeparatorChar, prefix + "/"));
    }

    [Fact]
    public void HashZip_IncludesDirectoryEntriesAndNonAsciiNamesAsStored()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("m.zip");
        TestZipWriter.Write(zip,
        [
            TestZipEntry.Text("example.com/m@v1.0.0/", ""),
            TestZipEntry.Text("example.com/m@v1.0.0/héllo.go", "package héllo\n"),
            TestZipEntry.Text("example.com/m@v1.0.0/b.go", "package b\n"),
        ]);

        // Cross-checked with dirhash.HashZip of golang.org/x/mod on the same file.
        Assert.Equal(Hash1Reference([
            ("example.com/m@v1.0.0/", ""),
            ("example.com/m@v1.0.0/b.go", "package b\n"),
            ("example.com/m@v1.0.0/héllo.go", "package héllo\n"),
        ]), DirHash.HashZip(zip));
    }

    [Fact]
    public void HashZip_DuplicateNames_UseTheLastEntryForEveryOccurrence()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("dup.zip");
        TestZipWriter.Write(zip,
        [
            TestZipEntry.Text("m@v1.0.0/dup.go", "package d1\n"),
            TestZipEntry.Text("m@v1.0.0/dup.go", "package d2\n"),
        ]);
        Assert.Equal(Hash1Reference([("m@v1.0.0/dup.go", "package d2\n"), ("m@v1.0.0/dup.go", "package d2\n")]), DirHash.HashZip(zip));
    }

    [Fact]
    public void HashZip_NameWithNewline_Fails()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("nl.zip");
        TestZipWriter.Write(zip, [TestZipEntry.Text("m@v1.0.0/a\nb.go", "x")]);
        var e = Assert.Throws<InvalidDataException>(() => DirHash.HashZip(zip));
        Assert.Equal("dirhash: filenames with newlines are not supported", e.Message);
    }

    [Fact]
    public void HashZip_CorruptData_Fails()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("crc.zip");
        TestZipWriter.Write(zip, [TestZipEntry.Text("m@v1.0.0/a.go", "package a\n") with { Crc = 12345 }]);
        var e = Assert.Throws<InvalidDataException>(() => DirHash.HashZip(zip));
        Assert.StartsWith("zip: checksum error", e.Message, StringComparison.Ordinal);

        string garbage = tmp.File("garbage.zip");
        File.WriteAllBytes(garbage, Encoding.ASCII.GetBytes("this is not a zip file at all"));
        Assert.Throws<InvalidDataException>(() => DirHash.HashZip(garbage));
    }

    [Fact]
    public void HashGoMod_KnownValue()
    {
        // Value from dirhash.Hash1 of golang.org/x/mod over a file "go.mod" with this content.
        Assert.Equal("h1:UWkIka9t4wTRf5TZ+sRdwnADRAp+U7R9A2lAeNEx1cA=", DirHash.HashGoMod("module example.com/m\n\ngo 1.13\n"u8));
        Assert.Equal(Hash1Reference([("go.mod", "")]), DirHash.HashGoMod([]));
    }

    [Fact]
    public void HashZip_NonUtf8Name_IsHashedAsRawBytes()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("latin1.zip");
        TestZipWriter.Write(zip,
        [
            new TestZipEntry("", "c"u8.ToArray()) { RawName = [.. "m@v1.0.0/caf"u8, 0xe9, .. ".go"u8] },
            TestZipEntry.Text("m@v1.0.0/b.go", "b"),
        ]);
        // Value from dirhash.HashZip of golang.org/x/mod on an archive with the same names and contents.
        Assert.Equal("h1:IutY/XUgJq2AD1ja7D6+JX5vHsZOEkA6MvxpmVskbbs=", DirHash.HashZip(zip));
    }

    [Fact]
    public void Corpus_HashZip_ReproducesEveryGoClientSum()
    {
        var failures = new List<string>();
        foreach (var v in GoCorpus.Load())
        {
            if (!File.Exists(v.ZipPath))
            {
                failures.Add($"{v}: missing {v.ZipPath}");
                continue;
            }
            string got = DirHash.HashZip(v.ZipPath);
            if (got != v.ZipHash)
            {
                failures.Add($"{v}: zip hash {got}, go client {v.ZipHash}");
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void Corpus_HashGoMod_ReproducesEveryGoClientSum()
    {
        var failures = new List<string>();
        foreach (var v in GoCorpus.Load())
        {
            if (!File.Exists(v.ModPath))
            {
                failures.Add($"{v}: missing {v.ModPath}");
                continue;
            }
            string got = DirHash.HashGoMod(File.ReadAllBytes(v.ModPath));
            if (got != v.ModHash)
            {
                failures.Add($"{v}: go.mod hash {got}, go client {v.ModHash}");
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    /// <summary>An independent, whole-buffer Hash1 for small inputs (files are (name, content) pairs).</summary>
    private static string Hash1Reference(IEnumerable<(string Name, string Content)> files)
    {
        var summary = new StringBuilder();
        foreach (var (name, content) in files.OrderBy(f => Encoding.UTF8.GetBytes(f.Name), ByteArrayComparer.Instance))
        {
            string hex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(content)));
            summary.Append(hex).Append("  ").Append(name).Append('\n');
        }
        return "h1:" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(summary.ToString())));
    }

    private sealed class ByteArrayComparer : IComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
