using System.Formats.Tar;
using System.Text;
using Warren.Core.SumDb;
using Warren.Tools.Bundle;
using Warren.Tools.Prefetch;

namespace Warren.Tools.Tests.Bundle;

/// <summary>The pieces of a bundle: the incremental cursor, go.work inputs, the manifest's signature and vulnerability database entry, the tar form.</summary>
public sealed class BundlePartsTests
{
    [Fact]
    public void A_cursor_round_trips_and_remembers_whether_the_zip_or_only_the_go_mod_was_carried()
    {
        var a = new ModuleKey("github.com/BurntSushi/toml", "v1.2.0");
        var b = new ModuleKey("golang.org/x/text", "v0.3.7");
        var cursor = BundleCursor.Empty.With([(a, true), (b, false)]);
        var parsed = BundleCursor.Parse(cursor.ToString());

        Assert.StartsWith("b1.", cursor.ToString());
        Assert.Equal(2, parsed.Count);
        Assert.True(parsed.Carried(a, zip: true));
        Assert.True(parsed.Carried(b, zip: false));
        Assert.False(parsed.Carried(b, zip: true));
        Assert.False(parsed.Carried(new ModuleKey("example.com/m", "v1.0.0"), zip: false));

        // A later bundle that carried b's zip upgrades it.
        Assert.True(BundleCursor.Parse(parsed.With([(b, true)]).ToString()).Carried(b, zip: true));
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("b1.!!!")]
    public void A_malformed_cursor_is_a_format_error(string value) =>
        Assert.Throws<FormatException>(() => BundleCursor.Parse(value));

    [Fact]
    public void The_manifest_names_a_carried_vulnerability_database_and_omits_it_otherwise()
    {
        var plain = new BundleManifest(BundleManifest.CurrentFormat, "http://127.0.0.1:1", null, DateTimeOffset.UnixEpoch, null, BundleCursor.Empty.ToString(), [], []);
        Assert.DoesNotContain("vulnDb", Encoding.UTF8.GetString(plain.ToJson()), StringComparison.Ordinal);
        Assert.Null(BundleManifest.Parse(plain.ToJson()).VulnDb);

        var modified = new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero);
        var carried = plain with { VulnDb = new BundleVulnDb("vulndb.zip", 3, modified, "http://127.0.0.1:1/vuln") };
        Assert.Contains("\"vulnDb\"", Encoding.UTF8.GetString(carried.ToJson()), StringComparison.Ordinal);
        Assert.Equal(carried.VulnDb, BundleManifest.Parse(carried.ToJson()).VulnDb);
    }

    [Fact]
    public void Go_work_inputs_are_the_directories_they_use_in_both_forms()
    {
        var uses = BundleExporter.WorkUses("go 1.19\n\nuse ./a // first\nuse (\n\t./b\n\t\"./c d\"\n)\nreplace x => y\n").ToList();
        Assert.Equal(["./a", "./b", "./c d"], uses);
    }

    [Fact]
    public void A_signed_manifest_verifies_only_with_its_key_and_only_unchanged()
    {
        var (signerKey, verifierKey) = NoteKeys.GenerateKey("bundles.example.com");
        var (_, otherKey) = NoteKeys.GenerateKey("bundles.example.com");
        var manifest = Encoding.UTF8.GetBytes("{\"format\":1}");
        var signature = BundleSignature.Sign(manifest, NoteSigner.Parse(signerKey));

        Assert.Null(BundleSignature.Check(manifest, signature, NoteVerifier.Parse(verifierKey)));
        Assert.Contains("not signed by", BundleSignature.Check(manifest, signature, NoteVerifier.Parse(otherKey)), StringComparison.Ordinal);
        Assert.Contains("does not match", BundleSignature.Check(Encoding.UTF8.GetBytes("{\"format\":2}"), signature, NoteVerifier.Parse(verifierKey)), StringComparison.Ordinal);
        Assert.Contains("missing", BundleSignature.Check(manifest, null, NoteVerifier.Parse(verifierKey)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("b.tar")]
    [InlineData("b.tar.zst")]
    public async Task A_bundle_archive_round_trips_and_an_archive_with_a_link_is_refused(string name)
    {
        var dir = TestPaths.NewTempDir("bundle-dir");
        Directory.CreateDirectory(Path.Combine(dir, "example.com", "m", "@v"));
        await File.WriteAllTextAsync(Path.Combine(dir, "example.com", "m", "@v", "v1.0.0.mod"), "module example.com/m\n");
        await File.WriteAllTextAsync(Path.Combine(dir, BundleManifest.FileName), "{}");
        var tar = Path.Combine(TestPaths.NewTempDir("bundle-tar"), name);
        Assert.True(BundleArchive.IsArchive(tar));
        await BundleArchive.CreateAsync(dir, tar, CancellationToken.None);

        // A .tar.zst is a zstd frame (its magic number first); a .tar is a plain tar (the name of its first entry first).
        var head = (await File.ReadAllBytesAsync(tar))[..4];
        Assert.Equal(name.EndsWith(".zst", StringComparison.Ordinal), head.SequenceEqual(new byte[] { 0x28, 0xB5, 0x2F, 0xFD }));

        var back = TestPaths.NewTempDir("bundle-back");
        await BundleArchive.ExtractAsync(tar, back, CancellationToken.None);
        Assert.Equal("module example.com/m\n", await File.ReadAllTextAsync(Path.Combine(back, "example.com", "m", "@v", "v1.0.0.mod")));
        Assert.Equal("{}", Encoding.UTF8.GetString(BundleArchive.ReadManifest(tar)));

        var evil = Path.Combine(TestPaths.NewTempDir("bundle-evil"), "e.tar");
        await using (var stream = File.Create(evil))
        await using (var writer = new TarWriter(stream))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "example.com/m/@v/v1.0.0.zip") { LinkName = "/etc/passwd" });
        }

        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => BundleArchive.ExtractAsync(evil, TestPaths.NewTempDir("bundle-evil-out"), CancellationToken.None));
        Assert.Contains("not a regular file", refused.Message, StringComparison.Ordinal);
    }
}
