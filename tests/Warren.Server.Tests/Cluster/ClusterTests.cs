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

    private async Task<Cluster> StartAsync(int nodes = 3, Action<FakeUpstream>? upstreamSetup = null)
    {
        var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        upstreamSetup?.Invoke(upstream);
        var store = $"s3://{services.S3.Bucket}/{S3ServerFixture.NewPrefix().TrimEnd('/')}";
        var index = services.NewDatabase();
        var list = new List<WarrenInstance>();
        for (var i = 0; i < nodes; i++)
        {
            list.Add(await WarrenInstance.StartAsync(upstream.Url, o => Shared(o, store, index)));
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
}
