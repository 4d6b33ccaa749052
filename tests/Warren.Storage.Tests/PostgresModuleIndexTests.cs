using System.Security.Cryptography;
using System.Text;
using Warren.Core.SumDb;
using Warren.Storage.Postgres;
using Warren.Testing.Services;

namespace Warren.Storage.Tests;

/// <summary>The index contract on PostgreSQL: each index on a fresh schema; a shared one is a second node (its own
/// data source) on the same schema.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresModuleIndexTests(PostgresServer server) : ModuleIndexContract, IAsyncLifetime
{
    private readonly PostgresScratch _scratch = new(server);

    protected override async Task<IModuleIndex> CreateIndexAsync(IModuleIndex? shareWith = null) =>
        await _scratch.IndexAsync(shareWith is null ? null : ((PostgresModuleIndex)shareWith).Schema);

    [Fact]
    public async Task Artifacts_are_numbered_in_the_order_they_were_first_stored()
    {
        var index = await _scratch.IndexAsync();
        var t = DateTimeOffset.UnixEpoch;
        await index.RecordArtifactAsync(new("m.example/s", "v1.0.0", ArtifactKind.Mod, "h1:a=", 1, "up", t), CancellationToken.None);
        await index.RecordArtifactAsync(new("m.example/s", "v1.1.0", ArtifactKind.Mod, "h1:b=", 1, "up", t), CancellationToken.None);
        // Updating the first record must not move it after the second.
        await index.RecordArtifactAsync(new("m.example/s", "v1.0.0", ArtifactKind.Mod, "h1:c=", 2, "store", t), CancellationToken.None);
        await using var source = _scratch.DataSource(_scratch.Options(index.Schema));
        await using var command = source.CreateCommand($"SELECT version FROM \"{index.Schema}\".artifacts ORDER BY seq");
        var order = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                order.Add(reader.GetString(0));
            }
        }

        Assert.Equal(["v1.0.0", "v1.1.0"], order);
    }

    [Fact]
    public async Task Appenders_on_two_nodes_retrying_on_conflict_build_one_gapless_log()
    {
        var first = await _scratch.IndexAsync();
        var second = await _scratch.IndexAsync(first.Schema);
        const int Workers = 8, Batches = 5, PerBatch = 2;
        var appends = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            await using var log = await (w % 2 == 0 ? first : second).OpenHostedLogAsync("busy.example", CancellationToken.None);
            for (var b = 0; b < Batches; b++)
            {
                while (true)
                {
                    var size = (await log.ReadStateAsync(CancellationToken.None))?.Size ?? 0;
                    var entries = Enumerable.Range(0, PerBatch).Select(i => new HostedLogEntry($"m.example/w{w}", $"v1.{b}.{i}", Encoding.UTF8.GetBytes($"w{w} b{b} i{i}\n"))).ToList();
                    var count = Tlog.StoredHashCount(size + PerBatch) - Tlog.StoredHashCount(size);
                    var hashes = Enumerable.Range(0, (int)count).Select(_ => new LogHash(RandomNumberGenerator.GetBytes(LogHash.Size))).ToList();
                    if (await log.TryAppendAsync(size, entries, hashes, Encoding.UTF8.GetBytes($"head {size + PerBatch}\n"), CancellationToken.None))
                    {
                        break;
                    }
                }
            }
        })).ToList();
        await Task.WhenAll(appends);

        await using var reader = await first.OpenHostedLogAsync("busy.example", CancellationToken.None);
        var state = await reader.ReadStateAsync(CancellationToken.None);
        Assert.NotNull(state);
        Assert.Equal(Workers * Batches * PerBatch, state.Size);
        Assert.Equal($"head {state.Size}\n", Encoding.UTF8.GetString(state.SignedHead));
        var texts = (await reader.ReadRecordsAsync(0, (int)state.Size, CancellationToken.None)).Select(t => Encoding.UTF8.GetString(t)).ToList();
        Assert.Equal(texts.Count, texts.Distinct(StringComparer.Ordinal).Count());
        var allHashes = Enumerable.Range(0, (int)Tlog.StoredHashCount(state.Size)).Select(i => (long)i).ToList();
        Assert.Equal(allHashes.Count, (await reader.ReadHashesAsync(allHashes, CancellationToken.None)).Count);
        Assert.Equal(state.Size - 1, await reader.FindAsync("m.example/w" + texts[^1][1], "v1." + texts[^1][4] + "." + texts[^1][7], CancellationToken.None));
    }

    [Fact]
    public async Task The_probe_names_the_problem_without_the_password_when_the_server_is_unreachable()
    {
        // A port nothing listens on: the connection is refused at once.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var options = PostgresIndexOptions.FromSetting($"postgres://warren:s3cret-pw@127.0.0.1:{port}/warren?connect_timeout=5");
        var index = new PostgresModuleIndex(_scratch.DataSource(options), options);
        var reason = await index.ProbeAsync(CancellationToken.None);
        Assert.NotNull(reason);
        Assert.DoesNotContain('\n', reason);
        Assert.Contains($"127.0.0.1:{port}/warren", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", reason, StringComparison.Ordinal);
        Assert.Equal($"127.0.0.1:{port}/warren", index.Location);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scratch.DisposeAsync();
}
