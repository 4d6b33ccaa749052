using Warren.Storage;

namespace Warren.Storage.Tests;

/// <summary>What the web console asks of every provider: counts, module search and verification records.</summary>
public abstract partial class ModuleIndexContract
{
    private static readonly DateTimeOffset S0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Stats_count_modules_and_present_versions_and_their_bytes()
    {
        var index = await CreateIndexAsync();
        Assert.Equal(new IndexStats(0, 0, 0, 0), await index.GetStatsAsync(Ct));
        await index.RecordArtifactAsync(new("s.example/a", "v1.0.0", ArtifactKind.Zip, "h1:a=", 100, "https://up", S0), Ct);
        await index.RecordArtifactAsync(new("s.example/a", "v1.0.0", ArtifactKind.Mod, "h1:b=", 10, "https://up", S0), Ct);
        await index.RecordArtifactAsync(new("s.example/a", "v1.1.0", ArtifactKind.Zip, "h1:c=", 200, "https://up", S0.AddMinutes(1)), Ct);
        await index.RecordArtifactAsync(new("s.example/b", "v0.1.0", ArtifactKind.Info, null, 5, "https://up", S0.AddMinutes(2)), Ct);
        Assert.Equal(new IndexStats(2, 3, 315, 0), await index.GetStatsAsync(Ct));

        await index.RecordEvictionsAsync([("s.example/a", "v1.1.0")], S0.AddHours(1), Ct);
        Assert.Equal(new IndexStats(2, 2, 115, 1), await index.GetStatsAsync(Ct));
    }

    [Fact]
    public async Task Search_finds_prefixes_and_substrings_in_path_order_case_insensitive_and_pages()
    {
        var index = await CreateIndexAsync();
        var modules = new[] { "github.com/pkg/errors", "github.com/pkg/sftp", "github.com/Masterminds/semver", "gopkg.in/errgo.v2", "golang.org/x/text" };
        for (var i = 0; i < modules.Length; i++)
        {
            await index.RecordArtifactAsync(new(modules[i], "v1.0.0", ArtifactKind.Zip, "h1:x=", 1, "https://up", S0.AddMinutes(i)), Ct);
        }

        await index.RecordArtifactAsync(new("github.com/pkg/errors", "v0.9.1", ArtifactKind.Zip, "h1:y=", 1, "https://up", S0.AddHours(1)), Ct);

        var errors = await index.SearchModulesAsync("pkg/errors", null, 10, Ct);
        var match = Assert.Single(errors);
        Assert.Equal(("github.com/pkg/errors", 2L), (match.ModulePath, match.Versions));
        Assert.Equal(S0.AddHours(1), match.LastStored);

        Assert.Equal(["github.com/Masterminds/semver", "github.com/pkg/errors", "github.com/pkg/sftp"],
            (await index.SearchModulesAsync("github.com/", null, 10, Ct)).Select(m => m.ModulePath));
        Assert.Equal(["github.com/pkg/errors", "gopkg.in/errgo.v2"], (await index.SearchModulesAsync("ERR", null, 10, Ct)).Select(m => m.ModulePath));
        Assert.Equal(["github.com/Masterminds/semver"], (await index.SearchModulesAsync("masterminds", null, 10, Ct)).Select(m => m.ModulePath));

        // Paging by the last path; an empty query lists everything; LIKE wildcards are plain characters.
        var first = await index.SearchModulesAsync("", null, 2, Ct);
        Assert.Equal(["github.com/Masterminds/semver", "github.com/pkg/errors"], first.Select(m => m.ModulePath));
        Assert.Equal(["github.com/pkg/sftp", "golang.org/x/text"], (await index.SearchModulesAsync("", first[^1].ModulePath, 2, Ct)).Select(m => m.ModulePath));
        Assert.Empty(await index.SearchModulesAsync("%", null, 10, Ct));
        Assert.Empty(await index.SearchModulesAsync("_", null, 10, Ct));
        Assert.Empty(await index.SearchModulesAsync("'; DROP TABLE feed; --", null, 10, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => index.SearchModulesAsync("", null, ModuleSearch.MaxLimit + 1, Ct));
    }

    [Fact]
    public async Task Verifications_are_recorded_per_version_and_replaced()
    {
        var index = await CreateIndexAsync();
        var second = await CreateIndexAsync(shareWith: index);
        Assert.Empty(await index.ReadVerificationsAsync("v.example/m", Ct));
        await index.RecordVerificationAsync(new("v.example/m", "v1.0.0", "sum.golang.org", 1234, S0), Ct);
        await second.RecordVerificationAsync(new("v.example/m", "v1.1.0", "sum.golang.org", 1300, S0.AddMinutes(1)), Ct);
        await index.RecordVerificationAsync(new("v.example/m", "v1.0.0", "sum.golang.org", 1250, S0.AddMinutes(2)), Ct);
        await index.RecordVerificationAsync(new("v.example/other", "v1.0.0", "sum.golang.org", 1, S0), Ct);

        var records = (await second.ReadVerificationsAsync("v.example/m", Ct)).OrderBy(v => v.Version, StringComparer.Ordinal).ToList();
        Assert.Equal(
        [
            new VersionVerification("v.example/m", "v1.0.0", "sum.golang.org", 1250, S0.AddMinutes(2)),
            new VersionVerification("v.example/m", "v1.1.0", "sum.golang.org", 1300, S0.AddMinutes(1)),
        ], records);
    }
}
