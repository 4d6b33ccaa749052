using System.Text.Json;
using Warren.Core.Modules;

namespace Warren.Core.Tests;

public class ModulePatternsTests
{
    [Theory]
    [InlineData("*.corp.example.com,rsc.io/private", "git.corp.example.com/team/x", true)]
    [InlineData("*.corp.example.com,rsc.io/private", "a.b.corp.example.com/p", true)] // * crosses dots, not slashes
    [InlineData("*.corp.example.com,rsc.io/private", "corp.example.com", false)]
    [InlineData("*.corp.example.com,rsc.io/private", "rsc.io/private", true)]
    [InlineData("*.corp.example.com,rsc.io/private", "rsc.io/private/x", true)]
    [InlineData("*.corp.example.com,rsc.io/private", "rsc.io/privatex", false)]
    [InlineData("*.corp.example.com,rsc.io/private", "rsc.io/quote", false)]
    [InlineData("github.com/org/*", "github.com/org/repo", true)]
    [InlineData("github.com/org/*", "github.com/org/repo/sub/pkg", true)]
    [InlineData("github.com/org/*", "github.com/org", false)] // the glob has more elements than the target
    [InlineData("github.com/org/*", "github.com/other/repo", false)]
    [InlineData("github.com/org/", "github.com/org/repo", true)] // one trailing slash is ignored
    [InlineData("github.com/org//", "github.com/org/repo", false)] // only one
    [InlineData(",,github.com/acme,", "github.com/acme/tool", true)] // empty entries are skipped
    [InlineData("", "github.com/acme", false)]
    [InlineData(",", "github.com/acme", false)]
    [InlineData("x[,github.com/acme", "github.com/acme", true)] // malformed globs are ignored
    [InlineData("github.com/[a", "github.com/a", false)]
    [InlineData("github.com/ac?e", "github.com/acme", true)]
    [InlineData("github.com/[a-c]cme", "github.com/bcme", true)]
    [InlineData("github.com/[^a]cme", "github.com/acme", false)]
    [InlineData("github.com/\\*", "github.com/*", true)]
    [InlineData("GITHUB.COM", "github.com/x", false)] // case-sensitive
    [InlineData("*", "anything/at/all", true)]
    [InlineData("*/*", "github.com", false)]
    public void MatchPrefixPatterns(string globs, string target, bool expected)
    {
        Assert.Equal(expected, ModulePatterns.MatchPrefixPatterns(globs, target));
        Assert.Equal(expected, GlobList.Parse(globs).Matches(target));
    }

    /// <summary>Every glob list × target pair, against module.MatchPrefixPatterns of Go 1.19.</summary>
    [Fact]
    public void MatchPrefixPatterns_agrees_with_go()
    {
        using JsonDocument doc = TestDataFiles.Json("match-prefix-patterns.json");
        string[] targets = [.. doc.RootElement.GetProperty("Targets").EnumerateArray().Select(t => t.GetString()!)];
        var failures = new List<string>();
        int checkedPairs = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("Cases").EnumerateArray())
        {
            string globs = c.GetProperty("Globs").GetString()!;
            var matches = c.GetProperty("Matches").EnumerateArray().Select(t => t.GetString()!).ToHashSet(StringComparer.Ordinal);
            string[] malformed = [.. c.GetProperty("Malformed").EnumerateArray().Select(t => t.GetString()!)];
            GlobList list = GlobList.Parse(globs);
            foreach (string target in targets)
            {
                checkedPairs++;
                bool want = matches.Contains(target);
                if (ModulePatterns.MatchPrefixPatterns(globs, target) != want || list.Matches(target) != want)
                {
                    failures.Add($"{globs} ~ {target}: want {want}");
                }
            }

            if (!list.Malformed.SequenceEqual(malformed))
            {
                failures.Add($"{globs}: malformed [{string.Join(", ", list.Malformed)}], want [{string.Join(", ", malformed)}]");
            }

            if ((ModulePatterns.Validate(globs) is null) != (malformed.Length == 0))
            {
                failures.Add($"{globs}: Validate says {ModulePatterns.Validate(globs) ?? "ok"}");
            }
        }

        Assert.True(checkedPairs > 1500, $"only {checkedPairs} pairs");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("github.com/[a", "invalid pattern \"github.com/[a\": syntax error in pattern")]
    [InlineData("ok.example,x\\", "invalid pattern \"x\\\\\": syntax error in pattern")]
    [InlineData("a/[]/b", "invalid pattern \"a/[]/b\": syntax error in pattern")]
    [InlineData("a,*.b,c/[a-z]/*,", null)]
    [InlineData("", null)]
    public void Validate(string globs, string? error)
    {
        Assert.Equal(error, ModulePatterns.Validate(globs));
    }

    [Fact]
    public void GlobList_keeps_the_effective_patterns()
    {
        GlobList list = GlobList.Parse("*.corp.example.com,,rsc.io/private/,x[");
        Assert.Equal(["*.corp.example.com", "rsc.io/private"], list.Patterns);
        Assert.Equal(["x["], list.Malformed);
        Assert.False(list.IsEmpty);
        Assert.Equal("*.corp.example.com,,rsc.io/private/,x[", list.ToString());
        Assert.True(GlobList.Parse(null).IsEmpty);
        Assert.True(GlobList.Parse(",,/").IsEmpty);
        Assert.False(GlobList.Empty.Matches("example.com"));
    }

    // path.Match's own table (path/match_test.go).
    [Theory]
    [InlineData("abc", "abc", true)]
    [InlineData("*", "abc", true)]
    [InlineData("*c", "abc", true)]
    [InlineData("a*", "a", true)]
    [InlineData("a*", "abc", true)]
    [InlineData("a*", "ab/c", false)]
    [InlineData("a*/b", "abc/b", true)]
    [InlineData("a*/b", "a/c/b", false)]
    [InlineData("a*b*c*d*e*/f", "axbxcxdxe/f", true)]
    [InlineData("a*b*c*d*e*/f", "axbxcxdxexxx/f", true)]
    [InlineData("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false)]
    [InlineData("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false)]
    [InlineData("a*b?c*x", "abxbbxdbxebxczzx", true)]
    [InlineData("a*b?c*x", "abxbbxdbxebxczzy", false)]
    [InlineData("ab[c]", "abc", true)]
    [InlineData("ab[b-d]", "abc", true)]
    [InlineData("ab[e-g]", "abc", false)]
    [InlineData("ab[^c]", "abc", false)]
    [InlineData("ab[^b-d]", "abc", false)]
    [InlineData("ab[^e-g]", "abc", true)]
    [InlineData("a\\*b", "a*b", true)]
    [InlineData("a\\*b", "ab", false)]
    [InlineData("a?b", "a☺b", true)]
    [InlineData("a[^a]b", "a☺b", true)]
    [InlineData("a???b", "a☺b", false)]
    [InlineData("a[^a][^a][^a]b", "a☺b", false)]
    [InlineData("[a-ζ]*", "α", true)]
    [InlineData("*[a-ζ]", "A", false)]
    [InlineData("a?b", "a/b", false)]
    [InlineData("a*b", "a/b", false)]
    [InlineData("[\\]a]", "]", true)]
    [InlineData("[\\-]", "-", true)]
    [InlineData("[x\\-]", "x", true)]
    [InlineData("[x\\-]", "-", true)]
    [InlineData("[x\\-]", "z", false)]
    [InlineData("[\\-x]", "x", true)]
    [InlineData("[\\-x]", "-", true)]
    [InlineData("[\\-x]", "a", false)]
    [InlineData("*x", "xxx", true)]
    [InlineData("a😀?", "a😀b", true)]
    [InlineData("a?", "a😀", true)]
    public void PathMatch(string pattern, string name, bool expected)
    {
        Assert.Equal(expected, ModulePatterns.PathMatch(pattern, name));
    }

    [Theory]
    [InlineData("[]a]", "]")]
    [InlineData("[-]", "-")]
    [InlineData("[x-]", "x")]
    [InlineData("[x-]", "-")]
    [InlineData("[x-]", "z")]
    [InlineData("[-x]", "x")]
    [InlineData("[-x]", "-")]
    [InlineData("[-x]", "a")]
    [InlineData("\\", "a")]
    [InlineData("[a-b-c]", "a")]
    [InlineData("[", "a")]
    [InlineData("[^", "a")]
    [InlineData("[^bc", "a")]
    [InlineData("a[", "a")]
    [InlineData("a[", "ab")]
    [InlineData("a[", "x")]
    [InlineData("a/b[", "x")]
    [InlineData("*x[", "a")]
    [InlineData("a*[", "ab")]
    public void PathMatch_bad_patterns(string pattern, string name)
    {
        Assert.Throws<FormatException>(() => ModulePatterns.PathMatch(pattern, name));
        Assert.False(ModulePatterns.IsWellFormed(pattern));
    }
}
