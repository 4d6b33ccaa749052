namespace Warren.Tools.Tests.Prefetch;

/// <summary>validate/closed made concrete once per run: copied, its requirements resolved by the real go client over a
/// FakeUpstream serving the corpus (go.mod and go.sum written), and what `go list -m all` then reports.</summary>
internal sealed record ClosedModule(string Dir, IReadOnlySet<string> GoListAll)
{
    private static readonly Lazy<Task<ClosedModule>> Instance = new(PrepareAsync);

    public static Task<ClosedModule> GetAsync() => Instance.Value;

    /// <summary>A fresh copy of the resolved module (go.mod, go.sum, main.go).</summary>
    public string Copy()
    {
        var work = TestPaths.NewTempDir("prefetch-closed");
        foreach (var file in Directory.GetFiles(Dir))
        {
            File.Copy(file, Path.Combine(work, Path.GetFileName(file)));
        }

        return work;
    }

    private static async Task<ClosedModule> PrepareAsync()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var dir = TestPaths.NewTempDir("prefetch-closed-src");
        foreach (var file in Directory.GetFiles(TestPaths.ValidateClosed))
        {
            var target = Path.Combine(dir, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetAttributes(target, FileAttributes.Normal);
        }

        var go = new GoRunner(upstream.Url);

        // -n: every import resolved and every needed module downloaded (go.mod and go.sum updated), nothing compiled.
        var resolve = await go.RunAsync(dir, "build", "-n", "./...");
        Assert.True(resolve.ExitCode == 0, resolve.ToString());
        var list = await go.RunAsync(dir, "list", "-m", "all");
        Assert.True(list.ExitCode == 0, list.ToString());
        var modules = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Skip(1) // the main module
            .Select(l => l.Replace(' ', '@'))
            .ToHashSet(StringComparer.Ordinal);
        return new ClosedModule(dir, modules);
    }
}
