using System.Text;
using Warren.Server.SumDb;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.SumDb;

/// <summary>The real go client judges Warren's hosted checksum database: GOSUMDB points at it, GONOSUMDB is empty,
/// and every module the go command downloads is verified against it, with proofs.</summary>
public sealed class HostedSumDbGoTests
{
    internal const string Name = "sum.warren.test";

    /// <summary>A fresh key pair of a hosted database: the signer file and the verifier key.</summary>
    internal static (string Signer, string VerifierKey) NewKey(string name = Name)
    {
        var (signer, _, verifier) = HostedSumDbKey.Generate(name, TestPaths.NewTempDir("keys"));
        return (signer, verifier);
    }

    /// <summary>A go client that verifies everything against the hosted database of warren, through warren.</summary>
    internal static GoRunner GoVerifyingWith(string warrenUrl, string verifierKey, string name = Name, string? home = null) =>
        new GoRunner(warrenUrl, home).With("GOSUMDB", $"{verifierKey} {warrenUrl}/sumdb/{name}").With("GONOSUMDB", "");

    [Fact]
    public async Task Go_builds_validate_closed_verifying_every_module_against_the_hosted_database_and_accepts_later_versions()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var (signer, verifierKey) = NewKey();
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.HostedSumDb = signer);
        var go = GoVerifyingWith(warren.Url, verifierKey);
        var modules = await ValidateClosed.BuildAndDownloadAllAsync(go, ValidateClosed.Copy());

        // The go command really consulted the database: it keeps the latest verified tree head it saw, and the
        // database holds the manifest's hashes (what the go client computes itself).
        var latestFile = Path.Combine(go.Home, "gopath", "pkg", "sumdb", Name, "latest");
        Assert.True(File.Exists(latestFile), "the go command kept no tree head of " + Name);
        var firstSize = TreeSize(File.ReadAllText(latestFile));
        Assert.True(firstSize >= modules.Count, $"tree of {firstSize} records for {modules.Count} modules");
        var entry = Manifest.Get("github.com/BurntSushi/toml", "v1.2.0");
        var lookup = await warren.Client.GetStringAsync($"sumdb/{Name}/lookup/github.com/!burnt!sushi/toml@v1.2.0");
        Assert.Contains($"github.com/BurntSushi/toml v1.2.0 {entry.ZipHash}\n", lookup);
        Assert.Contains($"github.com/BurntSushi/toml v1.2.0/go.mod {entry.ModHash}\n", lookup);

        // A version logged later (the tree grew) is accepted: the go command checks the new head extends the old one.
        var later = Manifest.All.First(e => !modules.Any(m => m.GetProperty("Path").GetString() == e.Path && m.GetProperty("Version").GetString() == e.Version));
        var outside = TestPaths.NewTempDir("later");
        var more = await go.RunAsync(outside, "mod", "download", "-json", later.ToString());
        Assert.True(more.ExitCode == 0, more.ToString());
        Assert.Equal(later.ZipHash, GoRunner.JsonStream(more.Stdout).Single().GetProperty("Sum").GetString());
        Assert.True(TreeSize(File.ReadAllText(latestFile)) > firstSize, "the go command did not see the grown tree");
    }

    [Fact]
    public async Task Go_refuses_a_tampered_record_and_a_tampered_tile()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var (signer, verifierKey) = NewKey();
        var root = TestPaths.NewTempDir("store");
        var entry = Manifest.Get("github.com/BurntSushi/toml", "v1.2.0");
        var outside = TestPaths.NewTempDir("outside");

        await using (var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.HostedSumDb = signer, root))
        {
            // Log a few versions, the one under test in the middle.
            foreach (var e in Manifest.All.Take(3).Append(entry).Concat(Manifest.All.Skip(10).Take(3)))
            {
                using var response = await warren.Client.GetAsync($"sumdb/{Name}/lookup/{Manifest.Escape(e.Path)}@{Manifest.Escape(e.Version)}");
                Assert.Equal(200, (int)response.StatusCode);
            }

            var control = await GoVerifyingWith(warren.Url, verifierKey).RunAsync(outside, "mod", "download", "-json", entry.ToString());
            Assert.True(control.ExitCode == 0, control.ToString());
        }

        // The log lives in the store's hosted-log database; tamper with its rows as an attacker with disk access would.
        var database = Path.Combine(root, ".warren", "hosted.db");
        var genuineRecord = (byte[])Scalar(database, "SELECT record FROM hosted_log_records WHERE log = $l AND module = $m AND version = $v",
            ("$m", entry.Path), ("$v", entry.Version))!;
        var genuineHash = (byte[])Scalar(database, "SELECT hash FROM hosted_log_hashes WHERE log = $l AND idx = 0")!;

        // 1. A record altered in place: one character of the zip hash.
        var text = Encoding.UTF8.GetString(genuineRecord);
        var at = text.IndexOf(entry.ZipHash, StringComparison.Ordinal) + 10;
        Assert.True(at > 10);
        var tampered = (byte[])genuineRecord.Clone();
        tampered[at] = (byte)(tampered[at] == (byte)'A' ? 'B' : 'A');
        Scalar(database, "UPDATE hosted_log_records SET record = $b WHERE log = $l AND module = $m AND version = $v", ("$b", tampered), ("$m", entry.Path), ("$v", entry.Version));
        await AssertGoRefusesAsync(upstream.Url, signer, root, verifierKey, entry);

        // 2. A hash tile altered: the stored hash of the first record.
        Scalar(database, "UPDATE hosted_log_records SET record = $b WHERE log = $l AND module = $m AND version = $v", ("$b", genuineRecord), ("$m", entry.Path), ("$v", entry.Version));
        var flipped = (byte[])genuineHash.Clone();
        flipped[0] ^= 0x55;
        Scalar(database, "UPDATE hosted_log_hashes SET hash = $b WHERE log = $l AND idx = 0", ("$b", flipped));
        await AssertGoRefusesAsync(upstream.Url, signer, root, verifierKey, entry);

        // The untouched log verifies again.
        Scalar(database, "UPDATE hosted_log_hashes SET hash = $b WHERE log = $l AND idx = 0", ("$b", genuineHash));
        await using (var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.HostedSumDb = signer, root))
        {
            var again = await GoVerifyingWith(warren.Url, verifierKey).RunAsync(outside, "mod", "download", "-json", entry.ToString());
            Assert.True(again.ExitCode == 0, again.ToString());
        }
    }

    /// <summary>Runs one statement on the hosted-log database (log = the test database's name); its scalar result.</summary>
    private static object? Scalar(string database, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$l", Name);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteScalar();
    }

    private static async Task AssertGoRefusesAsync(string upstream, string signer, string root, string verifierKey, ManifestEntry entry)
    {
        await using var warren = await WarrenInstance.StartAsync(upstream, o => o.HostedSumDb = signer, root);
        var result = await GoVerifyingWith(warren.Url, verifierKey).RunAsync(TestPaths.NewTempDir("outside"), "mod", "download", "-json", entry.ToString());
        Assert.True(result.ExitCode != 0, "the go command accepted a tampered log:\n" + result);
        Assert.Contains("verifying", result.ToString(), StringComparison.Ordinal);
    }

    internal static long TreeSize(string signedNote) => long.Parse(signedNote.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>kill -9 while the hosted database is appending: what survives is a verifiable prefix, and the log goes on.</summary>
public sealed class HostedSumDbCrashTests
{
    [Fact]
    public async Task Kill_9_during_appends_leaves_a_log_the_go_command_verifies_and_appending_continues()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var (signer, verifierKey) = HostedSumDbGoTests.NewKey();
        var root = TestPaths.NewTempDir("crash-hosted");
        var entries = Manifest.All.Where((_, i) => i % 3 == 0).Take(60).ToList();

        using (var server = await WarrenProcess.StartAsync(root, upstream.Url, "--hosted-sumdb", signer))
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
            upstream.ChunkSize = 16 * 1024;
            upstream.ChunkDelay = TimeSpan.FromMilliseconds(10);
            var lookups = entries.Select(e => client.GetAsync($"{server.Url}/sumdb/{HostedSumDbGoTests.Name}/lookup/{Manifest.Escape(e.Path)}@{Manifest.Escape(e.Version)}")).ToList();

            // Kill once appending is under way.
            for (var i = 0; i < 600 && HostedSumDbGoTests.TreeSize(await client.GetStringAsync($"{server.Url}/sumdb/{HostedSumDbGoTests.Name}/latest")) < 3; i++)
            {
                await Task.Delay(20);
            }

            server.Kill();
            foreach (var t in lookups)
            {
                try
                {
                    using var _ = await t;
                }
                catch (HttpRequestException)
                {
                }
            }
        }

        // Restarted on the same store, the log opens (uncommitted tails dropped) and the go client verifies all of it.
        upstream.ChunkSize = 0;
        using (var server = await WarrenProcess.StartAsync(root, upstream.Url, "--hosted-sumdb", signer))
        {
            using var client = new HttpClient();
            var before = HostedSumDbGoTests.TreeSize(await client.GetStringAsync($"{server.Url}/sumdb/{HostedSumDbGoTests.Name}/latest"));
            Assert.True(before < entries.Count, $"the kill came too late to interrupt anything ({before} records)");

            var go = HostedSumDbGoTests.GoVerifyingWith(server.Url, verifierKey);
            var result = await go.RunAsync(TestPaths.NewTempDir("crash-go"), ["mod", "download", "-json", .. entries.Select(e => e.ToString())]);
            Assert.True(result.ExitCode == 0, result.ToString());
            foreach (var o in GoRunner.JsonStream(result.Stdout))
            {
                Assert.Equal(Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!).ZipHash, o.GetProperty("Sum").GetString());
            }

            var after = HostedSumDbGoTests.TreeSize(await client.GetStringAsync($"{server.Url}/sumdb/{HostedSumDbGoTests.Name}/latest"));
            Assert.Equal(entries.Count, after);
        }
    }
}
