using System.Globalization;
using Warren.Core.Modules;

namespace Warren.Core.Tests;

public class PseudoVersionTests
{
    private static readonly DateTimeOffset[] BuildTimes =
    [
        new(2006, 1, 2, 15, 4, 5, TimeSpan.Zero),
        new(2019, 12, 31, 23, 59, 59, TimeSpan.FromHours(-7)),
        new(1, 1, 1, 0, 0, 0, TimeSpan.Zero),
        new(2024, 2, 29, 8, 0, 1, new TimeSpan(5, 30, 0)),
    ];

    [Theory]
    [MemberData(nameof(GoldenParse))]
    public void Parse_MatchesGo(string v, bool isPseudo, string? time, string? timeError, string? rev, string? baseVersion, string? baseError, string? check, bool isZero)
    {
        Assert.Equal(isPseudo, PseudoVersion.IsPseudoVersion(v));
        Assert.Equal(rev, PseudoVersion.Rev(v));
        Assert.Equal(baseVersion, PseudoVersion.Base(v));
        Assert.Equal(check, PseudoVersion.Check(v)?.Message);
        Assert.Equal(isZero, PseudoVersion.IsZeroPseudoVersion(v));

        bool ok = PseudoVersion.TryGetBase(v, out var b, out var error);
        Assert.Equal(baseVersion is not null, ok);
        Assert.Equal(baseVersion ?? "", b);
        Assert.Equal(baseError, error);

        // Go's time.Time reaches year 0000; DateTimeOffset does not, so Time is null there.
        var actual = PseudoVersion.Time(v);
        if (time is null || time.StartsWith("0000", StringComparison.Ordinal))
        {
            Assert.Null(actual);
        }
        else
        {
            Assert.Equal(DateTimeOffset.Parse(time, CultureInfo.InvariantCulture), actual);
            Assert.Equal(TimeSpan.Zero, actual!.Value.Offset);
        }

        Assert.Equal(timeError is null && isPseudo, time is not null);
        Assert.Equal(isPseudo, PseudoVersion.Timestamp(v) is not null);
    }

    [Theory]
    [MemberData(nameof(GoldenBuild))]
    public void Build_MatchesGo(string major, string older, int timeIndex, string rev, string expected)
    {
        string v = PseudoVersion.Build(major, older, BuildTimes[timeIndex], rev);
        Assert.Equal(expected, v);
        Assert.True(PseudoVersion.IsPseudoVersion(v));
        Assert.Equal(rev, PseudoVersion.Rev(v));
        Assert.Equal(BuildTimes[timeIndex], PseudoVersion.Time(v));
    }

    [Theory]
    [MemberData(nameof(GoldenZero))]
    public void Zero_MatchesGo(string major, string expected)
    {
        Assert.Equal(expected, PseudoVersion.Zero(major));
        Assert.True(PseudoVersion.IsZeroPseudoVersion(expected));
    }

    // From golang.org/x/mod/module/pseudo_test.go: Build(major, older) with rev "hash", and its inverse Base.
    [Theory]
    [InlineData("", "", "v0.0.0-20060102150405-hash")]
    [InlineData("v0", "", "v0.0.0-20060102150405-hash")]
    [InlineData("v1", "", "v1.0.0-20060102150405-hash")]
    [InlineData("v2", "", "v2.0.0-20060102150405-hash")]
    [InlineData("unused", "v0.0.0", "v0.0.1-0.20060102150405-hash")]
    [InlineData("unused", "v1.2.3", "v1.2.4-0.20060102150405-hash")]
    [InlineData("unused", "v1.2.99999999999999999", "v1.2.100000000000000000-0.20060102150405-hash")]
    [InlineData("unused", "v1.2.3-pre", "v1.2.3-pre.0.20060102150405-hash")]
    [InlineData("unused", "v1.3.0-pre", "v1.3.0-pre.0.20060102150405-hash")]
    [InlineData("unused", "v0.0.0--", "v0.0.0--.0.20060102150405-hash")]
    [InlineData("unused", "v1.0.0+metadata", "v1.0.1-0.20060102150405-hash+metadata")]
    [InlineData("unused", "v2.0.0+incompatible", "v2.0.1-0.20060102150405-hash+incompatible")]
    [InlineData("unused", "v2.3.0-pre+incompatible", "v2.3.0-pre.0.20060102150405-hash+incompatible")]
    public void Build_GoTable(string major, string older, string version)
    {
        Assert.Equal(version, PseudoVersion.Build(major, older, BuildTimes[0], "hash"));
        Assert.True(PseudoVersion.IsPseudoVersion(version));
        Assert.False(PseudoVersion.IsPseudoVersion(older));
        Assert.Equal(older, PseudoVersion.Base(version));
        Assert.Equal("hash", PseudoVersion.Rev(version));
        Assert.Null(PseudoVersion.Rev(older));
        Assert.Null(PseudoVersion.Time(older));
        Assert.Equal(BuildTimes[0], PseudoVersion.Time(version));
    }

    [Fact]
    public void Build_CarriesIncrementAcrossDigits()
    {
        var t = BuildTimes[0];
        Assert.Equal("v1.2.10-0.20060102150405-r", PseudoVersion.Build("v1", "v1.2.9", t, "r"));
        Assert.Equal("v1.2.100-0.20060102150405-r", PseudoVersion.Build("v1", "v1.2.99", t, "r"));
        Assert.Equal("v1.2.200-0.20060102150405-r", PseudoVersion.Build("v1", "v1.2.199", t, "r"));
        string longPatch = new('9', 100);
        Assert.Equal("v1.2.1" + new string('0', 100) + "-0.20060102150405-r", PseudoVersion.Build("v1", "v1.2." + longPatch, t, "r"));
        Assert.Equal("v1.2." + longPatch, PseudoVersion.Base("v1.2.1" + new string('0', 100) + "-0.20060102150405-r"));
    }

    [Fact]
    public void Year0000_IsValidButHasNoDateTimeOffset()
    {
        const string v = "v0.0.0-00000101000000-abcdef123456";
        Assert.True(PseudoVersion.IsPseudoVersion(v));
        Assert.Null(PseudoVersion.Check(v));
        Assert.Null(PseudoVersion.Time(v));
        Assert.Equal("00000101000000", PseudoVersion.Timestamp(v));
    }

    [Theory]
    [InlineData("v1.2.3", PseudoVersionErrorKind.Syntax, "syntax error")]
    [InlineData("v0.0.0-20200230000000-abcdef123456", PseudoVersionErrorKind.MalformedTime, "malformed time \"20200230000000\"")]
    [InlineData("v0.0.0-20200101235960-abcdef123456+incompatible", PseudoVersionErrorKind.MalformedTime, "malformed time \"20200101235960\"")]
    [InlineData("v1.0.0-20060102150405-abcdef123456+build", PseudoVersionErrorKind.BuildMetadataWithoutBase, "lacks base version, but has build metadata \"+build\"")]
    [InlineData("v0.0.0-0.20060102150405-hash", PseudoVersionErrorKind.NegativePatch, "version before v0.0.0 would have negative patch number")]
    public void Check_SaysWhatKindOfProblemItFound(string v, PseudoVersionErrorKind kind, string message)
    {
        Assert.Equal(new PseudoVersionError(kind, message), PseudoVersion.Check(v));
    }

    [Fact]
    public void Null_IsNotAPseudoVersion()
    {
        Assert.False(PseudoVersion.IsPseudoVersion(null!));
        Assert.Equal(new PseudoVersionError(PseudoVersionErrorKind.Syntax, "syntax error"), PseudoVersion.Check(null!));
        Assert.False(PseudoVersion.IsZeroPseudoVersion(null!));
    }

    // Golden values below were produced by golang.org/x/mod/module (Go 1.19).
    // Columns: v, IsPseudoVersion, PseudoVersionTime (RFC 3339) or its error, PseudoVersionRev, PseudoVersionBase or its error,
    // first failure among syntax/time/base, IsZeroPseudoVersion.

    public static TheoryData<string, bool, string?, string?, string?, string?, string?, string?, bool> GoldenParse => new()
    {
        { "v0.0.0-20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "", null, null, false },
        { "v1.0.0-20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "", null, null, false },
        { "v2.0.0-20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "", null, null, false },
        { "v0.0.1-0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v0.0.0", null, null, false },
        { "v1.2.4-0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.3", null, null, false },
        { "v1.2.100000000000000000-0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.99999999999999999", null, null, false },
        { "v1.2.3-pre.0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.3-pre", null, null, false },
        { "v1.3.0-pre.0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.3.0-pre", null, null, false },
        { "v0.0.0--.0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v0.0.0--", null, null, false },
        { "v1.0.1-0.20060102150405-hash+metadata", true, "2006-01-02T15:04:05Z", null, "hash", "v1.0.0+metadata", null, null, false },
        { "v2.0.1-0.20060102150405-hash+incompatible", true, "2006-01-02T15:04:05Z", null, "hash", "v2.0.0+incompatible", null, null, false },
        { "v2.3.0-pre.0.20060102150405-hash+incompatible", true, "2006-01-02T15:04:05Z", null, "hash", "v2.3.0-pre+incompatible", null, null, false },
        { "v0.0.0-20191109021931-daa7c04131f5", true, "2019-11-09T02:19:31Z", null, "daa7c04131f5", "", null, null, false },
        { "v0.0.0-20190510104115-cbcb75029529", true, "2019-05-10T10:41:15Z", null, "cbcb75029529", "", null, null, false },
        { "v1.5.1-0.20201125134114-5d4b5ac0e3a4", true, "2020-11-25T13:41:14Z", null, "5d4b5ac0e3a4", "v1.5.0", null, null, false },
        { "v2.2.8-0.20200121130101-8d6d0d7e7d35+incompatible", true, "2020-01-21T13:01:01Z", null, "8d6d0d7e7d35", "v2.2.7+incompatible", null, null, false },
        { "v0.0.0-00010101000000-000000000000", true, "0001-01-01T00:00:00Z", null, "000000000000", "", null, null, true },
        { "v1.0.0-00010101000000-000000000000", true, "0001-01-01T00:00:00Z", null, "000000000000", "", null, null, true },
        { "v2.0.0-00010101000000-000000000000", true, "0001-01-01T00:00:00Z", null, "000000000000", "", null, null, true },
        { "v0.0.0-00010101000000-000000000001", true, "0001-01-01T00:00:00Z", null, "000000000001", "", null, null, false },
        { "v0.0.0-00010101000001-000000000000", true, "0001-01-01T00:00:01Z", null, "000000000000", "", null, null, false },
        { "v0.1.0-00010101000000-000000000000", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v0.0.0-00000101000000-000000000000", true, "0000-01-01T00:00:00Z", null, "000000000000", "", null, null, false },
        { "v0.0.0-20200230000000-abcdef123456", true, null, "malformed time \"20200230000000\"", "abcdef123456", "", null, "malformed time \"20200230000000\"", false },
        { "v0.0.0-20200229000000-abcdef123456", true, "2020-02-29T00:00:00Z", null, "abcdef123456", "", null, null, false },
        { "v0.0.0-21000229000000-abcdef123456", true, null, "malformed time \"21000229000000\"", "abcdef123456", "", null, "malformed time \"21000229000000\"", false },
        { "v0.0.0-20000229000000-abcdef123456", true, "2000-02-29T00:00:00Z", null, "abcdef123456", "", null, null, false },
        { "v0.0.0-20201301000000-abcdef123456", true, null, "malformed time \"20201301000000\"", "abcdef123456", "", null, "malformed time \"20201301000000\"", false },
        { "v0.0.0-20200001000000-abcdef123456", true, null, "malformed time \"20200001000000\"", "abcdef123456", "", null, "malformed time \"20200001000000\"", false },
        { "v0.0.0-20200100000000-abcdef123456", true, null, "malformed time \"20200100000000\"", "abcdef123456", "", null, "malformed time \"20200100000000\"", false },
        { "v0.0.0-20200101240000-abcdef123456", true, null, "malformed time \"20200101240000\"", "abcdef123456", "", null, "malformed time \"20200101240000\"", false },
        { "v0.0.0-20200101236000-abcdef123456", true, null, "malformed time \"20200101236000\"", "abcdef123456", "", null, "malformed time \"20200101236000\"", false },
        { "v0.0.0-20200101235960-abcdef123456", true, null, "malformed time \"20200101235960\"", "abcdef123456", "", null, "malformed time \"20200101235960\"", false },
        { "v0.0.0-20200431000000-abcdef123456", true, null, "malformed time \"20200431000000\"", "abcdef123456", "", null, "malformed time \"20200431000000\"", false },
        { "v0.0.0-20191231235959-abcdef123456", true, "2019-12-31T23:59:59Z", null, "abcdef123456", "", null, null, false },
        { "v0.0.0-0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", null, "version before v0.0.0 would have negative patch number", "version before v0.0.0 would have negative patch number", false },
        { "v0.1.0-0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", null, "version before v0.1.0 would have negative patch number", "version before v0.1.0 would have negative patch number", false },
        { "v1.0.0-0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", null, "version before v1.0.0 would have negative patch number", "version before v1.0.0 would have negative patch number", false },
        { "v1.10.0-0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", null, "version before v1.10.0 would have negative patch number", "version before v1.10.0 would have negative patch number", false },
        { "v1.2.10-0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.9", null, null, false },
        { "v1.2.100-0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.99", null, null, false },
        { "v0.0.0-20060102150405-hash+incompatible", true, "2006-01-02T15:04:05Z", null, "hash", null, "lacks base version, but has build metadata \"+incompatible\"", "lacks base version, but has build metadata \"+incompatible\"", false },
        { "v0.0.0-20060102150405-hash+metadata", true, "2006-01-02T15:04:05Z", null, "hash", null, "lacks base version, but has build metadata \"+metadata\"", "lacks base version, but has build metadata \"+metadata\"", false },
        { "v0.0.0-", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v0.0.0", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-2006010215040-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-200601021504050-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-20060102150405-", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-20060102150405-ha-sh", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-20060102150405-ha.sh", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-20060102150405-HASH", true, "2006-01-02T15:04:05Z", null, "HASH", "", null, null, false },
        { "v1.0.0-x20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-0x20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-pre.10.20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-pre0.20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-pre.00.20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-pre.0.20060102150405-hash.x", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-pre.x.0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.3-pre.x", null, null, false },
        { "v1.2.3-a.b.c.0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.3-a.b.c", null, null, false },
        { "v1.2.3-a-b.0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.3-a-b", null, null, false },
        { "v1.2.3-0.0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.3-0", null, null, false },
        { "v1.2.3-1.0.20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.3-1", null, null, false },
        { "v1.2.3-0.20060102150405-hash+meta.data", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.2+meta.data", null, null, false },
        { "v1.2.3-0.20060102150405-hash+incompatible", true, "2006-01-02T15:04:05Z", null, "hash", "v1.2.2+incompatible", null, null, false },
        { "v1.0.0-20060102150405-hash+incompatible", true, "2006-01-02T15:04:05Z", null, "hash", null, "lacks base version, but has build metadata \"+incompatible\"", "lacks base version, but has build metadata \"+incompatible\"", false },
        { "v1.0.0-20060102150405-abcdef1234567890abcdef1234567890abcdef12", true, "2006-01-02T15:04:05Z", null, "abcdef1234567890abcdef1234567890abcdef12", "", null, null, false },
        { "v1-20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0-0.20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v10.0.0-20060102150405-hash", true, "2006-01-02T15:04:05Z", null, "hash", "", null, null, false },
        { "v1.1.0-20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.1-20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v01.0.0-20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-020060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0.0-20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "x1.0.0-20060102150405-hash", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "---", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v0.0.0-20060102150405-hash-", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v0.0.0-00000000000000-hash", true, null, "malformed time \"00000000000000\"", "hash", "", null, "malformed time \"00000000000000\"", false },
        { "v0.0.0-99991231235959-hash", true, "9999-12-31T23:59:59Z", null, "hash", "", null, null, false },
        { "v0.0.0-99999999999999-hash", true, null, "malformed time \"99999999999999\"", "hash", "", null, "malformed time \"99999999999999\"", false },
        { "", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "bad", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "V1.0.0", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "1.0.0", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1-alpha.beta.gamma", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1-pre", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1+meta", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1-pre+meta", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2-pre", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2+meta", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2-pre+meta", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-alpha", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-alpha.1", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-alpha.beta", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-beta", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-beta.2", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-beta.11", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0-rc.1", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.0", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-456", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-456.789", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-456-789", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-456a", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-pre", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-pre+meta", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-pre.1", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-zzz", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3+meta", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3+meta-pre", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3+meta-pre.sha.256a", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v0", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v0.0", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v00", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v01.2.3", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.02.3", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.03", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3.4", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3+", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-01", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-0", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-00a", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-a.01", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-a..b", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-a.", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-.a", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3+a..b", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3+01", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3+a.", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-a_b", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-a+b+c", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3+a+b", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-\u00E9", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3 ", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { " v1.2.3", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1..2", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v2.0.0+incompatible", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v2.0.0-pre+incompatible", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v2+incompatible", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v2.0+incompatible", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v2.0.0+Incompatible", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v2.0.0+incompatible.1", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v18446744073709551616.0.0", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v99999999999999999999.99999999999999999999.99999999999999999999", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "latest", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "master", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "upgrade", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3!", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3~", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3~1", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-Pre", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.2.3-PRE+BUILD", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v\u00E9", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "con", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
        { "v1.0.0/go.mod", false, null, "syntax error", null, null, "syntax error", "syntax error", false },
    };

    /// <summary>module.PseudoVersion(major, older, BuildTimes[i], rev).</summary>
    public static TheoryData<string, string, int, string, string> GoldenBuild => new()
    {
        { "", "", 0, "abcdef123456", "v0.0.0-20060102150405-abcdef123456" },
        { "", "", 1, "abcdef123456", "v0.0.0-20200101065959-abcdef123456" },
        { "", "", 2, "abcdef123456", "v0.0.0-00010101000000-abcdef123456" },
        { "", "", 3, "abcdef123456", "v0.0.0-20240229023001-abcdef123456" },
        { "", "bad", 0, "abcdef123456", "v0.0.0-20060102150405-abcdef123456" },
        { "", "bad", 1, "abcdef123456", "v0.0.0-20200101065959-abcdef123456" },
        { "", "bad", 2, "abcdef123456", "v0.0.0-00010101000000-abcdef123456" },
        { "", "bad", 3, "abcdef123456", "v0.0.0-20240229023001-abcdef123456" },
        { "v0", "", 0, "abcdef123456", "v0.0.0-20060102150405-abcdef123456" },
        { "v0", "", 1, "abcdef123456", "v0.0.0-20200101065959-abcdef123456" },
        { "v0", "", 2, "abcdef123456", "v0.0.0-00010101000000-abcdef123456" },
        { "v0", "", 3, "abcdef123456", "v0.0.0-20240229023001-abcdef123456" },
        { "v0", "bad", 0, "abcdef123456", "v0.0.0-20060102150405-abcdef123456" },
        { "v0", "bad", 1, "abcdef123456", "v0.0.0-20200101065959-abcdef123456" },
        { "v0", "bad", 2, "abcdef123456", "v0.0.0-00010101000000-abcdef123456" },
        { "v0", "bad", 3, "abcdef123456", "v0.0.0-20240229023001-abcdef123456" },
        { "v1", "", 0, "abcdef123456", "v1.0.0-20060102150405-abcdef123456" },
        { "v1", "", 1, "abcdef123456", "v1.0.0-20200101065959-abcdef123456" },
        { "v1", "", 2, "abcdef123456", "v1.0.0-00010101000000-abcdef123456" },
        { "v1", "", 3, "abcdef123456", "v1.0.0-20240229023001-abcdef123456" },
        { "v1", "v0.0.0", 0, "abcdef123456", "v0.0.1-0.20060102150405-abcdef123456" },
        { "v1", "v0.0.0", 1, "abcdef123456", "v0.0.1-0.20200101065959-abcdef123456" },
        { "v1", "v0.0.0", 2, "abcdef123456", "v0.0.1-0.00010101000000-abcdef123456" },
        { "v1", "v0.0.0", 3, "abcdef123456", "v0.0.1-0.20240229023001-abcdef123456" },
        { "v1", "v1.2.3", 0, "abcdef123456", "v1.2.4-0.20060102150405-abcdef123456" },
        { "v1", "v1.2.3", 1, "abcdef123456", "v1.2.4-0.20200101065959-abcdef123456" },
        { "v1", "v1.2.3", 2, "abcdef123456", "v1.2.4-0.00010101000000-abcdef123456" },
        { "v1", "v1.2.3", 3, "abcdef123456", "v1.2.4-0.20240229023001-abcdef123456" },
        { "v1", "v1.2.99999999999999999", 0, "abcdef123456", "v1.2.100000000000000000-0.20060102150405-abcdef123456" },
        { "v1", "v1.2.99999999999999999", 1, "abcdef123456", "v1.2.100000000000000000-0.20200101065959-abcdef123456" },
        { "v1", "v1.2.99999999999999999", 2, "abcdef123456", "v1.2.100000000000000000-0.00010101000000-abcdef123456" },
        { "v1", "v1.2.99999999999999999", 3, "abcdef123456", "v1.2.100000000000000000-0.20240229023001-abcdef123456" },
        { "v1", "v1.2.9", 0, "abcdef123456", "v1.2.10-0.20060102150405-abcdef123456" },
        { "v1", "v1.2.9", 1, "abcdef123456", "v1.2.10-0.20200101065959-abcdef123456" },
        { "v1", "v1.2.9", 2, "abcdef123456", "v1.2.10-0.00010101000000-abcdef123456" },
        { "v1", "v1.2.9", 3, "abcdef123456", "v1.2.10-0.20240229023001-abcdef123456" },
        { "v1", "v1.2.19", 0, "abcdef123456", "v1.2.20-0.20060102150405-abcdef123456" },
        { "v1", "v1.2.19", 1, "abcdef123456", "v1.2.20-0.20200101065959-abcdef123456" },
        { "v1", "v1.2.19", 2, "abcdef123456", "v1.2.20-0.00010101000000-abcdef123456" },
        { "v1", "v1.2.19", 3, "abcdef123456", "v1.2.20-0.20240229023001-abcdef123456" },
        { "v1", "v1.2.3-pre", 0, "abcdef123456", "v1.2.3-pre.0.20060102150405-abcdef123456" },
        { "v1", "v1.2.3-pre", 1, "abcdef123456", "v1.2.3-pre.0.20200101065959-abcdef123456" },
        { "v1", "v1.2.3-pre", 2, "abcdef123456", "v1.2.3-pre.0.00010101000000-abcdef123456" },
        { "v1", "v1.2.3-pre", 3, "abcdef123456", "v1.2.3-pre.0.20240229023001-abcdef123456" },
        { "v1", "v1.3.0-pre", 0, "abcdef123456", "v1.3.0-pre.0.20060102150405-abcdef123456" },
        { "v1", "v1.3.0-pre", 1, "abcdef123456", "v1.3.0-pre.0.20200101065959-abcdef123456" },
        { "v1", "v1.3.0-pre", 2, "abcdef123456", "v1.3.0-pre.0.00010101000000-abcdef123456" },
        { "v1", "v1.3.0-pre", 3, "abcdef123456", "v1.3.0-pre.0.20240229023001-abcdef123456" },
        { "v1", "v0.0.0--", 0, "abcdef123456", "v0.0.0--.0.20060102150405-abcdef123456" },
        { "v1", "v0.0.0--", 1, "abcdef123456", "v0.0.0--.0.20200101065959-abcdef123456" },
        { "v1", "v0.0.0--", 2, "abcdef123456", "v0.0.0--.0.00010101000000-abcdef123456" },
        { "v1", "v0.0.0--", 3, "abcdef123456", "v0.0.0--.0.20240229023001-abcdef123456" },
        { "v1", "v1.0.0+metadata", 0, "abcdef123456", "v1.0.1-0.20060102150405-abcdef123456+metadata" },
        { "v1", "v1.0.0+metadata", 1, "abcdef123456", "v1.0.1-0.20200101065959-abcdef123456+metadata" },
        { "v1", "v1.0.0+metadata", 2, "abcdef123456", "v1.0.1-0.00010101000000-abcdef123456+metadata" },
        { "v1", "v1.0.0+metadata", 3, "abcdef123456", "v1.0.1-0.20240229023001-abcdef123456+metadata" },
        { "v1", "v2.0.0+incompatible", 0, "abcdef123456", "v2.0.1-0.20060102150405-abcdef123456+incompatible" },
        { "v1", "v2.0.0+incompatible", 1, "abcdef123456", "v2.0.1-0.20200101065959-abcdef123456+incompatible" },
        { "v1", "v2.0.0+incompatible", 2, "abcdef123456", "v2.0.1-0.00010101000000-abcdef123456+incompatible" },
        { "v1", "v2.0.0+incompatible", 3, "abcdef123456", "v2.0.1-0.20240229023001-abcdef123456+incompatible" },
        { "v1", "v2.3.0-pre+incompatible", 0, "abcdef123456", "v2.3.0-pre.0.20060102150405-abcdef123456+incompatible" },
        { "v1", "v2.3.0-pre+incompatible", 1, "abcdef123456", "v2.3.0-pre.0.20200101065959-abcdef123456+incompatible" },
        { "v1", "v2.3.0-pre+incompatible", 2, "abcdef123456", "v2.3.0-pre.0.00010101000000-abcdef123456+incompatible" },
        { "v1", "v2.3.0-pre+incompatible", 3, "abcdef123456", "v2.3.0-pre.0.20240229023001-abcdef123456+incompatible" },
        { "v1", "v1.2", 0, "abcdef123456", "v1.2.1-0.20060102150405-abcdef123456" },
        { "v1", "v1.2", 1, "abcdef123456", "v1.2.1-0.20200101065959-abcdef123456" },
        { "v1", "v1.2", 2, "abcdef123456", "v1.2.1-0.00010101000000-abcdef123456" },
        { "v1", "v1.2", 3, "abcdef123456", "v1.2.1-0.20240229023001-abcdef123456" },
        { "v1", "v1", 0, "abcdef123456", "v1.0.1-0.20060102150405-abcdef123456" },
        { "v1", "v1", 1, "abcdef123456", "v1.0.1-0.20200101065959-abcdef123456" },
        { "v1", "v1", 2, "abcdef123456", "v1.0.1-0.00010101000000-abcdef123456" },
        { "v1", "v1", 3, "abcdef123456", "v1.0.1-0.20240229023001-abcdef123456" },
        { "v1", "v1.2.3-pre.0.20060102150405-hash", 0, "abcdef123456", "v1.2.3-pre.0.20060102150405-hash.0.20060102150405-abcdef123456" },
        { "v1", "v1.2.3-pre.0.20060102150405-hash", 1, "abcdef123456", "v1.2.3-pre.0.20060102150405-hash.0.20200101065959-abcdef123456" },
        { "v1", "v1.2.3-pre.0.20060102150405-hash", 2, "abcdef123456", "v1.2.3-pre.0.20060102150405-hash.0.00010101000000-abcdef123456" },
        { "v1", "v1.2.3-pre.0.20060102150405-hash", 3, "abcdef123456", "v1.2.3-pre.0.20060102150405-hash.0.20240229023001-abcdef123456" },
        { "v1", "bad", 0, "abcdef123456", "v1.0.0-20060102150405-abcdef123456" },
        { "v1", "bad", 1, "abcdef123456", "v1.0.0-20200101065959-abcdef123456" },
        { "v1", "bad", 2, "abcdef123456", "v1.0.0-00010101000000-abcdef123456" },
        { "v1", "bad", 3, "abcdef123456", "v1.0.0-20240229023001-abcdef123456" },
        { "v1", "v1.2.3+a.b", 0, "abcdef123456", "v1.2.4-0.20060102150405-abcdef123456+a.b" },
        { "v1", "v1.2.3+a.b", 1, "abcdef123456", "v1.2.4-0.20200101065959-abcdef123456+a.b" },
        { "v1", "v1.2.3+a.b", 2, "abcdef123456", "v1.2.4-0.00010101000000-abcdef123456+a.b" },
        { "v1", "v1.2.3+a.b", 3, "abcdef123456", "v1.2.4-0.20240229023001-abcdef123456+a.b" },
        { "v2", "", 0, "abcdef123456", "v2.0.0-20060102150405-abcdef123456" },
        { "v2", "", 1, "abcdef123456", "v2.0.0-20200101065959-abcdef123456" },
        { "v2", "", 2, "abcdef123456", "v2.0.0-00010101000000-abcdef123456" },
        { "v2", "", 3, "abcdef123456", "v2.0.0-20240229023001-abcdef123456" },
        { "v2", "bad", 0, "abcdef123456", "v2.0.0-20060102150405-abcdef123456" },
        { "v2", "bad", 1, "abcdef123456", "v2.0.0-20200101065959-abcdef123456" },
        { "v2", "bad", 2, "abcdef123456", "v2.0.0-00010101000000-abcdef123456" },
        { "v2", "bad", 3, "abcdef123456", "v2.0.0-20240229023001-abcdef123456" },
        { "v17", "", 0, "abcdef123456", "v17.0.0-20060102150405-abcdef123456" },
        { "v17", "", 1, "abcdef123456", "v17.0.0-20200101065959-abcdef123456" },
        { "v17", "", 2, "abcdef123456", "v17.0.0-00010101000000-abcdef123456" },
        { "v17", "", 3, "abcdef123456", "v17.0.0-20240229023001-abcdef123456" },
        { "v17", "bad", 0, "abcdef123456", "v17.0.0-20060102150405-abcdef123456" },
        { "v17", "bad", 1, "abcdef123456", "v17.0.0-20200101065959-abcdef123456" },
        { "v17", "bad", 2, "abcdef123456", "v17.0.0-00010101000000-abcdef123456" },
        { "v17", "bad", 3, "abcdef123456", "v17.0.0-20240229023001-abcdef123456" },
    };

    public static TheoryData<string, string> GoldenZero => new()
    {
        { "", "v0.0.0-00010101000000-000000000000" },
        { "v0", "v0.0.0-00010101000000-000000000000" },
        { "v1", "v1.0.0-00010101000000-000000000000" },
        { "v2", "v2.0.0-00010101000000-000000000000" },
        { "v17", "v17.0.0-00010101000000-000000000000" },
    };
}
