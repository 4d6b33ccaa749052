using System.Text;
using System.Text.Json;
using Warren.Core.Vulns;
using Warren.Protocol.VulnDb;

namespace Warren.Protocol.Tests.VulnDb;

public sealed class VulnDbSnapshotTests
{
    private static Advisory Entry(string id, string module, string modified, string fixedVersion, params string[] aliases) =>
        OsvReader.Parse(Encoding.UTF8.GetBytes(
            "{\"id\":\"" + id + "\",\"modified\":\"" + modified + "\",\"aliases\":[" + string.Join(",", aliases.Select(a => "\"" + a + "\"")) + "]," +
            "\"affected\":[{\"package\":{\"name\":\"" + module + "\",\"ecosystem\":\"Go\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"" + fixedVersion + "\"}]}]}]}"));

    private static VulnDbSnapshot Sample() => new(
    [
        Entry("GO-2023-0002", "github.com/BurntSushi/toml", "2023-03-01T00:00:00Z", "1.2.1", "CVE-2023-2"),
        Entry("GO-2023-0001", "github.com/BurntSushi/toml", "2023-01-01T00:00:00Z", "1.0.0", "CVE-2023-1", "GHSA-x"),
        Entry("GO-2023-0003", "stdlib", "2023-02-01T10:20:30.5Z", "1.20.3"),
    ], DateTimeOffset.Parse("2023-03-02T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private static string File(VulnDbSnapshot s, string path)
    {
        Assert.True(s.TryGetFile(path, out var body), path);
        return Encoding.UTF8.GetString(body);
    }

    [Fact]
    public void Legacy_index_maps_each_module_to_its_latest_entry_time()
    {
        Assert.Equal("{\"github.com/BurntSushi/toml\":\"2023-03-01T00:00:00Z\",\"stdlib\":\"2023-02-01T10:20:30.5Z\"}", File(Sample(), "index.json"));
    }

    [Fact]
    public void Legacy_module_file_uses_the_escaped_path_and_holds_the_raw_entries()
    {
        var s = Sample();
        Assert.Equal("github.com/!burnt!sushi/toml.json", VulnDbSnapshot.LegacyModuleFile("github.com/BurntSushi/toml"));
        using var doc = JsonDocument.Parse(File(s, "github.com/!burnt!sushi/toml.json"));
        Assert.Equal(["GO-2023-0001", "GO-2023-0002"], doc.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToArray());
        Assert.Contains("GO-2023-0003", File(s, "stdlib.json"));
        Assert.False(s.TryGetFile("github.com/BurntSushi/toml.json", out _)); // unescaped upper case is not a file
        Assert.False(s.TryGetFile("github.com/nobody/else.json", out _));
    }

    [Fact]
    public void Legacy_id_index_and_aliases()
    {
        var s = Sample();
        Assert.Equal("[\"GO-2023-0001\",\"GO-2023-0002\",\"GO-2023-0003\"]", File(s, "ID/index.json"));
        Assert.Equal("{\"CVE-2023-1\":[\"GO-2023-0001\"],\"CVE-2023-2\":[\"GO-2023-0002\"],\"GHSA-x\":[\"GO-2023-0001\"]}", File(s, "aliases.json"));
    }

    [Fact]
    public void Current_indexes_and_a_zip_round_trip()
    {
        var s = Sample();
        Assert.Equal("{\"modified\":\"2023-03-02T00:00:00Z\"}", File(s, "index/db.json"));
        Assert.Contains("{\"id\":\"GO-2023-0002\",\"modified\":\"2023-03-01T00:00:00Z\",\"fixed\":\"1.2.1\"}", File(s, "index/modules.json"));
        using var zip = new MemoryStream();
        VulnDbArchive.Write(s, zip);
        zip.Position = 0;
        var back = VulnDbArchive.Read(zip, VulnDbLimits.Default);
        Assert.Equal(s.Modified, back.Modified);
        Assert.Equal(File(s, "index.json"), File(back, "index.json"));
        Assert.Equal(File(s, "ID/GO-2023-0001.json"), File(back, "ID/GO-2023-0001.json"));
        Assert.True(back.TryGetFile("index/vulns.json.gz", out var gz) && gz[0] == 0x1f);
    }

    [Fact]
    public void Limits_and_bad_ids_are_refused_with_a_reason()
    {
        using var zip = new MemoryStream();
        VulnDbArchive.Write(Sample(), zip);
        zip.Position = 0;
        var e = Assert.Throws<OsvFormatException>(() => VulnDbArchive.Read(zip, VulnDbLimits.Default with { MaxEntries = 2 }));
        Assert.Contains("more than 2 entries", e.Message);
        Assert.Throws<OsvFormatException>(() => VulnDbArchive.Read(new MemoryStream([1, 2, 3]), VulnDbLimits.Default));
        Assert.False(VulnDbSnapshot.IsValidId("../etc/passwd"));
    }
}
