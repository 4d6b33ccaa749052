using Warren.Protocol.SumDb;
using Warren.Server.SumDb;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.SumDb;

/// <summary>The test checksum database is a real one: the go command verifies downloads against it, and rejects them
/// when it lies. The same database then serves SumDbClient.</summary>
public sealed class SumDbGoClientTests
{
    private const string Module = "github.com/BurntSushi/toml";
    private const string Version = "v1.2.0";

    private static GoRunner Go(FakeUpstream upstream, TestSumDb db) =>
        new GoRunner(upstream.Url)
            .With("GOSUMDB", db.VerifierKey + " " + db.Url.TrimEnd('/'))
            .With("GONOSUMDB", "")
            .With("GOPRIVATE", "");

    [Fact]
    public async Task The_go_command_verifies_against_the_test_database_and_the_client_agrees()
    {
        var entry = Manifest.Get(Module, Version);
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var db = await TestSumDb.StartAsync();
        db.AddFiller(300);
        db.Add(entry.Path, entry.Version, entry.ZipHash, entry.ModHash);
        db.AddFiller(7, "example.com/after");

        var result = await Go(upstream, db).RunAsync(TestPaths.NewTempDir("sumdb-go"), "mod", "download", "-json", $"{Module}@{Version}");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("/lookup/github.com/!burnt!sushi/toml@v1.2.0", db.Requests);
        Assert.True(db.TileRequests > 0);

        using var http = new HttpClient();
        var client = new SumDbClient(db.VerifierKey, new Uri(db.Url), http, TestPaths.NewTempDir("sumdb-state"), TestPaths.NewTempDir("sumdb-tiles"));
        var lookup = await client.LookupAsync(Module, Version);
        Assert.True(lookup.IsOk, lookup.Message);
        Assert.Equal(entry.ZipHash, lookup.ZipHash);
        Assert.Equal(entry.ModHash, lookup.GoModHash);
        Assert.Null(client.CompareHashes(Module, Version, "upstream", entry.ZipHash, entry.ModHash, lookup));
    }

    [Fact]
    public async Task The_go_command_rejects_a_database_that_disagrees_or_lies()
    {
        var entry = Manifest.Get(Module, Version);
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);

        // The database holds a different zip hash: a checksum mismatch, which SumDbClient reports the same way.
        await using (var db = await TestSumDb.StartAsync())
        {
            var wrong = TestSumDb.FakeHash("not the zip");
            db.AddFiller(3);
            db.Add(entry.Path, entry.Version, wrong, entry.ModHash);

            var result = await Go(upstream, db).RunAsync(TestPaths.NewTempDir("sumdb-go"), "mod", "download", "-json", $"{Module}@{Version}");

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("verifying", result.Stdout + result.Stderr, StringComparison.Ordinal);
            Assert.Contains("checksum mismatch", result.Stdout + result.Stderr, StringComparison.Ordinal);

            using var http = new HttpClient();
            var client = new SumDbClient(db.VerifierKey, new Uri(db.Url), http, TestPaths.NewTempDir("sumdb-state"), TestPaths.NewTempDir("sumdb-tiles"));
            var lookup = await client.LookupAsync(Module, Version);
            Assert.True(lookup.IsOk, lookup.Message);
            Assert.Equal(
                $"checksum mismatch: {Module}@{Version}: zip h1 from upstream is {entry.ZipHash}, checksum database sum.test.example has {wrong}",
                client.CompareHashes(Module, Version, "upstream", entry.ZipHash, entry.ModHash, lookup));
        }

        // The database serves record text that is not in its log: both reject it.
        await using (var db = await TestSumDb.StartAsync())
        {
            db.AddFiller(3);
            db.Add(entry.Path, entry.Version, TestSumDb.FakeHash("logged"), entry.ModHash);
            db.TamperRecord = text => text.Replace(TestSumDb.FakeHash("logged"), entry.ZipHash, StringComparison.Ordinal);

            var result = await Go(upstream, db).RunAsync(TestPaths.NewTempDir("sumdb-go"), "mod", "download", "-json", $"{Module}@{Version}");

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("verifying", result.Stdout + result.Stderr, StringComparison.Ordinal);

            using var http = new HttpClient();
            var client = new SumDbClient(db.VerifierKey, new Uri(db.Url), http, TestPaths.NewTempDir("sumdb-state"), TestPaths.NewTempDir("sumdb-tiles"));
            Assert.Equal(SumDbLookupStatus.Invalid, (await client.LookupAsync(Module, Version)).Status);
        }
    }
}
