using System.Buffers.Binary;
using System.Text;
using Warren.Core.Modules;

namespace Warren.Core.Tests;

public class ModuleZipTests
{
    private const string Mod = "example.com/m";
    private const string Ver = "v1.0.0";
    private const string Prefix = "example.com/m@v1.0.0/";

    private static TestZipEntry F(string name, string content = "package x\n") => TestZipEntry.Text(Prefix + name, content);

    private static ZipCheckResult CheckEntries(params TestZipEntry[] entries)
    {
        using var tmp = new TempDir();
        string zip = tmp.File("m.zip");
        TestZipWriter.Write(zip, entries);
        return ModuleZip.Check(zip, Mod, Ver);
    }

    private static void AssertError(string expected, ZipCheckResult result)
    {
        Assert.False(result.IsValid, "expected the zip to be rejected");
        Assert.Equal(expected, result.Error);
        Assert.Null(result.GoMod);
        Assert.Null(result.ZipHash);
    }

    [Fact]
    public void ValidModule_ReturnsGoModAndHash()
    {
        const string goMod = "module example.com/m\n\ngo 1.13\n";
        var result = CheckEntries(
            F("go.mod", goMod),
            F("m.go", "package m\n\nfunc Foo() int { return 42 }\n"),
            F("cmd/hello/hello.go", "package main\n\nimport (\n  \"fmt\"\n  \"example.com/m\"\n)\n\nfunc main() {\n  fmt.Println(m.Foo())\n}\n"));
        Assert.True(result.IsValid, result.Error);
        Assert.Equal(goMod, Encoding.UTF8.GetString(result.GoMod!));
        Assert.Equal(3, result.FileCount);
        Assert.Equal("h1:tpqYOOmuilagXzyqoJ3roUjp8gneQeTv5YVpL6BG7/k=", result.ZipHash);
    }

    [Fact]
    public void EmptyZip_IsValidWithoutGoMod()
    {
        var result = CheckEntries();
        Assert.True(result.IsValid, result.Error);
        Assert.Null(result.GoMod);
        Assert.Equal(0, result.FileCount);
        Assert.Equal("h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", result.ZipHash);
    }

    [Fact]
    public void DirectoryEntries_AndPrefixOnlyEntry_AreAccepted()
    {
        var result = CheckEntries(
            TestZipEntry.Text(Prefix, ""),
            F("sub/"),
            F("sub/"),
            F("sub/a.go"),
            F("go.mod/a.go"));
        Assert.True(result.IsValid, result.Error);
        Assert.Equal(2, result.FileCount);
        Assert.Null(result.GoMod);
    }

    [Fact]
    public void WrongPrefix_IsRejected()
    {
        AssertError("example.com/other@v1.0.0/a.go: path does not have prefix \"example.com/m@v1.0.0/\"",
            CheckEntries(TestZipEntry.Text("example.com/other@v1.0.0/a.go", "package a\n")));
    }

    [Fact]
    public void PrefixWithoutSlash_IsRejected()
    {
        AssertError("example.com/m@v1.0.0: path does not have prefix \"example.com/m@v1.0.0/\"",
            CheckEntries(TestZipEntry.Text("example.com/m@v1.0.0", ""), F("go.mod", "module example.com/m\n")));
    }

    [Fact]
    public void AnotherVersionOfTheModule_IsRejected()
    {
        AssertError("example.com/m@v1.0.1/go.mod: path does not have prefix \"example.com/m@v1.0.0/\"",
            CheckEntries(TestZipEntry.Text("example.com/m@v1.0.1/go.mod", "module example.com/m\n")));
    }

    [Fact]
    public void DotDotEscape_IsRejected()
    {
        AssertError("example.com/m@v1.0.0/../evil.go: malformed file path \"../evil.go\": invalid path element \"..\"",
            CheckEntries(F("../evil.go")));
        AssertError("example.com/m@v1.0.0/a/../../evil.go: file path is not clean",
            CheckEntries(F("a/../../evil.go")));
        AssertError("example.com/m@v1.0.0/..: malformed file path \"..\": invalid path element \"..\"",
            CheckEntries(F("..")));
    }

    [Fact]
    public void AbsolutePaths_AreRejected()
    {
        AssertError("/etc/passwd: path does not have prefix \"example.com/m@v1.0.0/\"",
            CheckEntries(TestZipEntry.Text("/etc/passwd", "root")));
        AssertError("example.com/m@v1.0.0//etc/passwd: malformed file path \"/etc/passwd\": empty path element",
            CheckEntries(F("/etc/passwd")));
    }

    [Fact]
    public void BackslashNulAndColon_AreRejected()
    {
        AssertError("example.com/m@v1.0.0/..\\evil.go: malformed file path \"..\\\\evil.go\": invalid char '\\\\'",
            CheckEntries(F("..\\evil.go")));
        AssertError("example.com/m@v1.0.0/a\0.go: malformed file path \"a\\x00.go\": invalid char '\\x00'",
            CheckEntries(F("a\0.go")));
        AssertError("example.com/m@v1.0.0/c:evil.go: malformed file path \"c:evil.go\": invalid char ':'",
            CheckEntries(F("c:evil.go")));
    }

    [Fact]
    public void NotCleanPaths_AreRejected()
    {
        AssertError("example.com/m@v1.0.0/./a.go: file path is not clean", CheckEntries(F("./a.go")));
        AssertError("example.com/m@v1.0.0/a//b.go: file path is not clean", CheckEntries(F("a//b.go")));
        AssertError("example.com/m@v1.0.0//: file path is not clean", CheckEntries(F("/")));
    }

    [Fact]
    public void InvalidUtf8Name_IsRejected()
    {
        var entry = F("x") with { RawName = [.. Encoding.UTF8.GetBytes(Prefix), 0xff, (byte)'.', (byte)'g', (byte)'o'] };
        var result = CheckEntries(entry);
        Assert.False(result.IsValid);
        Assert.EndsWith(": malformed file path \"\\xff.go\": invalid UTF-8", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateFile_IsRejected()
    {
        AssertError("example.com/m@v1.0.0/dup.go: multiple entries for file \"dup.go\"",
            CheckEntries(F("dup.go", "package d1\n"), F("dup.go", "package d2\n")));
    }

    [Fact]
    public void CaseInsensitiveCollision_IsRejected()
    {
        AssertError("example.com/m@v1.0.0/a.go: case-insensitive file name collision: \"A.go\" and \"a.go\"",
            CheckEntries(F("A.go"), F("a.go")));
        AssertError("example.com/m@v1.0.0/m.go: case-insensitive file name collision: \"M.GO\" and \"m.go\"",
            CheckEntries(F("M.GO"), F("m.go")));
        // Parent directories collide too.
        AssertError("example.com/m@v1.0.0/dir/b.go: case-insensitive file name collision: \"Dir\" and \"dir\"",
            CheckEntries(F("Dir/a.go"), F("dir/b.go")));
    }

    [Fact]
    public void CaseInsensitiveCollision_UsesUnicodeFolding()
    {
        // U+212A KELVIN SIGN folds with k; U+017F LATIN SMALL LETTER LONG S folds with s.
        AssertError("example.com/m@v1.0.0/k.go: case-insensitive file name collision: \"\u212A.go\" and \"k.go\"",
            CheckEntries(F("\u212A.go"), F("k.go")));
        AssertError("example.com/m@v1.0.0/S.go: case-insensitive file name collision: \"\u017F.go\" and \"S.go\"",
            CheckEntries(F("\u017F.go"), F("S.go")));
        Assert.True(CheckEntries(F("\u00E9.go"), F("e.go")).IsValid);
    }

    [Fact]
    public void FileAndDirectoryWithSameName_IsRejected()
    {
        AssertError("example.com/m@v1.0.0/a.go/b.go: entry \"a.go\" is both a file and a directory",
            CheckEntries(F("a.go"), F("a.go/b.go")));
    }

    [Fact]
    public void GoModRules()
    {
        AssertError("example.com/m@v1.0.0/GO.MOD: go.mod files must have lowercase names",
            CheckEntries(F("GO.MOD", "module example.com/m\n")));
        AssertError("example.com/m@v1.0.0/sub/go.mod: go.mod file not in module root directory",
            CheckEntries(F("go.mod", "module example.com/m\n"), F("sub/go.mod", "module example.com/m/sub\n")));
        AssertError("example.com/m@v1.0.0/b/GO.MOD: go.mod file not in module root directory",
            CheckEntries(F("a.go"), F("b/GO.MOD", "MODULE EXAMPLE.COM/M/B\n")));
    }

    [Fact]
    public void OversizedGoMod_Declared_IsRejected()
    {
        AssertError("example.com/m@v1.0.0/go.mod: go.mod file too large (max size is 16777216 bytes)",
            CheckEntries(F("go.mod", "module example.com/m\n") with { DeclaredSize = (16UL << 20) + 1 }));
    }

    [Fact]
    public void OversizedGoMod_Actual_IsRejected()
    {
        var big = new byte[(16 << 20) + 1];
        "module example.com/m\n"u8.CopyTo(big);
        AssertError("example.com/m@v1.0.0/go.mod: go.mod file too large (max size is 16777216 bytes)",
            CheckEntries(new TestZipEntry(Prefix + "go.mod", big)));

        // Declared small but actually large: caught while reading.
        AssertError("uncompressed size of file example.com/m@v1.0.0/go.mod is larger than declared size (100 bytes)",
            CheckEntries(new TestZipEntry(Prefix + "go.mod", big) { DeclaredSize = 100 }));
    }

    [Fact]
    public void OversizedLicense_IsRejected()
    {
        AssertError("example.com/m@v1.0.0/LICENSE: LICENSE file too large (max size is 16777216 bytes)",
            CheckEntries(F("LICENSE", "MIT") with { DeclaredSize = (16UL << 20) + 1 }));
        Assert.True(CheckEntries(F("sub/LICENSE", "MIT")).IsValid);
    }

    [Fact]
    public void TotalUncompressedSizeTooLarge_IsRejected()
    {
        AssertError("total uncompressed size of module contents too large (max size is 524288000 bytes)",
            CheckEntries(F("a.go") with { DeclaredSize = 300UL << 20 }, F("b.go") with { DeclaredSize = 300UL << 20 }));
    }

    [Fact]
    public void ZipFileTooLarge_IsRejected()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("huge.zip");
        using (var f = File.Create(zip))
        {
            f.SetLength(ModuleZip.MaxZipFile + 1); // sparse
        }
        AssertError("module zip file is too large (524288001 bytes; limit is 524288000 bytes)", ModuleZip.Check(zip, Mod, Ver));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LyingUncompressedSize_IsCaughtWhileReading(bool deflate)
    {
        byte[] content = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("package a // padding\n", 100)));

        AssertError($"uncompressed size of file {Prefix}a.go is larger than declared size (100 bytes)",
            CheckEntries(new TestZipEntry(Prefix + "a.go", content) { Deflate = deflate, DeclaredSize = 100 }));

        AssertError($"unexpected EOF: uncompressed size of file {Prefix}a.go is smaller than declared size (5000 bytes)",
            CheckEntries(new TestZipEntry(Prefix + "a.go", content) { Deflate = deflate, DeclaredSize = 5000 }));
    }

    [Fact]
    public void EmptyDeflateStream_IsRejected()
    {
        // Zero bytes of deflate data are not a valid (even empty) stream; Go's flate reader reports unexpected EOF.
        AssertError($"unexpected EOF: no deflate data for file {Prefix}empty.go",
            CheckEntries(F("empty.go", "") with { RawData = [] }));
        Assert.True(CheckEntries(F("empty.go", "")).IsValid);
    }

    [Fact]
    public void ChecksumMismatch_IsRejected()
    {
        AssertError($"zip: checksum error in file {Prefix}a.go",
            CheckEntries(F("a.go", "package a\n") with { Crc = 0xdeadbeef }));
    }

    [Fact]
    public void DataDescriptors_AndLocalExtraFields_HashAsPlainEntries()
    {
        // Small entries (read whole) and one over 64 KB compressed (read in chunks), with descriptors signed and not,
        // and local extra fields short, long enough to push the descriptor out of a whole read, and longer than a whole
        // read allows for: the same h1 as the plain zip.
        var random = new Random(7);
        var big = new byte[100_000];
        random.NextBytes(big);
        TestZipEntry[] Entries() =>
        [
            F("go.mod", "module example.com/m\n"),
            F("a.go", "package a\n"),
            new(Prefix + "big.bin", big),
            F("c.go", string.Concat(Enumerable.Repeat("package c // text\n", 300))),
            F("d.go", "package d\n"),
        ];
        var plain = CheckEntries(Entries());
        Assert.True(plain.IsValid, plain.Error);
        var kinds = new[] { TestDescriptor.Signed, TestDescriptor.Unsigned };
        var extras = new[] { null, new byte[9], new byte[70], new byte[200] };
        var described = CheckEntries(Entries().Select((e, i) => e with { Descriptor = kinds[i % 2], LocalExtra = extras[i % 4] }).ToArray());
        Assert.True(described.IsValid, described.Error);
        Assert.Equal(plain.ZipHash, described.ZipHash);
        Assert.Equal("module example.com/m\n", Encoding.UTF8.GetString(described.GoMod!));
    }

    [Theory]
    [InlineData("a.go", TestDescriptor.Signed)]
    [InlineData("a.go", TestDescriptor.Unsigned)]
    [InlineData("big.bin", TestDescriptor.Signed)]
    [InlineData("big.bin", TestDescriptor.Unsigned)]
    public void DataDescriptor_WithAnotherChecksum_IsRejected(string file, TestDescriptor kind)
    {
        var big = new byte[100_000];
        new Random(8).NextBytes(big);
        var entries = new[] { F("a.go", "package a\n"), new TestZipEntry(Prefix + "big.bin", big), F("z.go", "package z\n") }
            .Select(e => e with { Descriptor = kind, DescriptorCrc = e.Name == Prefix + file ? 0x12345678u : null })
            .ToArray();
        AssertError($"zip: checksum error in file {Prefix}{file}", CheckEntries(entries));
    }

    [Fact]
    public void DataDescriptor_Missing_IsAChecksumError()
    {
        // Flag 0x8 set but no descriptor written: what follows the data (the next entry's header, or the central
        // directory) is read as one, as Go reads it, and its "CRC-32" does not match.
        using var tmp = new TempDir();
        string zip = tmp.File("m.zip");
        TestZipWriter.Write(zip, [F("a.go", "package a\n") with { Descriptor = TestDescriptor.Unsigned }, F("b.go", "package b\n")]);
        byte[] bytes = File.ReadAllBytes(zip);
        int second = bytes.AsSpan(4).IndexOf("PK\u0003\u0004"u8) + 4;
        byte[] without = [.. bytes[..(second - 12)], .. bytes[second..]];
        int central = without.AsSpan().IndexOf("PK\u0001\u0002"u8);
        int secondDir = central + 4 + without.AsSpan(central + 4).IndexOf("PK\u0001\u0002"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(without.AsSpan(secondDir + 42), (uint)(second - 12));
        BinaryPrimitives.WriteUInt32LittleEndian(without.AsSpan(without.Length - 6), (uint)central);
        File.WriteAllBytes(zip, without);
        AssertError($"zip: checksum error in file {Prefix}a.go", ModuleZip.Check(zip, Mod, Ver));
    }

    [Fact]
    public void TruncatedZip_IsAnError()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("m.zip");
        TestZipWriter.Write(zip, [F("go.mod", "module example.com/m\n"), F("a.go", string.Concat(Enumerable.Repeat("package a\n", 500)))]);
        byte[] bytes = File.ReadAllBytes(zip);
        foreach (int keep in new[] { bytes.Length - 1, bytes.Length - 30, bytes.Length / 2, 10, 0 })
        {
            string cut = tmp.File($"cut{keep}.zip");
            File.WriteAllBytes(cut, bytes[..keep]);
            var result = ModuleZip.Check(cut, Mod, Ver);
            Assert.False(result.IsValid, $"truncated to {keep} bytes");
            Assert.Equal("zip: not a valid zip file", result.Error);
        }
    }

    [Fact]
    public void CorruptCompressedData_IsAnError()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("m.zip");
        TestZipWriter.Write(zip, [F("a.go", string.Concat(Enumerable.Repeat("package a // some text\n", 500)))]);
        byte[] bytes = File.ReadAllBytes(zip);
        int dataStart = 30 + (Prefix + "a.go").Length;
        for (int i = dataStart; i < dataStart + 40; i++)
        {
            bytes[i] ^= 0x5a;
        }
        File.WriteAllBytes(zip, bytes);
        var result = ModuleZip.Check(zip, Mod, Ver);
        Assert.False(result.IsValid);
        Assert.NotNull(result.Error);
    }

    [Fact]
    public void GarbageBytes_AreAnError()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("garbage.zip");
        var random = new Random(42);
        var bytes = new byte[4096];
        random.NextBytes(bytes);
        File.WriteAllBytes(zip, bytes);
        AssertError("zip: not a valid zip file", ModuleZip.Check(zip, Mod, Ver));

        File.WriteAllBytes(zip, []);
        AssertError("zip: not a valid zip file", ModuleZip.Check(zip, Mod, Ver));
    }

    [Fact]
    public void UnsupportedCompressionMethod_IsAnError()
    {
        using var tmp = new TempDir();
        string zip = tmp.File("m.zip");
        TestZipWriter.Write(zip, [F("a.go", "package a\n") with { Deflate = false }]);
        byte[] bytes = File.ReadAllBytes(zip);
        int central = bytes.AsSpan().IndexOf("PK\u0001\u0002"u8);
        bytes[8] = 12; // bzip2, local header
        bytes[central + 10] = 12; // central directory
        File.WriteAllBytes(zip, bytes);
        AssertError("zip: unsupported compression algorithm", ModuleZip.Check(zip, Mod, Ver));
    }

    [Fact]
    public void ManyInvalidFiles_AreAllReported()
    {
        var result = CheckEntries(TestZipEntry.Text("noprefix", ""), F("valid.go"), F("not/../clean"), F("GO.MOD"), F("valid.go"));
        Assert.Equal(string.Join('\n',
            "noprefix: path does not have prefix \"example.com/m@v1.0.0/\"",
            "example.com/m@v1.0.0/not/../clean: file path is not clean",
            "example.com/m@v1.0.0/GO.MOD: go.mod files must have lowercase names",
            "example.com/m@v1.0.0/valid.go: multiple entries for file \"valid.go\""), result.Error);
    }

    [Fact]
    public void GoQuote_MatchesStrconvQuote()
    {
        Assert.Equal("\"a\\\"b\\\\c\"", ModuleZip.GoQuote("a\"b\\c"));
        Assert.Equal("\"\\x00\\n\\t\\x7f\"", ModuleZip.GoQuote("\0\n\t\u007f"));
        Assert.Equal("\"héllo \\u00a0\"", ModuleZip.GoQuote("héllo \u00a0"));
        Assert.Equal("\"\\xffz\"", ModuleZip.GoQuote([0xff, (byte)'z']));
        Assert.Equal("'\\''", ModuleZip.GoQuoteRune(new Rune('\'')));
        Assert.Equal("'\"'", ModuleZip.GoQuoteRune(new Rune('"')));
    }

    [Theory]
    [InlineData("", ".")]
    [InlineData("a/b", "a/b")]
    [InlineData("a//b/", "a/b")]
    [InlineData("./a/./b/..", "a")]
    [InlineData("../../x", "../../x")]
    [InlineData("/../x", "/x")]
    [InlineData("/", "/")]
    public void CleanPath_MatchesGoPathClean(string path, string clean) => Assert.Equal(clean, ModuleZip.CleanPath(path));

    [Fact]
    public void Corpus_CheckAcceptsEveryZip_AndReturnsItsGoMod()
    {
        var failures = new List<string>();
        int withGoMod = 0;
        foreach (var v in GoCorpus.Load())
        {
            if (!File.Exists(v.ZipPath))
            {
                failures.Add($"{v}: missing {v.ZipPath}");
                continue;
            }
            var result = ModuleZip.Check(v.ZipPath, v.Path, v.Version);
            if (!result.IsValid)
            {
                failures.Add($"{v}: rejected: {result.Error}");
                continue;
            }
            if (result.ZipHash != v.ZipHash)
            {
                failures.Add($"{v}: zip hash {result.ZipHash}, go client {v.ZipHash}");
            }
            if (result.GoMod is not null)
            {
                withGoMod++;
                if (!result.GoMod.AsSpan().SequenceEqual(File.ReadAllBytes(v.ModPath)))
                {
                    failures.Add($"{v}: go.mod in zip differs from {v.ModPath}");
                }
            }
            else if (v.GoModKind != "synthesized")
            {
                failures.Add($"{v}: no go.mod in zip, but the manifest says '{v.GoModKind}'");
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(withGoMod > 200, $"only {withGoMod} zips had a go.mod");
    }
}
