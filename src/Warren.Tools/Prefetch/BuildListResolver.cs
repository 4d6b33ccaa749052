using System.Collections.Concurrent;
using System.Globalization;
using Warren.Core.Modules;
using Warren.Tools.Reporting;

namespace Warren.Tools.Prefetch;

/// <summary>The build list of a main module: the selected version of every module in its requirement graph, the go.mod
/// files visited to build the graph, and what went wrong on the way.</summary>
public sealed class BuildList
{
    private readonly IReadOnlyList<GoModReplace> _replaces;

    internal BuildList(string mainModule, IReadOnlyList<ModuleKey> selected, IReadOnlyDictionary<ModuleKey, byte[]> goMods,
        IReadOnlyList<Finding> findings, IReadOnlyList<GoModReplace> replaces)
    {
        MainModule = mainModule;
        Selected = selected;
        GoMods = goMods;
        Findings = findings;
        _replaces = replaces;
    }

    /// <summary>The main module's path.</summary>
    public string MainModule { get; }

    /// <summary>Every module of the build list but the main module, at its selected version (before replacement), sorted.</summary>
    public IReadOnlyList<ModuleKey> Selected { get; }

    /// <summary>The go.mod files read to build the graph, by the module version actually fetched (after replacement).</summary>
    public IReadOnlyDictionary<ModuleKey, byte[]> GoMods { get; }

    /// <summary>Failures (a go.mod that could not be fetched or parsed) and warnings (skipped directory replacements).</summary>
    public IReadOnlyList<Finding> Findings { get; }

    /// <summary>The module version whose files stand for this one (the main module's replace directives applied), or
    /// null when it is replaced by a local directory.</summary>
    public ModuleKey? Actual(ModuleKey module) => BuildListResolver.Replace(_replaces, module);
}

/// <summary>Minimum version selection over a main module's requirement graph, reading each go.mod from a proxy.</summary>
/// <remarks>
/// The graph is the one the go command builds for `go list -m all`: when the main module's go version is 1.17 or later
/// the graph is pruned (the requirements of a dependency whose go.mod says go 1.17 or later are part of the graph, but
/// not theirs in turn), otherwise, and below any dependency at an earlier go version, every requirement is followed.
/// The main module's replace and exclude directives apply: requirements on excluded versions are dropped, and a
/// replaced module version's requirements are those of its replacement. The selected version of a path is the highest
/// version reached.
/// </remarks>
public sealed class BuildListResolver
{
    private readonly ModuleProxyClient _proxy;
    private readonly int _jobs;

    public BuildListResolver(ModuleProxyClient proxy, int jobs)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        _proxy = proxy;
        _jobs = Math.Max(1, jobs);
    }

    /// <summary>go.mod files already fetched, by module version; shared by resolvers so that each is asked for once.</summary>
    public ConcurrentDictionary<ModuleKey, byte[]> GoModCache { get; init; } = new();

    /// <summary>Called with the number of go.mod files fetched so far.</summary>
    public Action<int>? OnGoModFetched { get; set; }

    /// <summary>Computes the build list of the main module whose go.mod is at goModPath.</summary>
    /// <exception cref="GoModParseException">The main go.mod does not parse.</exception>
    public async Task<BuildList> ResolveAsync(string goModPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(goModPath);
        var text = await File.ReadAllTextAsync(goModPath, cancellationToken).ConfigureAwait(false);
        var main = GoModFile.Parse(goModPath, text);
        var mainPath = main.Module ?? throw new GoModParseException(goModPath + ": no module declaration in go.mod");
        var excluded = main.Excludes.Select(e => new ModuleKey(e.Path, e.Version)).ToHashSet();
        var findings = new ConcurrentQueue<Finding>();
        foreach (var r in main.Replaces.Where(r => r.IsDirectory))
        {
            var old = r.OldVersion is null ? r.OldPath : r.OldPath + "@" + r.OldVersion;
            findings.Enqueue(new Finding("prefetch.replace-dir", Verdict.Warn, $"{old} is replaced by the directory {r.NewPath}: its files and requirements are not fetched",
                "fetch what the directory's own go.mod requires separately, e.g. prefetch its go.sum", old));
        }

        var goMods = new ConcurrentDictionary<ModuleKey, byte[]>();
        var summaries = new ConcurrentDictionary<ModuleKey, Summary?>();
        var reached = new HashSet<ModuleKey>();
        var roots = Requirements(main.Requires, excluded);
        reached.UnionWith(roots);

        var unprunedSeen = new HashSet<ModuleKey>();
        var pending = new List<(ModuleKey Module, bool Unpruned)>();
        void Enqueue(ModuleKey m, bool unpruned)
        {
            if (m.Version == "none" || (unpruned && !unprunedSeen.Add(m)))
            {
                return;
            }

            pending.Add((m, unpruned));
        }

        var mainUnpruned = !PrunedGoVersion(main.Go);
        foreach (var r in roots)
        {
            Enqueue(r, mainUnpruned);
        }

        while (pending.Count > 0)
        {
            var wave = pending;
            pending = [];
            var toLoad = wave.Select(w => w.Module).Distinct().Where(m => !summaries.ContainsKey(m)).ToList();
            await Parallel.ForEachAsync(toLoad, new ParallelOptions { MaxDegreeOfParallelism = _jobs, CancellationToken = cancellationToken },
                async (m, ct) => summaries[m] = await LoadAsync(m, main.Replaces, excluded, goMods, findings, ct).ConfigureAwait(false)).ConfigureAwait(false);

            foreach (var (m, unpruned) in wave)
            {
                if (summaries[m] is not { } summary)
                {
                    continue;
                }

                reached.UnionWith(summary.Requires);
                if (unpruned || summary.Unpruned)
                {
                    foreach (var r in summary.Requires)
                    {
                        Enqueue(r, unpruned: true);
                    }
                }
            }
        }

        var selected = reached
            .Where(m => m.Path != mainPath && m.Version != "none")
            .GroupBy(m => m.Path, StringComparer.Ordinal)
            .Select(g => new ModuleKey(g.Key, g.Select(m => m.Version).Aggregate(SemVer.Max)))
            .OrderBy(m => m.Path, StringComparer.Ordinal)
            .ToList();
        return new BuildList(mainPath, selected, new Dictionary<ModuleKey, byte[]>(goMods), findings.ToList(), main.Replaces);
    }

    /// <summary>The main module's replacement of a module version: a version-specific replace wins over a path-wide one;
    /// null for a directory replacement; the module itself when nothing replaces it.</summary>
    internal static ModuleKey? Replace(IReadOnlyList<GoModReplace> replaces, ModuleKey module)
    {
        var r = replaces.FirstOrDefault(r => r.OldPath == module.Path && r.OldVersion == module.Version)
            ?? replaces.FirstOrDefault(r => r.OldPath == module.Path && r.OldVersion is null);
        return r is null ? module : r.IsDirectory ? null : new ModuleKey(r.NewPath, r.NewVersion!);
    }

    /// <summary>True when a go directive's version is 1.17 or later (the module graph is pruned there).</summary>
    internal static bool PrunedGoVersion(string? go)
    {
        if (go is null)
        {
            return false;
        }

        var parts = go.Split('.');
        return parts.Length >= 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            && int.TryParse(new string(parts[1].TakeWhile(char.IsAsciiDigit).ToArray()), NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            && (major > 1 || (major == 1 && minor >= 17));
    }

    private static List<ModuleKey> Requirements(IEnumerable<GoModRequire> requires, HashSet<ModuleKey> excluded) =>
        requires.Select(r => new ModuleKey(r.Path, r.Version)).Where(m => !excluded.Contains(m)).Distinct().ToList();

    private async Task<Summary?> LoadAsync(ModuleKey module, IReadOnlyList<GoModReplace> replaces, HashSet<ModuleKey> excluded,
        ConcurrentDictionary<ModuleKey, byte[]> goMods, ConcurrentQueue<Finding> findings, CancellationToken cancellationToken)
    {
        if (Replace(replaces, module) is not { } actual)
        {
            return new Summary([], Unpruned: false);
        }

        byte[] data;
        try
        {
            if (!GoModCache.TryGetValue(actual, out data!))
            {
                data = await _proxy.GetGoModAsync(actual, cancellationToken).ConfigureAwait(false);
                GoModCache.TryAdd(actual, data);
            }
        }
        catch (ProxyFetchException e)
        {
            findings.Enqueue(new Finding("prefetch.fetch", Verdict.Fail, e.Message, "check that the proxy serves this version (or exclude/replace it in go.mod)", actual.ToString()));
            return null;
        }

        goMods[actual] = data;
        OnGoModFetched?.Invoke(goMods.Count);
        try
        {
            var file = GoModFile.ParseLax(actual.Path + "@" + actual.Version + "/go.mod", data);
            return new Summary(Requirements(file.Requires, excluded), Unpruned: !PrunedGoVersion(file.Go));
        }
        catch (GoModParseException e)
        {
            findings.Enqueue(new Finding("prefetch.go-mod", Verdict.Fail, e.Message.Split('\n')[0], "the module's go.mod does not parse: exclude or replace this version", actual.ToString()));
            return null;
        }
    }

    private sealed record Summary(IReadOnlyList<ModuleKey> Requires, bool Unpruned);
}
