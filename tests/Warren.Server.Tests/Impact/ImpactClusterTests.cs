using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Warren.Core.Vulns;
using Warren.Server.Impact;
using Warren.Server.Tests.Infrastructure;
using Warren.Testing.Services;
using Warren.Tools.Impact;

namespace Warren.Server.Tests.Impact;

/// <summary>Two nodes sharing one PostgreSQL index: download records meet in the index, and when both nodes see the same
/// refresh the webhook still gets one event.</summary>
public sealed class ImpactClusterTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    private const string Module = "github.com/mattn/go-isatty";

    private string NewDatabase()
    {
        var name = "i_" + Guid.NewGuid().ToString("N")[..16];
        using (var connection = new NpgsqlConnection(postgres.ConnectionString))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            create.ExecuteNonQuery();
        }

        return new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Database = name }.ConnectionString;
    }

    [Fact]
    public async Task Both_nodes_counts_meet_in_the_index_and_a_refresh_seen_by_both_sends_one_event()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var posts = new ConcurrentQueue<string>();
        var (receiver, receiverUrl) = await LoopbackApp.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            posts.Enqueue(await reader.ReadToEndAsync());
            context.Response.StatusCode = 200;
        });
        try
        {
            var index = NewDatabase();
            var catalogs = new[] { new TestAdvisoryCatalog(), new TestAdvisoryCatalog() };
            var nodes = new List<WarrenInstance>();
            for (var i = 0; i < 2; i++)
            {
                var name = "node-" + (char)('a' + i);
                var catalog = catalogs[i];
                nodes.Add(await WarrenInstance.StartAsync(upstream.Url, o =>
                {
                    o.Index = index;
                    o.NodeName = name;
                    o.AlertWebhook = receiverUrl + "/hook";
                    o.EgressAllow = "127.0.0.1:" + new Uri(receiverUrl).Port;
                }, services: s => s.AddSingleton<IAdvisoryCatalog>(catalog)));
            }

            try
            {
                foreach (var node in nodes)
                {
                    using var zip = await node.Client.GetAsync($"{Module}/@v/v0.0.14.zip");
                    Assert.True(zip.IsSuccessStatusCode, zip.ToString());
                    await node.Services.GetRequiredService<DownloadRecords>().FlushAsync(CancellationToken.None);
                }

                var advisory = TestAdvisoryCatalog.Against("GO-2026-0200", Module, "v0.0.15");
                await Task.WhenAll(catalogs.Select((c, i) => c.RefreshAsync(nodes[i].Services, [advisory], firstLoad: true)));

                var report = await new ServedImpactClient(nodes[1].Client).GetAsync(new Uri(nodes[1].Url), "7d", null, CancellationToken.None);
                Assert.True(report.Succeeded, report.Error);
                var client = Assert.Single(Assert.Single(report.Report!.Versions).Clients);
                Assert.Equal(("anonymous", 2L), (client.Client, client.Downloads));
                Assert.Equal(["node-a", "node-b"], client.Nodes);

                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (posts.IsEmpty && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }

                await Task.Delay(1500);
                var evt = JsonDocument.Parse(Assert.Single(posts)).RootElement;
                Assert.Equal(2, evt.GetProperty("versions")[0].GetProperty("clients")[0].GetProperty("downloads").GetInt32());
            }
            finally
            {
                foreach (var node in nodes)
                {
                    await node.DisposeAsync();
                }
            }
        }
        finally
        {
            await LoopbackApp.StopAsync(receiver);
        }
    }
}
