using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Warren.Server.Configuration;
using Warren.Server.Storage;
using Warren.Server.Tests.Infrastructure;
using Warren.Storage;
using Warren.Testing.Services;

namespace Warren.Server.Tests.Cluster;

/// <summary>Nodes on object storage keep local copies of the zips they serve: the node that verified a zip keeps its
/// staged file, another node copies it from the bucket after the first request; copies are served like stored files,
/// survive a restart, never outgrow their budget, and what a crash left half-written is never used.</summary>
public sealed class LocalCopyTests(ClusterServices services) : IClassFixture<ClusterServices>
{
    private static ManifestEntry[] Entries(int count, int aroundBytes) => Manifest.All.Where(e => !e.Version.Contains('+', StringComparison.Ordinal))
        .OrderBy(e => Math.Abs(new FileInfo(e.ZipPath).Length - aroundBytes)).Take(count).ToArray();

    private static string ZipUrl(ManifestEntry e) => $"{Manifest.Escape(e.Path)}/@v/{Manifest.Escape(e.Version)}.zip";

    private Action<WarrenOptionsBuilder> Shared(string store, string index, string? localCache = null) => o =>
    {
        o.Store = store;
        o.S3Endpoint = services.S3.Endpoint;
        o.S3PathStyle = true;
        o.Index = index;
        o.LocalCache = localCache;
    };

    private static LocalObjectCache CopiesOf(WarrenInstance node) => node.Services.GetRequiredService<LocalObjectCache>();

    [Fact]
    public async Task Zips_are_served_from_local_copies_made_by_the_verifying_node_and_by_the_others_and_kept_across_a_restart()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var shared = Shared($"s3://{services.S3.Bucket}/{S3ServerFixture.NewPrefix().TrimEnd('/')}", services.NewDatabase());
        var entry = Entries(1, 200_000)[0];
        var bytes = await File.ReadAllBytesAsync(entry.ZipPath);
        var key = StoreLayout.ArtifactKey(entry.Path, entry.Version, ArtifactKind.Zip);

        // The node that fetched and verified the zip keeps its staged file: a copy at once, nothing read back.
        await using var first = await WarrenInstance.StartAsync(upstream.Url, shared);
        Assert.Equal(bytes, await first.Client.GetByteArrayAsync(ZipUrl(entry)));
        Assert.Equal(1, CopiesOf(first).Count);
        Assert.Equal(bytes.Length, CopiesOf(first).Bytes);

        // Another node serves its first request from the bucket and copies it in the background.
        var secondRoot = TestPaths.NewTempDir("local-copy");
        await using (var second = await WarrenInstance.StartAsync(upstream.Url, shared, root: secondRoot))
        {
            Assert.Equal(0, CopiesOf(second).Count);
            Assert.Equal(bytes, await second.Client.GetByteArrayAsync(ZipUrl(entry)));
            await CopiesOf(second).WhenIdleAsync();
            Assert.Equal(1, CopiesOf(second).Count);
            var stored = await second.Services.GetRequiredService<IArtifactStore>().GetAsync(key, CancellationToken.None);
            var local = CopiesOf(second).TryGet(stored!);
            Assert.NotNull(local);
            Assert.StartsWith(secondRoot, local.LocalPath!, StringComparison.Ordinal);
            Assert.Equal(stored!.ETag, local.ETag);
            Assert.Equal(bytes, await File.ReadAllBytesAsync(local.LocalPath!));

            // Served from the copy with the same validators as from the bucket.
            using var response = await second.Client.GetAsync(ZipUrl(entry));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(stored.ETag, response.Headers.ETag!.ToString());
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        }

        // What a crash can leave: a temporary file, data without a description, a description of a missing or short file.
        var objects = Path.Combine(secondRoot, ".warren", "objects");
        await File.WriteAllTextAsync(Path.Combine(objects, "tmp", "partial"), "half");
        await File.WriteAllTextAsync(Path.Combine(objects, "orphan.data"), "no description");
        await File.WriteAllTextAsync(Path.Combine(objects, "missing.json"), $$"""{"Key":"{{key}}x","Length":4,"ETag":"\"e\"","LastModified":"2026-01-01T00:00:00Z"}""");
        await File.WriteAllTextAsync(Path.Combine(objects, "short.data"), "ab");
        await File.WriteAllTextAsync(Path.Combine(objects, "short.json"), $$"""{"Key":"{{key}}y","Length":4,"ETag":"\"e\"","LastModified":"2026-01-01T00:00:00Z"}""");

        // After a restart the copy is still there; the leftovers are gone.
        await using (var restarted = await WarrenInstance.StartAsync(upstream.Url, shared, root: secondRoot))
        {
            Assert.Equal(1, CopiesOf(restarted).Count);
            Assert.Equal(2, Directory.GetFiles(objects).Length);
            Assert.Empty(Directory.GetFiles(Path.Combine(objects, "tmp")));
            Assert.Equal(bytes, await restarted.Client.GetByteArrayAsync(ZipUrl(entry)));

            // The copy alone answers now: the object leaves the bucket behind the node's back and the node still serves it.
            Assert.True(await restarted.Services.GetRequiredService<IArtifactStore>().DeleteAsync(key, CancellationToken.None));
            Assert.Equal(bytes, await restarted.Client.GetByteArrayAsync(ZipUrl(entry)));
        }

        Assert.Equal(1, upstream.HitsFor(ZipUrl(entry)));
    }

    [Fact]
    public async Task Local_copies_stay_within_their_budget_and_are_off_when_zips_are_redirected()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var store = $"s3://{services.S3.Bucket}/{S3ServerFixture.NewPrefix().TrimEnd('/')}";
        var entries = Entries(12, 12_000);
        var budget = 4 * entries.Max(e => new FileInfo(e.ZipPath).Length);
        await using (var node = await WarrenInstance.StartAsync(upstream.Url, Shared(store, services.NewDatabase(), budget.ToString(System.Globalization.CultureInfo.InvariantCulture))))
        {
            foreach (var entry in entries)
            {
                Assert.Equal(await File.ReadAllBytesAsync(entry.ZipPath), await node.Client.GetByteArrayAsync(ZipUrl(entry)));
                Assert.InRange(CopiesOf(node).Bytes, 1, budget);
            }

            var onDisk = Directory.GetFiles(Path.Combine(node.Root, ".warren", "objects"), "*.data").Sum(f => new FileInfo(f).Length);
            Assert.InRange(onDisk, 1, budget);
            Assert.InRange(CopiesOf(node).Count, 1, entries.Length - 1);
        }

        await using var redirecting = await WarrenInstance.StartAsync(upstream.Url, o =>
        {
            Shared(store, services.NewDatabase())(o);
            o.S3Redirect = true;
        });
        Assert.False(CopiesOf(redirecting).Enabled);
    }

    [Fact]
    public async Task A_node_on_the_file_store_makes_no_local_copies()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var node = await WarrenInstance.StartAsync(upstream.Url);
        var entry = Entries(1, 50_000)[0];
        Assert.Equal(await File.ReadAllBytesAsync(entry.ZipPath), await node.Client.GetByteArrayAsync(ZipUrl(entry)));
        Assert.False(CopiesOf(node).Enabled);
        Assert.False(Directory.Exists(Path.Combine(node.Root, ".warren", "objects")));
    }

    [Fact]
    public void The_local_cache_size_is_validated()
    {
        var options = new WarrenOptionsBuilder { Root = TestPaths.NewTempDir("options"), LocalCache = "lots" }.Build();
        var problems = new WarrenOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Contains(problems, p => p.StartsWith("local cache: invalid size", StringComparison.Ordinal));
    }
}
