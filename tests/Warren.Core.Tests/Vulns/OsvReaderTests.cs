using System.Text;
using Warren.Core.Vulns;

namespace Warren.Core.Tests.Vulns;

public sealed class OsvReaderTests
{
    private const string Entry = """
        {
          "schema_version": "1.3.1",
          "id": "GO-2023-1234",
          "modified": "2023-04-03T15:57:51Z",
          "published": "2023-03-01T00:00:00Z",
          "aliases": ["GHSA-abcd-efgh-ijkl", "CVE-2023-1111"],
          "summary": "Panic on crafted input in example.com/lib",
          "details": "A crafted input makes Parse panic.",
          "affected": [
            {
              "package": { "name": "example.com/lib", "ecosystem": "Go" },
              "ranges": [
                { "type": "SEMVER", "events": [ { "introduced": "0" }, { "fixed": "1.2.4" }, { "introduced": "1.3.0" }, { "fixed": "1.3.2" } ] },
                { "type": "GIT", "repo": "https://example.com/lib", "events": [ { "introduced": "0" } ] }
              ],
              "ecosystem_specific": {
                "imports": [ { "path": "example.com/lib/parse", "symbols": ["Parse", "Parser.Next"], "goos": ["linux"] } ]
              }
            },
            {
              "package": { "name": "example.com/lib/v2", "ecosystem": "Go" },
              "ranges": [ { "type": "SEMVER", "events": [ { "introduced": "2.1.0" } ] } ]
            },
            { "package": { "name": "example.com/everything", "ecosystem": "Go" } }
          ]
        }
        """;

    private static Advisory Read(string json = Entry) => OsvReader.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Reads_the_fields_of_an_entry_and_keeps_its_bytes()
    {
        var advisory = Read();
        Assert.Equal("GO-2023-1234", advisory.Id);
        Assert.Equal(new DateTimeOffset(2023, 4, 3, 15, 57, 51, TimeSpan.Zero), advisory.Modified);
        Assert.Equal(new DateTimeOffset(2023, 3, 1, 0, 0, 0, TimeSpan.Zero), advisory.Published);
        Assert.Null(advisory.Withdrawn);
        Assert.Equal("Panic on crafted input in example.com/lib", advisory.Summary);
        Assert.Equal("GO-2023-1234 (CVE-2023-1111, GHSA-abcd-efgh-ijkl)", advisory.DisplayName);
        Assert.Equal(Encoding.UTF8.GetBytes(Entry), advisory.RawJson);
        var lib = Assert.Single(advisory.For("example.com/lib"));
        Assert.Single(lib.Ranges); // the GIT range is ignored
        var package = Assert.Single(lib.Packages);
        Assert.Equal("example.com/lib/parse", package.Path);
        Assert.Equal(["Parse", "Parser.Next"], package.Symbols);
        Assert.Equal(["linux"], package.Goos);
        Assert.Empty(package.Goarch);
        Assert.Equal(RangeEvent.Zero, lib.Ranges[0].Events[0].Version);
        Assert.Equal("v1.2.4", lib.Ranges[0].Events[1].Version);
    }

    [Theory]
    [InlineData("example.com/lib", "v0.0.0-20200101000000-abcdefabcdef", true, "v1.2.4")]
    [InlineData("example.com/lib", "v1.0.0", true, "v1.2.4")]
    [InlineData("example.com/lib", "v1.2.4-rc.1", true, "v1.2.4")]
    [InlineData("example.com/lib", "v1.2.4", false, null)]
    [InlineData("example.com/lib", "v1.2.9", false, null)]
    [InlineData("example.com/lib", "v1.3.0", true, "v1.3.2")]
    [InlineData("example.com/lib", "v1.3.1", true, "v1.3.2")]
    [InlineData("example.com/lib", "v1.3.2", false, null)]
    [InlineData("example.com/lib", "v1.4.0", false, null)]
    [InlineData("example.com/lib/v2", "v2.0.9", false, null)]
    [InlineData("example.com/lib/v2", "v2.1.0", true, null)]
    [InlineData("example.com/lib/v2", "v2.9.0", true, null)]
    [InlineData("example.com/everything", "v0.1.0", true, null)]
    [InlineData("example.com/other", "v1.0.0", false, null)]
    [InlineData("example.com/lib", "not-a-version", false, null)]
    public void Decides_which_versions_are_affected_and_where_they_are_fixed(string module, string version, bool affected, string? fix)
    {
        var advisory = Read();
        Assert.Equal(affected, advisory.Affects(module, version));
        Assert.Equal(fix, advisory.FixedVersionFor(module, version));
    }

    [Fact]
    public void An_incompatible_version_is_compared_as_a_semantic_version()
    {
        var advisory = Read("""
            {"id":"GO-1","modified":"2023-01-01T00:00:00Z","affected":[{"package":{"name":"example.com/old"},
             "ranges":[{"type":"SEMVER","events":[{"introduced":"2.0.0+incompatible"},{"fixed":"2.3.0+incompatible"}]}]}]}
            """);
        Assert.True(advisory.Affects("example.com/old", "v2.1.0+incompatible"));
        Assert.Equal("v2.3.0+incompatible", advisory.FixedVersionFor("example.com/old", "v2.1.0+incompatible"));
        Assert.False(advisory.Affects("example.com/old", "v1.9.0"));
        Assert.Equal("GO-1", advisory.DisplayName);
    }

    [Theory]
    [InlineData("[]", "an entry must be a JSON object")]
    [InlineData("{", "not JSON")]
    [InlineData("""{"modified":"2023-01-01T00:00:00Z"}""", "\"id\" is missing or empty")]
    [InlineData("""{"id":"GO-1"}""", "GO-1: \"modified\" is missing")]
    [InlineData("""{"id":"GO-1","modified":"yesterday"}""", "GO-1: \"modified\" is not an RFC 3339 time: yesterday")]
    [InlineData("""{"id":"GO-1","modified":"2023-01-01T00:00:00Z","aliases":"CVE-1"}""", "GO-1: \"aliases\" must be an array of strings")]
    [InlineData("""{"id":"GO-1","modified":"2023-01-01T00:00:00Z","affected":[{}]}""", "GO-1: an \"affected\" item has no \"package\"")]
    [InlineData("""{"id":"GO-1","modified":"2023-01-01T00:00:00Z","affected":[{"package":{"name":"m"},"ranges":[{"type":"SEMVER","events":[{"fixed":"one"}]}]}]}""",
        "GO-1: \"one\" in the ranges of m is not a semantic version")]
    public void A_malformed_entry_is_refused_with_one_line(string json, string message)
    {
        var error = Assert.Throws<OsvFormatException>(() => Read(json));
        Assert.StartsWith(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void An_oversized_entry_is_refused_before_parsing()
    {
        var error = Assert.Throws<OsvFormatException>(() => OsvReader.Parse(new byte[OsvReader.MaxEntryBytes + 1]));
        Assert.Contains("over the limit", error.Message);
    }

    [Fact]
    public async Task The_empty_catalog_knows_nothing()
    {
        var catalog = EmptyAdvisoryCatalog.Instance;
        Assert.False(catalog.IsAvailable);
        Assert.Empty(await catalog.ForModuleAsync("example.com/lib", CancellationToken.None));
        Assert.Empty(await catalog.AllAsync(CancellationToken.None));
    }
}
