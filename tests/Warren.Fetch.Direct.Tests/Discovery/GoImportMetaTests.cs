using System.Text;
using Warren.Fetch.Direct.Discovery;

namespace Warren.Fetch.Direct.Tests.Discovery;

public class GoImportMetaTests
{
    private static IReadOnlyList<MetaImport> Parse(string html, bool preferMod = true)
    {
        MetaImportParse p = GoImportMeta.Parse(Encoding.UTF8.GetBytes(html), preferMod);
        Assert.Null(p.Error);
        return p.Imports;
    }

    private static MetaImport M(string prefix, string vcs, string repo) => new(prefix, vcs, repo);

    [Fact]
    public void Single_tag()
    {
        Assert.Equal([M("foo/bar", "git", "https://github.com/rsc/foo/bar")],
            Parse("<meta name=\"go-import\" content=\"foo/bar git https://github.com/rsc/foo/bar\">"));
    }

    [Fact]
    public void Multiple_tags_keep_document_order()
    {
        Assert.Equal(
            [M("foo/bar", "git", "https://github.com/rsc/foo/bar"), M("baz/quux", "git", "http://github.com/rsc/baz/quux")],
            Parse("<meta name=\"go-import\" content=\"foo/bar git https://github.com/rsc/foo/bar\">\n\t\t<meta name=\"go-import\" content=\"baz/quux git http://github.com/rsc/baz/quux\">"));
    }

    [Fact]
    public void Mod_entries_first_and_supersede_other_entries_for_the_same_prefix()
    {
        const string Page = "<meta name=\"go-import\" content=\"foo/bar git https://github.com/rsc/foo/bar\">\n<meta name=\"go-import\" content=\"foo/bar mod http://github.com/rsc/baz/quux\">";
        Assert.Equal([M("foo/bar", "mod", "http://github.com/rsc/baz/quux")], Parse(Page));
        Assert.Equal([M("foo/bar", "git", "https://github.com/rsc/foo/bar")], Parse(Page, preferMod: false));

        const string Other = "<meta name=\"go-import\" content=\"myitcv.io git https://github.com/myitcv/x\">\n        <meta name=\"go-import\" content=\"myitcv.io/blah2 mod https://raw.githubusercontent.com/myitcv/pubx/master\">\n        ";
        Assert.Equal(
            [M("myitcv.io/blah2", "mod", "https://raw.githubusercontent.com/myitcv/pubx/master"), M("myitcv.io", "git", "https://github.com/myitcv/x")],
            Parse(Other));
        Assert.Equal([M("myitcv.io", "git", "https://github.com/myitcv/x")], Parse(Other, preferMod: false));
    }

    [Fact]
    public void Stops_at_end_of_head_or_start_of_body()
    {
        Assert.Equal([M("a.org/x", "git", "https://a.org/x")],
            Parse("<html><head><meta name=\"go-import\" content=\"a.org/x git https://a.org/x\"></head><meta name=\"go-import\" content=\"a.org/y git https://a.org/y\">"));
        Assert.Equal([M("a.org/x", "git", "https://a.org/x")],
            Parse("<meta name=\"go-import\" content=\"a.org/x git https://a.org/x\"><BODY><meta name=\"go-import\" content=\"a.org/y git https://a.org/y\">"));
        Assert.Empty(Parse("<html><body><meta name=\"go-import\" content=\"a.org/x git https://a.org/x\"></body></html>"));
        Assert.Empty(Parse("<html><head></HEAD><meta name=\"go-import\" content=\"a.org/x git https://a.org/x\">"));
    }

    [Fact]
    public void Lenient_html_as_the_go_command_reads_it()
    {
        // Go's own test: unquoted attribute values and a doctype.
        Assert.Equal([M("chitin.io/chitin", "git", "https://github.com/chitin-io/chitin")],
            Parse("<!doctype html><title>Page Not Found</title><meta name=go-import content=\"chitin.io/chitin git https://github.com/chitin-io/chitin\"><div style=position:relative>DRAFT</div>"));
        Assert.Equal([M("foo/bar", "git", "https://github.com/rsc/foo/bar")],
            Parse("<!doctype html><meta name=\"go-import\" content=\"foo/bar git https://github.com/rsc/foo/bar\">"));
    }

    [Fact]
    public void Names_compare_case_insensitively_but_the_name_value_does_not()
    {
        Assert.Single(Parse("<HEAD><META NAME=\"go-import\" CONTENT=\"a.org/x git https://a.org/x\"></HEAD>"));
        Assert.Single(Parse("<meta x:name=\"go-import\" og:content=\"a.org/x git https://a.org/x\"/>"));
        Assert.Empty(Parse("<meta name=\"GO-IMPORT\" content=\"a.org/x git https://a.org/x\">"));
        Assert.Empty(Parse("<meta name=\"go-source\" content=\"a.org/x git https://a.org/x\">"));
        Assert.Empty(Parse("<meta property=\"go-import\" content=\"a.org/x git https://a.org/x\">"));
        Assert.Empty(Parse("<link name=\"go-import\" content=\"a.org/x git https://a.org/x\">"));
    }

    [Fact]
    public void Content_needs_exactly_three_fields()
    {
        Assert.Empty(Parse("<meta name=\"go-import\" content=\"a.org/x git\">"));
        Assert.Empty(Parse("<meta name=\"go-import\" content=\"a.org/x git https://a.org/x extra\">"));
        Assert.Empty(Parse("<meta name=\"go-import\">"));
        Assert.Equal([M("a.org/x", "git", "https://a.org/x")],
            Parse("<meta name='go-import' content='  a.org/x \t\n git   https://a.org/x '>"));
    }

    [Fact]
    public void Xml_entities_and_character_references_are_decoded_html_entities_are_not()
    {
        Assert.Equal([M("a.org/x", "git", "https://a.org/x?a=1&b=2")],
            Parse("<meta name=\"go-import\" content=\"a.org/x git https://a.org/x?a=1&amp;b=2\">"));
        Assert.Equal([M("a.org/x", "git", "https://a.org/x")],
            Parse("<meta name=\"go&#45;import\" content=\"a.org&#x2F;x&#32;git&#9;https://a.org/x\">"));
        Assert.Equal([M("a.org/x", "git", "https://a.org/x&nbsp;")],
            Parse("<meta name=\"go-import\" content=\"a.org/x git https://a.org/x&nbsp;\">"));
        Assert.Equal([M("a.org/x", "git", "https://a.org/&x")],
            Parse("<meta name=\"go-import\" content=\"a.org/x git https://a.org/&x\">"));
        Assert.Equal([M("a.org/'x'", "git", "\"https://a.org/<x>\"")],
            Parse("<meta name=\"go-import\" content=\"a.org/&apos;x&apos; git &quot;https://a.org/&lt;x&gt;&quot;\">"));
    }

    [Fact]
    public void Comments_cdata_and_processing_instructions_are_skipped()
    {
        Assert.Equal([M("a.org/y", "git", "https://a.org/y")],
            Parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- <meta name=\"go-import\" content=\"a.org/x git https://a.org/x\"> --><![CDATA[<meta name=\"go-import\" content=\"a.org/z git https://a.org/z\">]]><meta name=\"go-import\" content=\"a.org/y git https://a.org/y\">"));
    }

    [Fact]
    public void Syntax_errors_matter_only_before_the_first_tag()
    {
        // After a tag: what was found is used (a script with '<' in the head is common).
        MetaImportParse after = GoImportMeta.Parse(Encoding.UTF8.GetBytes(
            "<head><meta name=\"go-import\" content=\"a.org/x git https://a.org/x\"><script>if (a < b) {}</script></head>"));
        Assert.Null(after.Error);
        Assert.Single(after.Imports);

        MetaImportParse before = GoImportMeta.Parse(Encoding.UTF8.GetBytes(
            "<head>\n<script>if (a < b) {}</script><meta name=\"go-import\" content=\"a.org/x git https://a.org/x\"></head>"));
        Assert.Empty(before.Imports);
        Assert.Equal("XML syntax error on line 2: expected element name after <", before.Error);
    }

    [Fact]
    public void Only_utf8_and_ascii_charsets_can_be_declared()
    {
        MetaImportParse p = GoImportMeta.Parse(Encoding.UTF8.GetBytes(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><meta name=\"go-import\" content=\"a.org/x git https://a.org/x\">"));
        Assert.Empty(p.Imports);
        Assert.Equal("xml: opening charset \"ISO-8859-1\": can't decode XML document using charset \"ISO-8859-1\"", p.Error);

        Assert.Single(Parse("<?xml version=\"1.0\" encoding=\"ascii\"?><meta name=\"go-import\" content=\"a.org/x git https://a.org/x\">"));
    }

    [Fact]
    public void Invalid_utf8_text_stops_parsing()
    {
        byte[] page = [.. "<title>"u8, 0xff, .. "</title><meta name=\"go-import\" content=\"a.org/x git https://a.org/x\">"u8];
        MetaImportParse p = GoImportMeta.Parse(page);
        Assert.Empty(p.Imports);
        Assert.Equal("XML syntax error on line 1: invalid UTF-8", p.Error);
    }

    [Fact]
    public void Truncated_page_keeps_the_tags_read_so_far()
    {
        MetaImportParse p = GoImportMeta.Parse(Encoding.UTF8.GetBytes(
            "<meta name=\"go-import\" content=\"a.org/x git https://a.org/x\"><meta name=\"go-import\" content=\"a.org/y"));
        Assert.Null(p.Error);
        Assert.Equal([M("a.org/x", "git", "https://a.org/x")], p.Imports);
    }

    [Fact]
    public void The_page_git_serve_writes()
    {
        Assert.Equal([M("golang.org/x/sync", "git", "http://127.0.0.1:8080/golang.org/x/sync.git")],
            Parse("<!DOCTYPE html><html><head><meta name=\"go-import\" content=\"golang.org/x/sync git http://127.0.0.1:8080/golang.org/x/sync.git\"></head><body>go get golang.org/x/sync</body></html>\n"));
    }

    // Inputs and results checked against encoding/xml as parseMetaGoImports drives it (Go 1.19).
    [Theory]
    [InlineData("<meta name=go-import content=a.org/x>", null, "XML syntax error on line 1: invalid XML name: .org")]
    [InlineData("<meta name content=\"a b c\">", null, null)]
    [InlineData("<!DOCTYPE html [<!ENTITY x \"y\">]><meta name=\"go-import\" content=\"a.org/x git https://a.org/x&#0;\">", null, "XML syntax error on line 1: illegal character code U+0000")]
    [InlineData("<meta name=\"go-import\" content=\"a.org/x git https://a.org/x&#xD800;\">", "a.org/x|git|https://a.org/x\uFFFD", null)]
    [InlineData("<meta name=\"go-import\" content=\"a&#1114112;b git c\">", "a&#1114112;b|git|c", null)]
    [InlineData("<a/><meta name=\"go-import\" content=\"a b]]>c\">", null, "XML syntax error on line 1: unescaped ]]> not in CDATA section")]
    public void Agrees_with_encoding_xml(string html, string? tag, string? error)
    {
        MetaImportParse p = GoImportMeta.Parse(Encoding.UTF8.GetBytes(html));
        Assert.Equal(error, p.Error);
        Assert.Equal(tag is null ? [] : [tag], p.Imports.Select(m => $"{m.Prefix}|{m.Vcs}|{m.RepoRoot}"));
    }

    private static readonly MetaImport Foo = M("example.com/user/foo", "git", "https://example.com/repo/target");
    private static readonly MetaImport FooA = M("example.com/user/fooa", "git", "https://example.com/repo/target");
    private static readonly MetaImport FooBar = M("example.com/user/foo/bar", "git", "https://example.com/repo/target");

    [Fact]
    public void Match_by_path_element_prefix()
    {
        Assert.Equal(Foo, GoImportMeta.Match([Foo], "example.com/user/foo").Match);
        Assert.Equal(Foo, GoImportMeta.Match([Foo], "example.com/user/foo/").Match);
        Assert.Equal(Foo, GoImportMeta.Match([Foo], "example.com/user/foo/sub/pkg").Match);
        Assert.Equal(Foo, GoImportMeta.Match([Foo, FooA], "example.com/user/foo").Match);
        Assert.Equal(FooA, GoImportMeta.Match([Foo, FooA], "example.com/user/fooa").Match);
    }

    [Theory]
    [InlineData("example.com/user/foo/bar")]
    [InlineData("example.com/user/foo/bar/baz")]
    [InlineData("example.com/user/foo/bar/baz/qux")]
    [InlineData("example.com/user/foo/bar/baz/")]
    public void Nested_prefixes_are_ambiguous(string path)
    {
        var (match, error, none) = GoImportMeta.Match([Foo, FooBar], path);
        Assert.Null(match);
        Assert.False(none);
        Assert.Equal($"multiple meta tags match import path \"{path}\"", error);
    }

    [Fact]
    public void No_match_lists_the_mismatches()
    {
        var (match, error, none) = GoImportMeta.Match([Foo, FooBar], "example.com");
        Assert.Null(match);
        Assert.True(none);
        Assert.Equal("meta tag example.com/user/foo did not match import path example.com, meta tag example.com/user/foo/bar did not match import path example.com", error);

        var (_, empty, none2) = GoImportMeta.Match([], "different.example.com/user/foo");
        Assert.True(none2);
        Assert.Equal("", empty);
    }

    [Fact]
    public void A_mod_match_wins_over_later_entries()
    {
        MetaImport mod = M("myitcv.io/blah2", "mod", "https://raw.githubusercontent.com/myitcv/pubx/master");
        MetaImport git = M("myitcv.io", "git", "https://github.com/myitcv/x");
        Assert.Equal(mod, GoImportMeta.Match([mod, git], "myitcv.io/blah2/foo").Match);
        Assert.Equal(git, GoImportMeta.Match([mod, git], "myitcv.io/other").Match);
        Assert.NotNull(GoImportMeta.Match([mod, mod with { RepoRoot = "https://other" }], "myitcv.io/blah2").Error);
    }

    [Theory]
    [InlineData("a/b", "a", true)]
    [InlineData("a", "a", true)]
    [InlineData("ab", "a", false)]
    [InlineData("a/b", "a/", true)]
    [InlineData("a", "", true)]
    [InlineData("a", "a/b", false)]
    public void Path_prefix(string s, string prefix, bool expected) => Assert.Equal(expected, GoImportMeta.HasPathPrefix(s, prefix));
}
