using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Warren.Server.Ingest;
using Warren.Server.Storage;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Upstream;

namespace Warren.Server.Tests.Ingest;

/// <summary>The shared upstream fetch of a running Warren (a file:// upstream): "not found" is remembered for the
/// negative TTL, and concurrent callers share one fetch and one use of its body.</summary>
public sealed class UpstreamFetcherTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Not_found_is_remembered_until_the_negative_ttl_ends()
    {
        var upstream = TestPaths.NewTempDir("fetcher-upstream");
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var warren = await WarrenInstance.StartAsync(new Uri(upstream).AbsoluteUri, o => o.NegativeTtl = TimeSpan.FromMinutes(1),
            services: s => s.AddSingleton<TimeProvider>(time));
        var fetcher = warren.Services.GetRequiredService<UpstreamFetcher>();
        var staging = warren.Services.GetRequiredService<StagingArea>();
        var request = new ModuleRequest("example.com/m", null, RequestKind.List);
        var uses = 0;
        Task<FlightResult> Fetch() => fetcher.FetchAsync("list:example.com/m", "list", request, staging.NewFile, async (staged, _) =>
        {
            Interlocked.Increment(ref uses);
            return new FlightResult(null, await File.ReadAllBytesAsync(staged));
        }, NothingShared, CancellationToken.None);

        var missing = await Fetch();
        Assert.Equal(OutcomeKind.NotFound, missing.Failure?.Kind);

        // It appears upstream, but the miss is remembered: upstream is not asked again yet.
        var list = Path.Combine(upstream, "example.com", "m", "@v", "list");
        Directory.CreateDirectory(Path.GetDirectoryName(list)!);
        await File.WriteAllTextAsync(list, "v1.0.0\n");
        time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(OutcomeKind.NotFound, (await Fetch()).Failure?.Kind);
        Assert.Equal(0, uses);

        time.Advance(TimeSpan.FromSeconds(20));
        var found = await Fetch();
        Assert.Null(found.Failure);
        Assert.Equal("v1.0.0\n", Encoding.UTF8.GetString(found.Body!));
        Assert.Equal(1, uses);
    }

    [Fact]
    public async Task Concurrent_callers_share_one_fetch_and_one_use_of_its_body()
    {
        var upstream = TestPaths.NewTempDir("fetcher-upstream");
        var list = Path.Combine(upstream, "example.com", "m", "@v", "list");
        Directory.CreateDirectory(Path.GetDirectoryName(list)!);
        await File.WriteAllTextAsync(list, "v1.0.0\nv1.1.0\n");
        await using var warren = await WarrenInstance.StartAsync(new Uri(upstream).AbsoluteUri);
        var fetcher = warren.Services.GetRequiredService<UpstreamFetcher>();
        var staging = warren.Services.GetRequiredService<StagingArea>();
        var request = new ModuleRequest("example.com/m", null, RequestKind.List);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var uses = 0;
        var stagedFiles = new List<string>();
        async Task<FlightResult> Use(string staged, string source)
        {
            Interlocked.Increment(ref uses);
            lock (stagedFiles)
            {
                stagedFiles.Add(staged);
            }

            entered.TrySetResult();
            await gate.Task;
            return new FlightResult(null, Encoding.UTF8.GetBytes(source + "|" + await File.ReadAllTextAsync(staged)));
        }

        var first = fetcher.FetchAsync("list:example.com/m", "list", request, staging.NewFile, Use, NothingShared, CancellationToken.None);
        await entered.Task.WaitAsync(Patience);
        var others = Enumerable.Range(0, 7).Select(_ => fetcher.FetchAsync("list:example.com/m", "list", request, staging.NewFile, Use, NothingShared, CancellationToken.None)).ToList();
        gate.SetResult();

        var results = await Task.WhenAll(others.Prepend(first)).WaitAsync(Patience);
        Assert.All(results, r => Assert.Null(r.Failure));
        Assert.All(results, r => Assert.EndsWith("|v1.0.0\nv1.1.0\n", Encoding.UTF8.GetString(r.Body!), StringComparison.Ordinal));
        Assert.Equal(1, uses);

        // The staged file is the fetcher's to delete once it has been used.
        Assert.False(File.Exists(Assert.Single(stagedFiles)));
    }

    private static Task<FlightResult?> NothingShared(CancellationToken cancellationToken) => Task.FromResult<FlightResult?>(null);
}
