using Warren.Core.Modules;

namespace Warren.Core.Tests;

public class SemVerTests
{
    [Theory]
    [MemberData(nameof(GoldenParts))]
    public void Parts_MatchGo(string v, bool valid, string canonical, string moduleCanonical, string major, string majorMinor, string prerelease, string build)
    {
        Assert.Equal(valid, SemVer.IsValid(v));
        Assert.Equal(valid, SemVer.IsValid(v.AsSpan()));
        Assert.Equal(canonical, SemVer.CanonicalWithoutBuild(v));
        Assert.Equal(moduleCanonical, SemVer.Canonical(v));
        Assert.Equal(major, SemVer.Major(v));
        Assert.Equal(majorMinor, SemVer.MajorMinor(v));
        Assert.Equal(prerelease, SemVer.Prerelease(v));
        Assert.Equal(build, SemVer.Build(v));
        Assert.Equal(build == "+incompatible", SemVer.IsIncompatible(v));
    }

    [Theory]
    [MemberData(nameof(GoldenCompare))]
    public void Compare_MatchesGo(string v, string row)
    {
        Assert.Equal(CompareList.Length, row.Length);
        for (int j = 0; j < CompareList.Length; j++)
        {
            int want = row[j] switch
            {
                '<' => -1,
                '=' => 0,
                _ => 1,
            };
            Assert.True(want == SemVer.Compare(v, CompareList[j]), $"Compare({v}, {CompareList[j]}) should be {want}");
            Assert.Equal(want, SemVer.Compare(v.AsSpan(), CompareList[j].AsSpan()));
            Assert.Equal(want, Math.Sign(SemVer.Comparer.Compare(v, CompareList[j])));
        }
    }

    [Fact]
    public void Sort_MatchesGo()
    {
        var array = (string[])CompareList.Clone();
        Array.Reverse(array);
        SemVer.Sort(array.AsSpan());
        Assert.Equal(GoldenSorted, array);

        var list = new List<string>(CompareList);
        list.Reverse();
        SemVer.Sort(list);
        Assert.Equal(GoldenSorted, list);

        var ordered = CompareList.Reverse().Order(SemVer.SortComparer).ToArray();
        Assert.Equal(GoldenSorted, ordered);
    }

    [Theory]
    [MemberData(nameof(GoldenMax))]
    public void Max_MatchesGo(string v, string w, string max)
    {
        Assert.Equal(max, SemVer.Max(v, w));
    }

    [Theory]
    [InlineData("v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta", "v1.0.0-beta.2", "v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0")]
    [InlineData("v0.0.0-20060102150405-hash", "v0.0.0", "v0.0.1-0.20060102150405-hash", "v0.0.1", "v1.2.3", "v1.2.10", "v1.10.0", "v2.0.0")]
    public void Compare_FollowsSemVerPrecedence(params string[] ascending)
    {
        for (int i = 0; i < ascending.Length; i++)
        {
            for (int j = 0; j < ascending.Length; j++)
            {
                Assert.Equal(i.CompareTo(j), SemVer.Compare(ascending[i], ascending[j]));
            }
        }
    }

    [Fact]
    public void Canonical_KeepsIncompatibleOnly()
    {
        Assert.Equal("v2.0.0+incompatible", SemVer.Canonical("v2.0.0+incompatible"));
        Assert.Equal("v2.0.0", SemVer.CanonicalWithoutBuild("v2.0.0+incompatible"));
        Assert.Equal("v2.0.0", SemVer.Canonical("v2.0.0+build"));
        Assert.Equal("v1.0.0", SemVer.Canonical("v1"));
    }

    [Fact]
    public void Nulls_AreInvalid()
    {
        Assert.False(SemVer.IsValid((string)null!));
        Assert.Equal("", SemVer.Canonical(null!));
        Assert.Equal("", SemVer.Major(null!));
        Assert.Equal(0, SemVer.Compare((string)null!, "bad"));
        Assert.Equal(-1, SemVer.Compare((string)null!, "v1"));
    }

    [Fact]
    public void Accessors_ReuseInputWhenWhole()
    {
        const string v = "v1.2.3";
        Assert.Same(v, SemVer.Canonical(v));
        const string m = "v7";
        Assert.Same(m, SemVer.Major(m));
    }

    // Golden values below were produced by golang.org/x/mod/semver (Go 1.19).
    // Columns: v, IsValid, semver.Canonical, module.CanonicalVersion, Major, MajorMinor, Prerelease, Build.

    public static TheoryData<string, bool, string, string, string, string, string, string> GoldenParts => new()
    {
        { "", false, "", "", "", "", "", "" },
        { "bad", false, "", "", "", "", "", "" },
        { "v", false, "", "", "", "", "", "" },
        { "V1.0.0", false, "", "", "", "", "", "" },
        { "1.0.0", false, "", "", "", "", "", "" },
        { "v1-alpha.beta.gamma", false, "", "", "", "", "", "" },
        { "v1-pre", false, "", "", "", "", "", "" },
        { "v1+meta", false, "", "", "", "", "", "" },
        { "v1-pre+meta", false, "", "", "", "", "", "" },
        { "v1.2-pre", false, "", "", "", "", "", "" },
        { "v1.2+meta", false, "", "", "", "", "", "" },
        { "v1.2-pre+meta", false, "", "", "", "", "", "" },
        { "v1.0.0-alpha", true, "v1.0.0-alpha", "v1.0.0-alpha", "v1", "v1.0", "-alpha", "" },
        { "v1.0.0-alpha.1", true, "v1.0.0-alpha.1", "v1.0.0-alpha.1", "v1", "v1.0", "-alpha.1", "" },
        { "v1.0.0-alpha.beta", true, "v1.0.0-alpha.beta", "v1.0.0-alpha.beta", "v1", "v1.0", "-alpha.beta", "" },
        { "v1.0.0-beta", true, "v1.0.0-beta", "v1.0.0-beta", "v1", "v1.0", "-beta", "" },
        { "v1.0.0-beta.2", true, "v1.0.0-beta.2", "v1.0.0-beta.2", "v1", "v1.0", "-beta.2", "" },
        { "v1.0.0-beta.11", true, "v1.0.0-beta.11", "v1.0.0-beta.11", "v1", "v1.0", "-beta.11", "" },
        { "v1.0.0-rc.1", true, "v1.0.0-rc.1", "v1.0.0-rc.1", "v1", "v1.0", "-rc.1", "" },
        { "v1", true, "v1.0.0", "v1.0.0", "v1", "v1.0", "", "" },
        { "v1.0", true, "v1.0.0", "v1.0.0", "v1", "v1.0", "", "" },
        { "v1.0.0", true, "v1.0.0", "v1.0.0", "v1", "v1.0", "", "" },
        { "v1.2", true, "v1.2.0", "v1.2.0", "v1", "v1.2", "", "" },
        { "v1.2.0", true, "v1.2.0", "v1.2.0", "v1", "v1.2", "", "" },
        { "v1.2.3-456", true, "v1.2.3-456", "v1.2.3-456", "v1", "v1.2", "-456", "" },
        { "v1.2.3-456.789", true, "v1.2.3-456.789", "v1.2.3-456.789", "v1", "v1.2", "-456.789", "" },
        { "v1.2.3-456-789", true, "v1.2.3-456-789", "v1.2.3-456-789", "v1", "v1.2", "-456-789", "" },
        { "v1.2.3-456a", true, "v1.2.3-456a", "v1.2.3-456a", "v1", "v1.2", "-456a", "" },
        { "v1.2.3-pre", true, "v1.2.3-pre", "v1.2.3-pre", "v1", "v1.2", "-pre", "" },
        { "v1.2.3-pre+meta", true, "v1.2.3-pre", "v1.2.3-pre", "v1", "v1.2", "-pre", "+meta" },
        { "v1.2.3-pre.1", true, "v1.2.3-pre.1", "v1.2.3-pre.1", "v1", "v1.2", "-pre.1", "" },
        { "v1.2.3-zzz", true, "v1.2.3-zzz", "v1.2.3-zzz", "v1", "v1.2", "-zzz", "" },
        { "v1.2.3", true, "v1.2.3", "v1.2.3", "v1", "v1.2", "", "" },
        { "v1.2.3+meta", true, "v1.2.3", "v1.2.3", "v1", "v1.2", "", "+meta" },
        { "v1.2.3+meta-pre", true, "v1.2.3", "v1.2.3", "v1", "v1.2", "", "+meta-pre" },
        { "v1.2.3+meta-pre.sha.256a", true, "v1.2.3", "v1.2.3", "v1", "v1.2", "", "+meta-pre.sha.256a" },
        { "v0", true, "v0.0.0", "v0.0.0", "v0", "v0.0", "", "" },
        { "v0.0", true, "v0.0.0", "v0.0.0", "v0", "v0.0", "", "" },
        { "v0.0.0", true, "v0.0.0", "v0.0.0", "v0", "v0.0", "", "" },
        { "v00", false, "", "", "", "", "", "" },
        { "v01.2.3", false, "", "", "", "", "", "" },
        { "v1.02.3", false, "", "", "", "", "", "" },
        { "v1.2.03", false, "", "", "", "", "", "" },
        { "v1.2.3.4", false, "", "", "", "", "", "" },
        { "v1.2.3-", false, "", "", "", "", "", "" },
        { "v1.2.3+", false, "", "", "", "", "", "" },
        { "v1.2.3-01", false, "", "", "", "", "", "" },
        { "v1.2.3-0", true, "v1.2.3-0", "v1.2.3-0", "v1", "v1.2", "-0", "" },
        { "v1.2.3-00a", true, "v1.2.3-00a", "v1.2.3-00a", "v1", "v1.2", "-00a", "" },
        { "v1.2.3-a.01", false, "", "", "", "", "", "" },
        { "v1.2.3-a..b", false, "", "", "", "", "", "" },
        { "v1.2.3-a.", false, "", "", "", "", "", "" },
        { "v1.2.3-.a", false, "", "", "", "", "", "" },
        { "v1.2.3+a..b", false, "", "", "", "", "", "" },
        { "v1.2.3+01", true, "v1.2.3", "v1.2.3", "v1", "v1.2", "", "+01" },
        { "v1.2.3+a.", false, "", "", "", "", "", "" },
        { "v1.2.3-a_b", false, "", "", "", "", "", "" },
        { "v1.2.3-a+b+c", false, "", "", "", "", "", "" },
        { "v1.2.3+a+b", false, "", "", "", "", "", "" },
        { "v1.2.3-\u00E9", false, "", "", "", "", "", "" },
        { "v1.2.3 ", false, "", "", "", "", "", "" },
        { " v1.2.3", false, "", "", "", "", "", "" },
        { "v1.", false, "", "", "", "", "", "" },
        { "v1..2", false, "", "", "", "", "", "" },
        { "v1.2.", false, "", "", "", "", "", "" },
        { "v2.0.0+incompatible", true, "v2.0.0", "v2.0.0+incompatible", "v2", "v2.0", "", "+incompatible" },
        { "v2.0.0-pre+incompatible", true, "v2.0.0-pre", "v2.0.0-pre+incompatible", "v2", "v2.0", "-pre", "+incompatible" },
        { "v2+incompatible", false, "", "", "", "", "", "" },
        { "v2.0+incompatible", false, "", "", "", "", "", "" },
        { "v2.0.0+Incompatible", true, "v2.0.0", "v2.0.0", "v2", "v2.0", "", "+Incompatible" },
        { "v2.0.0+incompatible.1", true, "v2.0.0", "v2.0.0", "v2", "v2.0", "", "+incompatible.1" },
        { "v18446744073709551616.0.0", true, "v18446744073709551616.0.0", "v18446744073709551616.0.0", "v18446744073709551616", "v18446744073709551616.0", "", "" },
        { "v99999999999999999999.99999999999999999999.99999999999999999999", true, "v99999999999999999999.99999999999999999999.99999999999999999999", "v99999999999999999999.99999999999999999999.99999999999999999999", "v99999999999999999999", "v99999999999999999999.99999999999999999999", "", "" },
        { "latest", false, "", "", "", "", "", "" },
        { "master", false, "", "", "", "", "", "" },
        { "upgrade", false, "", "", "", "", "", "" },
        { "v1.2.3!", false, "", "", "", "", "", "" },
        { "v1.2.3~", false, "", "", "", "", "", "" },
        { "v1.2.3~1", false, "", "", "", "", "", "" },
        { "v1.2.3-Pre", true, "v1.2.3-Pre", "v1.2.3-Pre", "v1", "v1.2", "-Pre", "" },
        { "v1.2.3-PRE+BUILD", true, "v1.2.3-PRE", "v1.2.3-PRE", "v1", "v1.2", "-PRE", "+BUILD" },
        { "v\u00E9", false, "", "", "", "", "", "" },
        { "con", false, "", "", "", "", "", "" },
        { "v1.0.0/go.mod", false, "", "", "", "", "", "" },
    };

    private static readonly string[] CompareList =
    [
        "bad",
        "",
        "v1.2.3+meta-pre",
        "v0.0.0-20060102150405-hash",
        "v0.0.0",
        "v0.0.1-0.20060102150405-hash",
        "v0.0.1",
        "v0.1",
        "v1-",
        "v1.0.0-alpha",
        "v1.0.0-alpha.1",
        "v1.0.0-alpha.beta",
        "v1.0.0-beta",
        "v1.0.0-beta.2",
        "v1.0.0-beta.11",
        "v1.0.0-rc.1",
        "v1.0.0-rc.1+build",
        "v1",
        "v1.0",
        "v1.0.0",
        "v1.0.0+build",
        "v1.2",
        "v1.2.0",
        "v1.2.3-456",
        "v1.2.3-456.789",
        "v1.2.3-456-789",
        "v1.2.3-456a",
        "v1.2.3-pre",
        "v1.2.3-pre+meta",
        "v1.2.3-pre.1",
        "v1.2.3-zzz",
        "v1.2.3",
        "v1.2.3+meta",
        "v1.2.10",
        "v1.10.0",
        "v2.0.0+incompatible",
        "v2.0.0",
        "v2.0.0-0",
        "v2.0.0-1",
        "v2.0.0-a",
        "v2.0.0-A",
        "v2.0.0-10",
        "v2.0.0-9",
        "v2.0.0-a-b",
        "v2.0.0-a.9",
        "v2.0.0-a.10",
        "v2.0.0-a.b.c",
        "v10.0.0",
        "v9.0.0",
        "v18446744073709551616.0.0",
    ];

    /// <summary>Row j of each entry is semver.Compare(v, CompareList[j]) as '&lt;', '=' or '&gt;'.</summary>
    public static TheoryData<string, string> GoldenCompare => new()
    {
        { "bad", "==<<<<<<=<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "", "==<<<<<<=<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.3+meta-pre", ">>=>>>>>>>>>>>>>>>>>>>>>>>>>>>>==<<<<<<<<<<<<<<<<<" },
        { "v0.0.0-20060102150405-hash", ">><=<<<<><<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v0.0.0", ">><>=<<<><<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v0.0.1-0.20060102150405-hash", ">><>>=<<><<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v0.0.1", ">><>>>=<><<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v0.1", ">><>>>>=><<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1-", "==<<<<<<=<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0.0-alpha", ">><>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0.0-alpha.1", ">><>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0.0-alpha.beta", ">><>>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0.0-beta", ">><>>>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0.0-beta.2", ">><>>>>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0.0-beta.11", ">><>>>>>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0.0-rc.1", ">><>>>>>>>>>>>>==<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0.0-rc.1+build", ">><>>>>>>>>>>>>==<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1", ">><>>>>>>>>>>>>>>====<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0", ">><>>>>>>>>>>>>>>====<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0.0", ">><>>>>>>>>>>>>>>====<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.0.0+build", ">><>>>>>>>>>>>>>>====<<<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2", ">><>>>>>>>>>>>>>>>>>>==<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.0", ">><>>>>>>>>>>>>>>>>>>==<<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.3-456", ">><>>>>>>>>>>>>>>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.3-456.789", ">><>>>>>>>>>>>>>>>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.3-456-789", ">><>>>>>>>>>>>>>>>>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.3-456a", ">><>>>>>>>>>>>>>>>>>>>>>>>=<<<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.3-pre", ">><>>>>>>>>>>>>>>>>>>>>>>>>==<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.3-pre+meta", ">><>>>>>>>>>>>>>>>>>>>>>>>>==<<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.3-pre.1", ">><>>>>>>>>>>>>>>>>>>>>>>>>>>=<<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.3-zzz", ">><>>>>>>>>>>>>>>>>>>>>>>>>>>>=<<<<<<<<<<<<<<<<<<<" },
        { "v1.2.3", ">>=>>>>>>>>>>>>>>>>>>>>>>>>>>>>==<<<<<<<<<<<<<<<<<" },
        { "v1.2.3+meta", ">>=>>>>>>>>>>>>>>>>>>>>>>>>>>>>==<<<<<<<<<<<<<<<<<" },
        { "v1.2.10", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>=<<<<<<<<<<<<<<<<" },
        { "v1.10.0", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>=<<<<<<<<<<<<<<<" },
        { "v2.0.0+incompatible", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>==>>>>>>>>>><<<" },
        { "v2.0.0", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>==>>>>>>>>>><<<" },
        { "v2.0.0-0", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><<=<<<<<<<<<<<<" },
        { "v2.0.0-1", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><<>=<<<<<<<<<<<" },
        { "v2.0.0-a", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><<>>=>>><<<<<<<" },
        { "v2.0.0-A", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><<>><=>><<<<<<<" },
        { "v2.0.0-10", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><<>><<=><<<<<<<" },
        { "v2.0.0-9", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><<>><<<=<<<<<<<" },
        { "v2.0.0-a-b", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><<>>>>>>=>>><<<" },
        { "v2.0.0-a.9", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><<>>>>>><=<<<<<" },
        { "v2.0.0-a.10", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><<>>>>>><>=<<<<" },
        { "v2.0.0-a.b.c", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><<>>>>>><>>=<<<" },
        { "v10.0.0", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>=><" },
        { "v9.0.0", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>><=<" },
        { "v18446744073709551616.0.0", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>=" },
    };

    private static readonly string[] GoldenSorted =
    [
        "",
        "bad",
        "v1-",
        "v0.0.0-20060102150405-hash",
        "v0.0.0",
        "v0.0.1-0.20060102150405-hash",
        "v0.0.1",
        "v0.1",
        "v1.0.0-alpha",
        "v1.0.0-alpha.1",
        "v1.0.0-alpha.beta",
        "v1.0.0-beta",
        "v1.0.0-beta.2",
        "v1.0.0-beta.11",
        "v1.0.0-rc.1",
        "v1.0.0-rc.1+build",
        "v1",
        "v1.0",
        "v1.0.0",
        "v1.0.0+build",
        "v1.2",
        "v1.2.0",
        "v1.2.3-456",
        "v1.2.3-456.789",
        "v1.2.3-456-789",
        "v1.2.3-456a",
        "v1.2.3-pre",
        "v1.2.3-pre+meta",
        "v1.2.3-pre.1",
        "v1.2.3-zzz",
        "v1.2.3",
        "v1.2.3+meta",
        "v1.2.3+meta-pre",
        "v1.2.10",
        "v1.10.0",
        "v2.0.0-0",
        "v2.0.0-1",
        "v2.0.0-9",
        "v2.0.0-10",
        "v2.0.0-A",
        "v2.0.0-a",
        "v2.0.0-a.9",
        "v2.0.0-a.10",
        "v2.0.0-a.b.c",
        "v2.0.0-a-b",
        "v2.0.0",
        "v2.0.0+incompatible",
        "v9.0.0",
        "v10.0.0",
        "v18446744073709551616.0.0",
    ];

    public static TheoryData<string, string, string> GoldenMax => new()
    {
        { "bad", "v0.0.0-20060102150405-hash", "v0.0.0-20060102150405-hash" },
        { "", "v1.0.0-alpha.1", "v1.0.0-alpha.1" },
        { "v1.2.3+meta-pre", "v1", "v1.2.3" },
        { "v0.0.0-20060102150405-hash", "v1.2.3-456.789", "v1.2.3-456.789" },
        { "v0.0.0", "v1.2.3", "v1.2.3" },
        { "v0.0.1-0.20060102150405-hash", "v2.0.0-1", "v2.0.0-1" },
        { "v0.0.1", "v2.0.0-a.10", "v2.0.0-a.10" },
        { "v0.1", "v1.2.3+meta-pre", "v1.2.3" },
        { "v1-", "v1.0.0-alpha", "v1.0.0-alpha" },
        { "v1.0.0-alpha", "v1.0.0-rc.1+build", "v1.0.0-rc.1" },
        { "v1.0.0-alpha.1", "v1.2.3-456", "v1.2.3-456" },
        { "v1.0.0-alpha.beta", "v1.2.3-zzz", "v1.2.3-zzz" },
        { "v1.0.0-beta", "v2.0.0-0", "v2.0.0-0" },
        { "v1.0.0-beta.2", "v2.0.0-a.9", "v2.0.0-a.9" },
        { "v1.0.0-beta.11", "", "v1.0.0-beta.11" },
        { "v1.0.0-rc.1", "v1-", "v1.0.0-rc.1" },
        { "v1.0.0-rc.1+build", "v1.0.0-rc.1", "v1.0.0-rc.1" },
        { "v1", "v1.2.0", "v1.2.0" },
        { "v1.0", "v1.2.3-pre.1", "v1.2.3-pre.1" },
        { "v1.0.0", "v2.0.0", "v2.0.0" },
        { "v1.0.0+build", "v2.0.0-a-b", "v2.0.0-a-b" },
        { "v1.2", "bad", "v1.2.0" },
        { "v1.2.0", "v0.1", "v1.2.0" },
        { "v1.2.3-456", "v1.0.0-beta.11", "v1.2.3-456" },
        { "v1.2.3-456.789", "v1.2", "v1.2.3-456.789" },
        { "v1.2.3-456-789", "v1.2.3-pre+meta", "v1.2.3-pre" },
        { "v1.2.3-456a", "v2.0.0+incompatible", "v2.0.0" },
        { "v1.2.3-pre", "v2.0.0-9", "v2.0.0-9" },
        { "v1.2.3-pre+meta", "v18446744073709551616.0.0", "v18446744073709551616.0.0" },
        { "v1.2.3-pre.1", "v0.0.1", "v1.2.3-pre.1" },
        { "v1.2.3-zzz", "v1.0.0-beta.2", "v1.2.3-zzz" },
        { "v1.2.3", "v1.0.0+build", "v1.2.3" },
        { "v1.2.3+meta", "v1.2.3-pre", "v1.2.3" },
        { "v1.2.10", "v1.10.0", "v1.10.0" },
        { "v1.10.0", "v2.0.0-10", "v2.0.0-10" },
        { "v2.0.0+incompatible", "v9.0.0", "v9.0.0" },
        { "v2.0.0", "v0.0.1-0.20060102150405-hash", "v2.0.0" },
        { "v2.0.0-0", "v1.0.0-beta", "v2.0.0-0" },
        { "v2.0.0-1", "v1.0.0", "v2.0.0-1" },
        { "v2.0.0-a", "v1.2.3-456a", "v2.0.0-a" },
        { "v2.0.0-A", "v1.2.10", "v2.0.0-A" },
        { "v2.0.0-10", "v2.0.0-A", "v2.0.0-A" },
        { "v2.0.0-9", "v10.0.0", "v10.0.0" },
        { "v2.0.0-a-b", "v0.0.0", "v2.0.0-a-b" },
        { "v2.0.0-a.9", "v1.0.0-alpha.beta", "v2.0.0-a.9" },
        { "v2.0.0-a.10", "v1.0", "v2.0.0-a.10" },
        { "v2.0.0-a.b.c", "v1.2.3-456-789", "v2.0.0-a.b.c" },
        { "v10.0.0", "v1.2.3+meta", "v10.0.0" },
        { "v9.0.0", "v2.0.0-a", "v9.0.0" },
        { "v18446744073709551616.0.0", "v2.0.0-a.b.c", "v18446744073709551616.0.0" },
    };
}
