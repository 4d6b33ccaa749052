using System.Net;
using System.Security.Cryptography;
using Npgsql;
using Warren.Server.Configuration;
using Warren.Server.Tests.Infrastructure;
using Warren.Testing.Services;

namespace Warren.Server.Tests.Cluster;

/// <summary>The services a cluster shares: one PostgreSQL and one S3-compatible server for the whole class (each test
/// gets a database and a bucket prefix of its own).</summary>
public sealed class ClusterServices : IDisposable
{
    public PostgresServer Postgres { get; } = new();

    public S3ServerFixture S3 { get; } = new();

    /// <summary>A fresh database on the server; its connection string.</summary>
    public string NewDatabase()
    {
        var name = "c_" + Guid.NewGuid().ToString("N")[..16];
        using (var connection = new NpgsqlConnection(Postgres.ConnectionString))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            create.ExecuteNonQuery();
        }

        return new NpgsqlConnectionStringBuilder(Postgres.ConnectionString) { Database = name }.ConnectionString;
    }

    public void Dispose()
    {
        S3.Dispose();
        Postgres.Dispose();
    }
}

/// <summary>Several Warren nodes on loopback sharing one bucket and one database, behind nginx, with the corpus as
/// upstream: what issue "scale out" promises, checked with the real go client.</summary>
public sealed class ClusterTests(ClusterServices services) : IClassFixture<ClusterServices>
{
    private sealed class Cluster : IAsyncDisposable
    {
        public required FakeUpstream Upstream { get; init; }

        public required List<WarrenInstance> Nodes { get; init; }

        public required NginxBalancer Balancer { get; init; }

        public required string Index { get; init; }

        public required string Store { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Balancer.DisposeAsync();
            foreach (var node in Nodes)
            {
                await node.DisposeAsync();
            }

            await Upstream.DisposeAsync();
        }
    }

    private void Shared(WarrenOptionsBuilder o, string store, string index)
    {
        o.Store = store;
        o.S3Endpoint = services.S3.Endpoint;
        o.S3PathStyle = true;
        o.Index = index;
    }

    private async Task<Cluster> StartAsync(int nodes = 3, Action<FakeUpstream>? upstreamSetup = null, Action<WarrenOptionsBuilder>? configure = null)
    {
        var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        upstreamSetup?.Invoke(upstream);
        var store = $"s3://{services.S3.Bucket}/{S3ServerFixture.NewPrefix().TrimEnd('/')}";
        var index = services.NewDatabase();
        var list = new List<WarrenInstance>();
        for (var i = 0; i < nodes; i++)
        {
            list.Add(await WarrenInstance.StartAsync(upstream.Url, o =>
            {
                Shared(o, store, index);
                configure?.Invoke(o);
            }));
        }

        var balancer = await NginxBalancer.StartAsync(list.Select(n => n.Url));
        return new Cluster { Upstream = upstream, Nodes = list, Balancer = balancer, Index = index, Store = store };
    }

    [Fact]
    public async Task The_go_client_downloads_the_whole_corpus_through_three_nodes_with_the_manifest_hashes()
    {
        await using var cluster = await StartAsync();
        var work = TestPaths.NewTempDir("cluster-dl");
        var go = new GoRunner(cluster.Balancer.Url);
        var args = new List<string> { "mod", "download", "-json" };
        args.AddRange(Manifest.All.Select(e => e.Path + "@" + e.Version));

        var result = await go.RunAsync(work, args.ToArray());

        Assert.True(result.ExitCode == 0, result.ToString());
        var objects = GoRunner.JsonStream(result.Stdout);
        Assert.Equal(262, objects.Count);
        foreach (var o in objects)
        {
            Assert.False(o.TryGetProperty("Error", out var error), error.ToString());
            var expected = Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!);
            Assert.Equal(expected.ZipHash, o.GetProperty("Sum").GetString());
            Assert.Equal(expected.ModHash, o.GetProperty("GoModSum").GetString());
        }

        // Every node served some of it, and no version was fetched from upstream twice.
        var served = cluster.Balancer.AccessLog.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[^1]).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(3, served.Count);
        Assert.Equal(262, cluster.Upstream.HitsFor(".zip"));
    }

    [Fact]
    public async Task A_cold_herd_across_three_nodes_costs_one_upstream_fetch_and_everyone_gets_the_same_bytes()
    {
        var entry = Manifest.All.OrderBy(e => Math.Abs(new FileInfo(e.ZipPath).Length - 200_000)).First();
        var relative = $"{Manifest.Escape(entry.Path)}/@v/{Manifest.Escape(entry.Version)}.zip";
        await using var cluster = await StartAsync(upstreamSetup: u => u.Delay = TimeSpan.FromMilliseconds(300));
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var url = cluster.Balancer.Url + "/" + relative;

        var bodies = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            using var response = await http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return Convert.ToHexString(SHA256.HashData(await response.Content.ReadAsByteArrayAsync()));
        }));

        Assert.Single(bodies.Distinct());
        Assert.Equal(Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(entry.ZipPath))), bodies[0]);
        Assert.Equal(1, cluster.Upstream.HitsFor(relative));
        var nodes = cluster.Balancer.AccessLog.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[^1]).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(3, nodes.Count);

        // A cold list refresh is coalesced across the nodes the same way.
        var list = $"{Manifest.Escape(entry.Path)}/@v/list";
        var lists = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => http.GetStringAsync(cluster.Balancer.Url + "/" + list)));
        Assert.Single(lists.Distinct());
        Assert.Contains(entry.Version, lists[0], StringComparison.Ordinal);
        Assert.Equal(1, cluster.Upstream.HitsFor(list));
    }

    [Fact]
    public async Task A_node_restarted_with_an_empty_disk_serves_everything_from_the_bucket_and_the_database()
    {
        await using var cluster = await StartAsync(nodes: 1);
        var work = TestPaths.NewTempDir("cluster-restart");
        var some = Manifest.All.Take(20).Select(e => e.Path + "@" + e.Version).ToArray();
        var first = await new GoRunner(cluster.Balancer.Url).RunAsync(work, ["mod", "download", "-json", .. some]);
        Assert.True(first.ExitCode == 0, first.ToString());

        // A new node, new empty root, the upstream gone: everything comes from S3 and PostgreSQL.
        await cluster.Upstream.DisposeAsync();
        await using var fresh = await WarrenInstance.StartAsync("off", o => Shared(o, cluster.Store, cluster.Index));
        var again = await new GoRunner(fresh.Url).RunAsync(work, ["mod", "download", "-json", .. some]);
        Assert.True(again.ExitCode == 0, again.ToString());
        var objects = GoRunner.JsonStream(again.Stdout);
        Assert.Equal(20, objects.Count);
        Assert.All(objects, o => Assert.Equal(Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!).ZipHash, o.GetProperty("Sum").GetString()));
    }

    [Fact]
    public async Task A_node_killed_in_the_middle_of_a_cold_download_loses_nothing_and_another_node_takes_over_its_lease()
    {
        // A zip of about 1 MB, sent by the upstream slowly enough to kill its fetcher in the middle.
        var entry = Manifest.All.Where(e => !e.Version.Contains('+', StringComparison.Ordinal)).OrderBy(e => Math.Abs(new FileInfo(e.ZipPath).Length - 1_000_000)).First();
        var relative = $"{Manifest.Escape(entry.Path)}/@v/{Manifest.Escape(entry.Version)}.zip";
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        upstream.ChunkSize = 16 * 1024;
        upstream.ChunkDelay = TimeSpan.FromMilliseconds(60);
        var store = $"s3://{services.S3.Bucket}/{S3ServerFixture.NewPrefix().TrimEnd('/')}";
        var index = services.NewDatabase();
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { ["WARREN_CLUSTERLEASEDURATION"] = "00:00:05" };
        string[] shared = ["--store", store, "--s3-endpoint", services.S3.Endpoint, "--s3-path-style", "--index", index];
        var nodes = new List<WarrenProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                nodes.Add(await WarrenProcess.StartAsync(TestPaths.NewTempDir("node"), upstream.Url, env, [.. shared, "--node-name", "node-" + i]));
            }

            await using var balancer = await NginxBalancer.StartAsync(nodes.Select(n => n.Url));

            // Node 0 starts the cold fetch (and holds the lease); it is killed while the zip is half way.
            using var direct = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
            var doomed = direct.GetAsync(nodes[0].Url + "/" + relative);
            for (var i = 0; i < 200 && upstream.HitsFor(relative) == 0; i++)
            {
                await Task.Delay(50);
            }

            Assert.Equal(1, upstream.HitsFor(relative));
            await Task.Delay(500);
            nodes[0].Kill();

            // At once, while the dead node's lease still runs, another node is asked: it waits, then takes over.
            var waiting = direct.GetByteArrayAsync(nodes[1].Url + "/" + relative);
            await Assert.ThrowsAnyAsync<Exception>(async () => (await doomed).EnsureSuccessStatusCode());

            // Nothing partial is visible: the object is not there at all yet.
            using var probe = new HttpClient();
            Assert.Equal(HttpStatusCode.NotFound, (await probe.GetAsync($"{services.S3.Endpoint}/{store["s3://".Length..]}/{relative}")).StatusCode);

            // The go client, through the balancer, gets the module: another node took the lease over once it expired.
            var go = new GoRunner(balancer.Url);
            var result = await go.RunAsync(TestPaths.NewTempDir("after-kill"), "mod", "download", "-json", entry.ToString());
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal(entry.ZipHash, GoRunner.JsonStream(result.Stdout).Single().GetProperty("Sum").GetString());
            Assert.Equal(await File.ReadAllBytesAsync(entry.ZipPath), await waiting);
            Assert.Equal(2, upstream.HitsFor(relative));
            Assert.Contains(nodes.Skip(1), n => n.Output.Contains("Took over the cluster lease", StringComparison.Ordinal));

            // The object in the bucket is the complete zip.
            var stored = await probe.GetByteArrayAsync($"{services.S3.Endpoint}/{store["s3://".Length..]}/{relative}");
            Assert.Equal(await File.ReadAllBytesAsync(entry.ZipPath), stored);

            // The console of any node lists the nodes sharing the index from their heartbeats (the killed one is still
            // "up" until three heartbeats are missed), and marks itself.
            using var overview = System.Text.Json.JsonDocument.Parse(await probe.GetStringAsync(nodes[2].Url + "/api/overview"));
            var listed = overview.RootElement.GetProperty("cluster").GetProperty("nodes").EnumerateArray()
                .Select(n => (Node: n.GetProperty("node").GetString(), Up: n.GetProperty("up").GetBoolean(), This: n.GetProperty("this").GetBoolean()))
                .ToList();
            Assert.Equal(["node-0", "node-1", "node-2"], listed.Select(n => n.Node));
            Assert.All(listed, n => Assert.True(n.Up));
            Assert.Equal("node-2", Assert.Single(listed, n => n.This).Node);
            Assert.True(overview.RootElement.GetProperty("cluster").GetProperty("shared").GetBoolean());
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Kill();
                node.Dispose();
            }
        }
    }

    [Fact]
    public async Task Versions_logged_through_three_nodes_form_one_hosted_checksum_database_the_go_client_verifies()
    {
        var (signer, verifierKey) = SumDb.HostedSumDbGoTests.NewKey();
        await using var cluster = await StartAsync(configure: o => o.HostedSumDb = signer);
        var go = SumDb.HostedSumDbGoTests.GoVerifyingWith(cluster.Balancer.Url, verifierKey);
        var first = Manifest.All.Take(12).Select(e => e.ToString()).ToArray();
        var result = await go.RunAsync(TestPaths.NewTempDir("hosted-1"), ["mod", "download", "-json", .. first]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.All(GoRunner.JsonStream(result.Stdout), o => Assert.False(o.TryGetProperty("Error", out _), o.ToString()));

        // Every node serves the same signed tree.
        using var http = new HttpClient();
        var heads = await Task.WhenAll(cluster.Nodes.Select(n => http.GetStringAsync($"{n.Url}/sumdb/{SumDb.HostedSumDbGoTests.Name}/latest")));
        var sizes = heads.Select(h => long.Parse(h.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(sizes.Max() >= 12, string.Join(", ", sizes));

        // Later versions, logged through the nodes, extend the tree the go client already trusts (it checks the proof).
        var later = Manifest.All.Skip(12).Take(12).Select(e => e.ToString()).ToArray();
        var more = await go.RunAsync(TestPaths.NewTempDir("hosted-2"), ["mod", "download", "-json", .. later]);
        Assert.True(more.ExitCode == 0, more.ToString());
        var latest = await File.ReadAllTextAsync(Path.Combine(go.Home, "gopath", "pkg", "sumdb", SumDb.HostedSumDbGoTests.Name, "latest"));
        Assert.True(long.Parse(latest.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture) >= 24, latest);
        var servedBy = cluster.Balancer.AccessLog.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.Contains("/lookup/", StringComparison.Ordinal)).Select(l => l.Split(' ')[^1]).ToHashSet(StringComparer.Ordinal);
        Assert.True(servedBy.Count >= 2, "lookups were served by " + string.Join(", ", servedBy));
    }

    [Fact]
    public async Task A_store_copied_into_the_bucket_and_the_database_serves_the_whole_corpus()
    {
        var store = $"s3://{services.S3.Bucket}/{S3ServerFixture.NewPrefix().TrimEnd('/')}";
        var index = services.NewDatabase();
        string[] copy = [WarrenProcess.Dll, "store", "copy", "--from", TestPaths.Corpus, "--to", store, "--s3-endpoint", services.S3.Endpoint, "--s3-path-style", "--jobs", "8"];
        // This process's environment (the AWS credentials of the S3 server included), plus the index.
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
        env["WARREN_INDEX"] = index;

        var first = await Processes.RunAsync("dotnet", null, env, copy, timeout: TimeSpan.FromMinutes(5));
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("0 failed", first.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", first.Stdout, StringComparison.Ordinal);

        // Run again (as after an interruption): nothing is copied twice.
        var again = await Processes.RunAsync("dotnet", null, env, [.. copy, "--json"], timeout: TimeSpan.FromMinutes(5));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Matches("(^|[^0-9])0 copied, [1-9][0-9]* already there, 0 failed", again.Stdout);

        // A node with no upstream at all serves every version from the copy.
        await using var node = await WarrenInstance.StartAsync("off", o => Shared(o, store, index));
        var go = new GoRunner(node.Url);
        var result = await go.RunAsync(TestPaths.NewTempDir("from-copy"), ["mod", "download", "-json", .. Manifest.All.Select(e => e.ToString())]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var objects = GoRunner.JsonStream(result.Stdout);
        Assert.Equal(262, objects.Count);
        Assert.All(objects, o => Assert.Equal(Manifest.Get(o.GetProperty("Path").GetString()!, o.GetProperty("Version").GetString()!).ZipHash, o.GetProperty("Sum").GetString()));
    }

    [Fact]
    public async Task A_not_found_learned_by_one_node_is_known_to_the_others_without_asking_upstream()
    {
        await using var cluster = await StartAsync();
        const string missing = "github.com/pkg/errors/@v/v9.9.9.info";
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{cluster.Nodes[0].Url}/{missing}")).StatusCode);
        Assert.Equal(1, cluster.Upstream.HitsFor(missing));
        foreach (var node in cluster.Nodes.Skip(1))
        {
            using var response = await http.GetAsync($"{node.Url}/{missing}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("v9.9.9", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(1, cluster.Upstream.HitsFor(missing));
    }
}
