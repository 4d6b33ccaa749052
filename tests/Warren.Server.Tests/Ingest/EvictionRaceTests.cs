using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Warren.Server.Tests.Infrastructure;
using Warren.Storage;

namespace Warren.Server.Tests.Ingest;

/// <summary>Under a store quota an object may be evicted between being found and being read. Such a read is a miss,
/// never an error for the client.</summary>
public sealed class EvictionRaceTests
{
    private const string Module = "github.com/pkg/errors";
    private const string Version = "v0.9.1";

    [Fact]
    public async Task A_mod_evicted_between_its_lookup_and_its_read_is_fetched_again_for_the_zips_check()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, services: EvictOnRead.Register);
        var evicting = (EvictOnRead)warren.Services.GetRequiredService<IArtifactStore>();

        using (var mod = await warren.Client.GetAsync($"{Module}/@v/{Version}.mod"))
        {
            Assert.Equal(HttpStatusCode.OK, mod.StatusCode);
        }

        Assert.Equal(1, upstream.HitsFor($"{Version}.mod"));

        // The zip's check reads the stored .mod: the store finds it, and it is gone before it is read.
        evicting.EvictNext = $"{Module}/@v/{Version}.mod";
        using var zip = await warren.Client.GetAsync($"{Module}/@v/{Version}.zip");
        Assert.True(zip.StatusCode == HttpStatusCode.OK, await zip.Content.ReadAsStringAsync());
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(TestPaths.Corpus, Module, "@v", Version + ".zip")), await zip.Content.ReadAsByteArrayAsync());
        Assert.Null(evicting.EvictNext);
        Assert.Equal(2, upstream.HitsFor($"{Version}.mod"));
        Assert.True(File.Exists(Path.Combine(warren.Root, Module, "@v", Version + ".mod")));
    }

    [Fact]
    public async Task An_info_evicted_between_its_lookup_and_its_read_leaves_latest_to_the_next_version_held()
    {
        // An upstream with the two versions' .info and no @latest: the answer is the highest version held.
        var upstreamRoot = TestPaths.NewTempDir("latest-up");
        var dir = Path.Combine(upstreamRoot, Module, "@v");
        Directory.CreateDirectory(dir);
        foreach (var v in new[] { "v0.8.1", Version })
        {
            File.Copy(Path.Combine(TestPaths.Corpus, Module, "@v", v + ".info"), Path.Combine(dir, v + ".info"));
        }

        await using var upstream = await FakeUpstream.StartAsync(upstreamRoot);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url, o => o.ListTtl = TimeSpan.FromMilliseconds(1), services: EvictOnRead.Register);
        var evicting = (EvictOnRead)warren.Services.GetRequiredService<IArtifactStore>();
        foreach (var v in new[] { "v0.8.1", Version })
        {
            using var info = await warren.Client.GetAsync($"{Module}/@v/{v}.info");
            Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        }

        Assert.Contains($"\"{Version}\"", await warren.Client.GetStringAsync($"{Module}/@latest"));

        evicting.EvictNext = $"{Module}/@v/{Version}.info";
        using var latest = await warren.Client.GetAsync($"{Module}/@latest");
        var body = await latest.Content.ReadAsStringAsync();
        Assert.True(latest.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains("\"v0.8.1\"", body);
        Assert.Null(evicting.EvictNext);
    }

    /// <summary>Deletes the file of the object named by <see cref="EvictNext"/> right after finding it, once.</summary>
    private sealed class EvictOnRead(IArtifactStore inner) : IArtifactStore
    {
        public volatile string? EvictNext;

        /// <summary>Wraps the store Warren registered.</summary>
        public static void Register(IServiceCollection services)
        {
            var original = services.Last(d => d.ServiceType == typeof(IArtifactStore));
            services.AddSingleton<IArtifactStore>(sp => new EvictOnRead((IArtifactStore)original.ImplementationFactory!(sp)));
        }

        public string Location => inner.Location;

        public async ValueTask<StoredObject?> GetAsync(string key, CancellationToken cancellationToken)
        {
            var found = await inner.GetAsync(key, cancellationToken);
            var next = EvictNext;
            if (found?.LocalPath is { } path && next == key && ReferenceEquals(Interlocked.CompareExchange(ref EvictNext, null, next), next))
            {
                File.Delete(path);
            }

            return found;
        }

        public ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken) => inner.ExistsAsync(key, cancellationToken);

        public ValueTask<bool> PutIfAbsentAsync(string key, string stagedFile, CancellationToken cancellationToken) => inner.PutIfAbsentAsync(key, stagedFile, cancellationToken);

        public ValueTask<bool> PutIfAbsentAsync(string key, Stream content, CancellationToken cancellationToken) => inner.PutIfAbsentAsync(key, content, cancellationToken);

        public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

        public IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

        public ValueTask<string?> ProbeAsync(CancellationToken cancellationToken) => inner.ProbeAsync(cancellationToken);
    }
}
