using System.Text;
using Warren.Core.SumDb;

namespace Warren.Core.Tests.SumDb;

public class SumDbProtocolTests
{
    private const string ZipHash = "h1:7uVkIFmeBqHfdjD+gZwtXXI+RODJ2Wc4O7MPEh/QiW4=";
    private const string ModHash = "h1:T1hPZKmBbMNahiBKFy5HrXp6adAjACjK9JXDnKaTXpA=";

    [Fact]
    public void GoSumRecord_FormatAndParse()
    {
        string text = GoSumRecord.Format("rsc.io/sampler", "v1.3.0", ZipHash, ModHash);
        Assert.Equal($"rsc.io/sampler v1.3.0 {ZipHash}\nrsc.io/sampler v1.3.0/go.mod {ModHash}\n", text);
        Assert.True(LogRecord.IsValidText(Encoding.UTF8.GetBytes(text)));
        Assert.Equal(Encoding.UTF8.GetBytes(text), GoSumRecord.FormatBytes("rsc.io/sampler", "v1.3.0", ZipHash, ModHash));

        var lines = GoSumRecord.Parse(text);
        Assert.Equal(2, lines.Count);
        Assert.Equal(new GoSumLine("rsc.io/sampler", "v1.3.0", ZipHash), lines[0]);
        Assert.False(lines[0].IsGoMod);
        Assert.True(lines[1].IsGoMod);
        Assert.Equal("v1.3.0", lines[1].ModuleVersion);
        Assert.Equal($"rsc.io/sampler v1.3.0/go.mod {ModHash}", lines[1].ToString());
        Assert.Equal(text, GoSumRecord.Format(lines));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a v1 h1:x")]
    [InlineData("a v1 h1:x\n\n")]
    [InlineData("a v1\n")]
    [InlineData("a v1 h1:x extra\n")]
    [InlineData("a  v1 h1:x\n")]
    [InlineData("a\tv1 h1:x\n")]
    [InlineData("a v1 h1:x\r\n")]
    public void GoSumRecord_ParseRejectsMalformed(string text) =>
        Assert.Throws<FormatException>(() => GoSumRecord.Parse(text));

    [Fact]
    public void GoSumRecord_FormatRejectsBadFields()
    {
        Assert.Throws<ArgumentException>(() => GoSumRecord.Format("a b", "v1.0.0", ZipHash, ModHash));
        Assert.Throws<ArgumentException>(() => GoSumRecord.Format("a", "v1.0.0/go.mod", ZipHash, ModHash));
        Assert.Throws<ArgumentException>(() => GoSumRecord.Format("a", "v1.0.0", "", ModHash));
        Assert.Throws<ArgumentException>(() => GoSumRecord.Format([]));
    }

    [Fact]
    public void SelectLines_AsTheGoClient()
    {
        // client_test.go: a record with several lines for one version.
        const string record = "rsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=\nrsc.io/quote v1.5.2/go.mod h1:LzX7hefJvL54yjefDEDHNONDjII0t6dA3Ae+j7z53jA=\nrsc.io/quote v1.5.2 h2:xyzzy\n";
        Assert.Equal(["rsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=", "rsc.io/quote v1.5.2 h2:xyzzy"],
            GoSumRecord.SelectLines(record, "rsc.io/quote", "v1.5.2"));
        Assert.Equal(["rsc.io/quote v1.5.2/go.mod h1:LzX7hefJvL54yjefDEDHNONDjII0t6dA3Ae+j7z53jA="],
            GoSumRecord.SelectLines(record, "rsc.io/quote", "v1.5.2/go.mod"));
        Assert.Empty(GoSumRecord.SelectLines(record, "rsc.io/quote", "v1.5"));
        Assert.Empty(GoSumRecord.SelectLines(record, "rsc.io/Quote", "v1.5.2"));
    }

    [Theory]
    [InlineData("rsc.io/sampler", "v1.3.0", "lookup/rsc.io/sampler@v1.3.0")]
    [InlineData("rsc.io/sampler", "v1.3.0/go.mod", "lookup/rsc.io/sampler@v1.3.0")]
    [InlineData("rsc.io/Quote", "v1.5.2", "lookup/rsc.io/!quote@v1.5.2")]
    [InlineData("github.com/Azure/azure-sdk-for-go", "v1.0.0-RC1", "lookup/github.com/!azure/azure-sdk-for-go@v1.0.0-!r!c1")]
    public void LookupPath_EscapesAsGo(string path, string version, string want) =>
        Assert.Equal(want, SumDbProtocol.LookupPath(path, version));

    [Fact]
    public void LookupPath_RejectsInvalid()
    {
        Assert.Throws<ArgumentException>(() => SumDbProtocol.LookupPath("not a path", "v1.0.0"));
        Assert.Throws<ArgumentException>(() => SumDbProtocol.LookupPath("rsc.io/x", "v1!0"));
    }

    [Fact]
    public void LookupResponse_RoundTrips()
    {
        var record = GoSumRecord.FormatBytes("rsc.io/sampler", "v1.3.0", ZipHash, ModHash);
        var signed = new TreeHead(3, Tlog.RecordHash("x"u8)).Sign(NoteSigner.Parse(GoGolden.ServerSignerKey));
        var body = SumDbProtocol.FormatLookupResponse(2, record, signed);
        var parsed = SumDbProtocol.ParseLookupResponse(body);
        Assert.Equal(2, parsed.RecordId);
        Assert.Equal(record, parsed.RecordText.ToArray());
        Assert.Equal(signed, parsed.SignedTree.ToArray());
        Assert.StartsWith("2\nrsc.io/sampler v1.3.0 ", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => SumDbProtocol.ParseLookupResponse("2\nno blank line\n"u8.ToArray()));
    }

    [Fact]
    public void DataTile_RequiresWidthRecords()
    {
        var tile = Tile.ParsePath("tile/2/data/001.p/2");
        var records = new List<byte[]> { "a\n"u8.ToArray(), "b\n"u8.ToArray() };
        Assert.Equal("4\na\n\n5\nb\n\n"u8.ToArray(), SumDbProtocol.FormatDataTile(tile, records));
        Assert.Throws<ArgumentException>(() => SumDbProtocol.FormatDataTile(tile, records[..1]));
        Assert.Throws<ArgumentException>(() => SumDbProtocol.FormatDataTile(tile with { Level = 0 }, records));
    }

    [Fact]
    public void A_record_gives_the_zip_and_go_mod_hashes_of_its_module_version_or_says_what_is_wrong()
    {
        const string Zip = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        const string Mod = "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=";
        var text = GoSumRecord.Format("example.com/m", "v1.0.0", Zip, Mod);
        Assert.True(GoSumRecord.TryFindHashes(text, "example.com/m", "v1.0.0", out var zip, out var mod, out _));
        Assert.Equal((Zip, Mod), (zip, mod));

        Assert.True(GoSumRecord.TryFindHashes(text, "example.com/other", "v1.0.0", out zip, out mod, out _));
        Assert.Equal((null, null), (zip, mod));

        var conflicting = text + $"example.com/m v1.0.0/go.mod {Zip}\n";
        Assert.False(GoSumRecord.TryFindHashes(conflicting, "example.com/m", "v1.0.0", out _, out _, out var error));
        Assert.Equal("record has conflicting go.mod hashes", error);
        Assert.False(GoSumRecord.TryFindHashes("two fields\n", "example.com/m", "v1.0.0", out _, out _, out error));
        Assert.StartsWith("malformed record: ", error, StringComparison.Ordinal);
    }
}
