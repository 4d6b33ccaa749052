using System.Security.Cryptography;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Two_hundred_cold_requests_for_one_zip_share_one_upstream_fetch_and_all_get_the_same_bytes()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        upstream.Delay = TimeSpan.FromMilliseconds(500);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);

        // The largest zip of the corpus.
        var largest = Directory.EnumerateFiles(TestPaths.Corpus, "*.zip", SearchOption.AllDirectories).MaxBy(f => new FileInfo(f).Length)!;
        var relative = Path.GetRelativePath(TestPaths.Corpus, largest).Replace('\\', '/');
        var expected = SHA256.HashData(await File.ReadAllBytesAsync(largest));

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 200 }) { Timeout = TimeSpan.FromMinutes(3) };
        // An awaited gate, not a blocking one: 200 blocked pool threads would starve every server in this process.
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            // Hashed as it streams: 200 buffered copies of a 36 MB zip would hold gigabytes in the test host.
            using var response = await client.GetAsync(warren.Url + "/" + relative, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            return ((int)response.StatusCode, await SHA256.HashDataAsync(body));
        })).ToList();
        start.SetResult();
        var results = await Task.WhenAll(tasks);

        Assert.All(results, r => Assert.Equal(200, r.Item1));
        Assert.All(results, r => Assert.Equal(expected, r.Item2));
        Assert.Equal(1, upstream.HitsFor(relative));
        Assert.Equal(1, upstream.HitsFor(relative[..^4] + ".mod"));
    }

    [Fact]
    public async Task A_waiter_never_sees_404_and_a_cancelled_first_caller_does_not_fail_the_others()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        upstream.Delay = TimeSpan.FromMilliseconds(400);
        await using var warren = await WarrenInstance.StartAsync(upstream.Url);
        const string path = "github.com/pkg/errors/@v/v0.9.1.zip";

        using var first = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var abandoned = warren.Client.GetAsync(path, first.Token);
        var others = Enumerable.Range(0, 25).Select(_ => warren.Client.GetAsync(path)).ToList();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        var responses = await Task.WhenAll(others);
        Assert.All(responses, r => Assert.Equal(200, (int)r.StatusCode));
        Assert.Equal(1, upstream.HitsFor("/github.com/pkg/errors/@v/v0.9.1.zip"));
    }
}
