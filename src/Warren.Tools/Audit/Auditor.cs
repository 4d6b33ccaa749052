using System.Collections.Concurrent;
using Warren.Core.Modules;
using Warren.Core.Vulns;

namespace Warren.Tools.Audit;

/// <summary>The settings of one audit.</summary>
/// <param name="Inputs">Directories, go.mod and go.work files; each is one repository.</param>
/// <param name="Proxy">The GOPROXY to ask (http, https or file URL).</param>
public sealed record AuditOptions(IReadOnlyList<string> Inputs, Uri Proxy)
{
    /// <summary>The vulnerability database (current layout; http, https or file URL); null: no vulnerability findings.</summary>
    public Uri? VulnDb { get; init; }

    public AuditLevel FailOn { get; init; } = AuditLevel.Vuln;

    /// <summary>Requests at once, to the proxy and to the database together.</summary>
    public int Jobs { get; init; } = 16;
}

/// <summary>
/// `warren audit`: for each repository, the modules of its go.mod requirement list that are vulnerable (with whether
/// the repository imports an affected package, and the smallest fixing upgrade), retracted, deprecated, or behind the
/// latest version of their major version, and the modules at different versions across the repositories.
/// </summary>
public static class Auditor
{
    public static async Task<AuditResult> AuditAsync(AuditOptions options, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Jobs, 1);

        var (repositories, inputErrors) = AuditInputs.Resolve(options.Inputs);
        var errors = new List<string>(inputErrors);
        using var gate = new SemaphoreSlim(options.Jobs);
        var facts = new ModuleFactsCache(new AuditSource(options.Proxy, http, gate));
        var vulnDb = options.VulnDb is { } vulnUri ? new AuditVulnDb(new AuditSource(vulnUri, http, gate)) : null;

        var modules = repositories.SelectMany(r => r.Requirements).Select(r => r.Path).Distinct(StringComparer.Ordinal).ToList();
        var factTasks = modules.ToDictionary(m => m, m => facts.GetAsync(m, cancellationToken), StringComparer.Ordinal);
        var advisories = new Dictionary<string, IReadOnlyList<Advisory>>(StringComparer.Ordinal);
        if (vulnDb is not null)
        {
            if (await vulnDb.LoadIndexAsync(cancellationToken).ConfigureAwait(false) is { } indexError)
            {
                errors.Add(indexError);
            }
            else
            {
                var lookups = modules.ToDictionary(m => m, m => vulnDb.ForModuleAsync(m, cancellationToken), StringComparer.Ordinal);
                await Task.WhenAll(lookups.Values).ConfigureAwait(false);
                foreach (var (module, lookup) in lookups)
                {
                    var (found, lookupErrors) = await lookup.ConfigureAwait(false);
                    advisories[module] = found.Where(a => a.Withdrawn is null).ToList();
                    errors.AddRange(lookupErrors);
                }
            }
        }

        await Task.WhenAll(factTasks.Values).ConfigureAwait(false);
        var known = new Dictionary<string, ModuleFacts>(StringComparer.Ordinal);
        foreach (var (module, task) in factTasks)
        {
            var fact = await task.ConfigureAwait(false);
            known[module] = fact;
            if (fact.Error is { } error)
            {
                errors.Add(error);
            }
        }

        // The repositories' own imports, read only where a vulnerable module is required.
        var imports = new ConcurrentDictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var scanned = repositories.Where(r => r.Requirements.Any(q => advisories.TryGetValue(q.Path, out var a) && a.Any(x => x.Affects(q.Path, q.Version))));
        await Parallel.ForEachAsync(scanned, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(options.Jobs, Environment.ProcessorCount), CancellationToken = cancellationToken },
            async (repository, token) => imports[repository.Name] = await ImportScanner.ScanAsync(repository.GoMods.Select(g => g.Directory), token).ConfigureAwait(false))
            .ConfigureAwait(false);

        var findings = new List<AuditFinding>();
        foreach (var repository in repositories)
        {
            foreach (var requirement in repository.Requirements)
            {
                var fact = known[requirement.Path];
                var list = advisories.TryGetValue(requirement.Path, out var a) ? a : [];
                findings.AddRange(Findings(repository, requirement, fact, list, imports.TryGetValue(repository.Name, out var i) ? i : null));
            }
        }

        var drift = Drift(repositories);
        foreach (var row in drift)
        {
            var text = string.Join(", ", row.Versions.Select(kv => kv.Key + " " + kv.Value));
            foreach (var repository in repositories)
            {
                if (row.Versions.TryGetValue(repository.Name, out var version))
                {
                    findings.Add(new AuditFinding(AuditKinds.Drift, repository.Name, row.Module, version, "at different versions across the repositories: " + text)
                    {
                        Versions = row.Versions,
                        Location = repository.Requirements.First(r => r.Path == row.Module).Location,
                    });
                }
            }
        }

        var order = repositories.Select((r, n) => (r.Name, n)).ToDictionary(x => x.Name, x => x.n, StringComparer.Ordinal);
        var sorted = findings
            .Select(f => f with { Fails = options.FailOn != AuditLevel.None && AuditKinds.LevelOf(f.Kind) != AuditLevel.None && AuditKinds.LevelOf(f.Kind) >= options.FailOn })
            .OrderBy(f => order[f.Repository])
            .ThenByDescending(f => AuditKinds.LevelOf(f.Kind))
            .ThenBy(f => f.Module, StringComparer.Ordinal)
            .ThenBy(f => f.Advisory, StringComparer.Ordinal)
            .ToList();

        var summaries = repositories.Select(r => new AuditRepositorySummary(r.Name, r.Root, r.GoMods.Select(g => g.FilePath).ToList(), r.Requirements.Count)).ToList();
        return new AuditResult(summaries, sorted, drift, errors.Distinct(StringComparer.Ordinal).ToList(), options.FailOn, vulnDb?.Display);
    }

    private static IEnumerable<AuditFinding> Findings(AuditRepository repository, AuditRequirement requirement, ModuleFacts fact,
        IReadOnlyList<Advisory> advisories, HashSet<string>? imports)
    {
        var (path, version) = (requirement.Path, requirement.Version);
        var latest = fact.Error is null ? fact.LatestWithinMajor(version) : null;
        foreach (var advisory in advisories.Where(x => x.Affects(path, version)))
        {
            var fixedVersion = advisory.FixedVersionFor(path, version);
            var packages = advisory.For(path).SelectMany(m => m.Packages).Select(p => p.Path).Distinct(StringComparer.Ordinal).ToList();
            var used = UsedPackages(repository, requirement, packages, imports ?? []);
            var smallest = fixedVersion is null ? null : fact.Versions
                .FirstOrDefault(c => SemVer.Compare(c, fixedVersion) >= 0 && fact.RetractionOf(c) is null && !advisories.Any(x => x.Affects(path, c)));
            var within = smallest is null ? (bool?)null : SemVer.Major(smallest) == SemVer.Major(version);
            var message = $"{advisory.DisplayName}: {OneLine(advisory.Summary)}; affected package imported: {(used.Count > 0 ? "yes (" + string.Join(", ", used) + ")" : "no")}; "
                + (fixedVersion is null ? "no fixed version published" : $"fixed in {fixedVersion}")
                + (smallest is not null ? $"; smallest fixing upgrade {smallest} ({(within == true ? "within" : "changes")} major version {SemVer.Major(version)})"
                    : fixedVersion is not null ? "; no fixing version is listed by the proxy yet" : "");
            yield return new AuditFinding(AuditKinds.Vuln, repository.Name, path, version, message)
            {
                Location = requirement.Location,
                Advisory = advisory.Id,
                Aliases = advisory.Aliases,
                Summary = advisory.Summary,
                FixedVersion = fixedVersion,
                AffectedPackages = packages,
                Imported = used.Count > 0,
                ImportedPackages = used,
                SmallestFix = smallest,
                FixWithinMajor = within,
                LatestWithinMajor = latest,
            };
        }

        if (fact.RetractionOf(version) is { } retraction)
        {
            var rationale = OneLine(retraction.Rationale);
            yield return new AuditFinding(AuditKinds.Retracted, repository.Name, path, version,
                "retracted by its author" + (rationale.Length > 0 ? ": " + rationale : " (no rationale given)") + (latest is not null ? $"; {latest} is not retracted" : ""))
            {
                Location = requirement.Location,
                Rationale = retraction.Rationale,
                LatestWithinMajor = latest,
            };
        }

        if (fact.Deprecated is { } deprecated)
        {
            yield return new AuditFinding(AuditKinds.Deprecated, repository.Name, path, version, "module deprecated: " + OneLine(deprecated))
            {
                Location = requirement.Location,
                Deprecation = deprecated,
            };
        }

        if (latest is not null)
        {
            yield return new AuditFinding(AuditKinds.Update, repository.Name, path, version, $"{latest} is available (major version {SemVer.Major(version)})")
            {
                Location = requirement.Location,
                LatestWithinMajor = latest,
            };
        }
    }

    /// <summary>The affected packages the repository imports (under the path it imports them by, which a replace
    /// directive leaves unchanged); for an advisory naming no package, the repository's imports that belong to the
    /// module (its import path is the longest module path of the build list prefixing them).</summary>
    private static List<string> UsedPackages(AuditRepository repository, AuditRequirement requirement, List<string> packages, HashSet<string> imports)
    {
        var prefix = requirement.ImportPath;
        if (packages.Count > 0)
        {
            return packages
                .Select(p => Within(p, requirement.Path) ? prefix + p[requirement.Path.Length..] : p)
                .Where(imports.Contains)
                .Order(StringComparer.Ordinal)
                .ToList();
        }

        var owners = repository.Requirements.Select(r => r.ImportPath).Concat(repository.GoMods.Select(g => g.File.Module).OfType<string>()).ToList();
        return imports
            .Where(i => Within(i, prefix) && !owners.Any(o => o.Length > prefix.Length && Within(i, o)))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static bool Within(string importPath, string modulePath) =>
        importPath == modulePath || (importPath.StartsWith(modulePath, StringComparison.Ordinal) && importPath[modulePath.Length] == '/');

    /// <summary>The modules required at more than one version across the repositories: module × repository.</summary>
    private static List<AuditDrift> Drift(IReadOnlyList<AuditRepository> repositories)
    {
        var rows = new List<AuditDrift>();
        if (repositories.Count < 2)
        {
            return rows;
        }

        foreach (var group in repositories
            .SelectMany(r => r.Requirements.Select(q => (Repository: r.Name, q.Path, q.Version)))
            .GroupBy(x => x.Path, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            if (group.Select(x => x.Version).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                rows.Add(new AuditDrift(group.Key, group.ToDictionary(x => x.Repository, x => x.Version, StringComparer.Ordinal)));
            }
        }

        return rows;
    }

    private static string OneLine(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
