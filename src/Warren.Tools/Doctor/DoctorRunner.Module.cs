using Warren.Core.Modules;
using Warren.Protocol.GoProxy;
using Warren.Tools.Reporting;

namespace Warren.Tools.Doctor;

public sealed partial class DoctorRunner
{
    private enum Outcome
    {
        Resolved,
        NotFound,
        Error,
        NoProxy,
        Direct,
        DirectOnly,
        Off,
    }

    private sealed record Resolution(string Path, string Version, Outcome Outcome, string Evidence);

    private async Task CheckModuleAsync(List<Finding> findings, Settings settings, GoModFile modFile, Http http,
        IProgress<DoctorProgress>? progress, CancellationToken cancellationToken)
    {
        var targets = BuildList(modFile);
        CheckGoSum(findings, targets);
        if (settings.Chain is null)
        {
            return;
        }

        var done = 0;
        progress?.Report(new DoctorProgress("requirements", 0, targets.Count));
        using var gate = new SemaphoreSlim(Math.Max(1, _options.Parallelism));
        var resolutions = await Task.WhenAll(targets.Select(async t =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await ResolveAsync(t.Path, t.Version, settings, http, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
                progress?.Report(new DoctorProgress("requirements", Interlocked.Increment(ref done), targets.Count));
            }
        })).ConfigureAwait(false);

        var resolved = resolutions.Count(r => r.Outcome == Outcome.Resolved);
        if (resolved > 0)
        {
            findings.Add(new Finding("module.resolve", Verdict.Pass,
                $"{resolved} of {targets.Count} requirements resolve through GOPROXY (.info and .mod)"));
        }

        var directOnly = resolutions.Count(r => r.Outcome == Outcome.DirectOnly);
        if (directOnly > 0)
        {
            findings.Add(new Finding("module.resolve", Verdict.Pass,
                $"{directOnly} requirements are fetched directly from their origins (no proxy before direct in GOPROXY); not probed"));
        }

        var privateOnes = new List<Resolution>();
        foreach (var r in resolutions)
        {
            var subject = $"{r.Path}@{r.Version}";
            var pattern = SuggestedPattern(r.Path);
            switch (r.Outcome)
            {
                case Outcome.Error:
                    findings.Add(new Finding("module.resolve", Verdict.Fail, r.Evidence,
                        "fix the failing proxy (see net.proxy), or separate it with '|' in GOPROXY so errors fall through", subject));
                    break;
                case Outcome.Off:
                    findings.Add(new Finding("module.resolve", Verdict.Fail, r.Evidence,
                        "end GOPROXY with ,direct, or serve the module from a proxy", subject));
                    break;
                case Outcome.NotFound:
                    findings.Add(new Finding("module.resolve", Verdict.Fail,
                        $"not in any proxy ({r.Evidence}); if private add GOPRIVATE={pattern}",
                        $"export GOPRIVATE={pattern} (fetched with git then), or publish the version", subject));
                    privateOnes.Add(r);
                    break;
                case Outcome.Direct:
                    findings.Add(new Finding("module.goprivate", Verdict.Warn,
                        $"not in any proxy ({r.Evidence}): the go command falls back to git, but GOPRIVATE does not cover it",
                        $"export GOPRIVATE={pattern}", subject));
                    privateOnes.Add(r);
                    break;
                case Outcome.NoProxy:
                    privateOnes.Add(r);
                    break;
            }
        }

        CheckNoSumDb(findings, settings, privateOnes);
        await CheckPrivateAccessAsync(findings, privateOnes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The module versions go.mod asks for, after replace directives (directory replacements are local and skipped).</summary>
    private static List<(string Path, string Version)> BuildList(GoModFile modFile)
    {
        var list = new List<(string, string)>();
        foreach (var req in modFile.Requires)
        {
            var replace = modFile.Replaces.FirstOrDefault(r => r.OldPath == req.Path && r.OldVersion == req.Version)
                ?? modFile.Replaces.FirstOrDefault(r => r.OldPath == req.Path && r.OldVersion is null);
            if (replace is null)
            {
                list.Add((req.Path, req.Version));
            }
            else if (!replace.IsDirectory)
            {
                list.Add((replace.NewPath, replace.NewVersion!));
            }
        }

        return list.Distinct().ToList();
    }

    /// <summary>Walks the chain as the go command does: 404/410 falls through to the next entry; other errors only after '|'.</summary>
    private async Task<Resolution> ResolveAsync(string path, string version, Settings settings, Http http, CancellationToken cancellationToken)
    {
        if (ModulePatterns.MatchPrefixPatterns(settings.GoNoProxy, path))
        {
            return new Resolution(path, version, Outcome.NoProxy, $"GONOPROXY={settings.GoNoProxy} matches: fetched directly with git");
        }

        var missing = new List<string>();
        string? lastError = null;
        foreach (var spec in settings.Chain!)
        {
            if (spec.IsOff)
            {
                return new Resolution(path, version, Outcome.Off, $"{Join(missing)}then GOPROXY=off: module lookup disabled");
            }

            if (spec.IsDirect)
            {
                // Only a module every proxy lacked looks private; with no proxy before direct nothing was asked.
                return missing.Count == 0 && lastError is null
                    ? new Resolution(path, version, Outcome.DirectOnly, "no proxy before direct")
                    : new Resolution(path, version, Outcome.Direct, Join(missing).TrimEnd(' ', ';'));
            }

            var (status, evidence) = await FetchAsync(spec, path, version, http, cancellationToken).ConfigureAwait(false);
            if (status == Outcome.Resolved)
            {
                return new Resolution(path, version, Outcome.Resolved, evidence);
            }

            if (status == Outcome.NotFound)
            {
                missing.Add(evidence);
                continue;
            }

            lastError = evidence;
            if (!spec.FallBackOnError)
            {
                return new Resolution(path, version, Outcome.Error, evidence);
            }
        }

        return lastError is not null
            ? new Resolution(path, version, Outcome.Error, lastError)
            : new Resolution(path, version, Outcome.NotFound, Join(missing).TrimEnd(' ', ';'));

        static string Join(List<string> parts) => parts.Count == 0 ? "" : string.Join("; ", parts) + "; ";
    }

    private static async Task<(Outcome, string)> FetchAsync(ProxySpec spec, string path, string version, Http http, CancellationToken cancellationToken)
    {
        var prefix = $"{spec.Url}/{VersionFile(path, version, "")}";
        if (spec.Url.StartsWith("file:", StringComparison.Ordinal))
        {
            var local = new Uri(prefix).LocalPath;
            return File.Exists(local + ".info") && File.Exists(local + ".mod")
                ? (Outcome.Resolved, $"{spec.Url} has it")
                : (Outcome.NotFound, $"{spec.Url} has no {path}@{version}");
        }

        foreach (var suffix in new[] { ".info", ".mod" })
        {
            var probe = await http.GetAsync(prefix + suffix, cancellationToken).ConfigureAwait(false);
            if (probe.IsNotFound)
            {
                return (Outcome.NotFound, $"{spec.Url} answers {probe.Status} to {suffix}");
            }

            if (!probe.IsOk)
            {
                return (Outcome.Error, $"GET {prefix + suffix} {probe.Describe()}");
            }
        }

        return (Outcome.Resolved, $"{spec.Url} has it");
    }

    /// <summary>Private paths the go command would send to the checksum database: GONOPROXY/GOPRIVATE or 404 everywhere,
    /// but not covered by GONOSUMDB (while GOSUMDB is on).</summary>
    private void CheckNoSumDb(List<Finding> findings, Settings settings, List<Resolution> privateOnes)
    {
        if (settings.SumDb is not { } db)
        {
            return;
        }

        var leaks = 0;
        foreach (var r in privateOnes)
        {
            if (ModulePatterns.MatchPrefixPatterns(settings.GoNoSumDb, r.Path))
            {
                continue;
            }

            leaks++;
            var pattern = SuggestedPattern(r.Path);
            var why = r.Outcome == Outcome.NoProxy ? "it matches GONOPROXY/GOPRIVATE" : "no proxy has it";
            var gonosumdb = settings.GoNoSumDb.Length == 0 ? pattern : settings.GoNoSumDb + "," + pattern;
            findings.Add(new Finding("module.gonosumdb", Verdict.Fail,
                $"private-looking module ({why}) not covered by GONOSUMDB={settings.GoNoSumDb}: the go command sends its path to {db.Name} and fails verification",
                $"export GONOSUMDB={gonosumdb} (or GOPRIVATE={pattern}, which sets both GONOPROXY and GONOSUMDB)",
                $"{r.Path}@{r.Version}"));
        }

        if (privateOnes.Count > 0 && leaks == 0)
        {
            findings.Add(new Finding("module.gonosumdb", Verdict.Pass,
                $"GONOSUMDB={settings.GoNoSumDb} covers the {privateOnes.Count} private modules: their paths stay away from {db.Name}"));
        }
    }

    private void CheckGoSum(List<Finding> findings, List<(string Path, string Version)> targets)
    {
        if (targets.Count == 0)
        {
            findings.Add(new Finding("module.gosum", Verdict.Pass, "go.mod has no requirements"));
            return;
        }

        var goSum = Path.Combine(_options.ModuleDir, "go.sum");
        if (!File.Exists(goSum))
        {
            findings.Add(new Finding("module.gosum", Verdict.Fail, $"no go.sum beside go.mod with {targets.Count} requirements: builds fail with \"missing go.sum entry\"",
                "go mod tidy (or go mod download)", goSum));
            return;
        }

        var lines = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(goSum))
        {
            var f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && f[2].StartsWith("h1:", StringComparison.Ordinal))
            {
                lines.Add(f[0] + " " + f[1]);
            }
        }

        var bad = 0;
        foreach (var (path, version) in targets)
        {
            var missing = new List<string>();
            if (!lines.Contains($"{path} {version}"))
            {
                missing.Add($"\"{path} {version} h1:\"");
            }

            if (!lines.Contains($"{path} {version}/go.mod"))
            {
                missing.Add($"\"{path} {version}/go.mod h1:\"");
            }

            if (missing.Count > 0)
            {
                bad++;
                findings.Add(new Finding("module.gosum", Verdict.Fail, $"go.sum lacks {string.Join(" and ", missing)} for {path}@{version}",
                    $"go mod tidy (or go mod download {path})", $"{path}@{version}"));
            }
        }

        if (bad == 0)
        {
            findings.Add(new Finding("module.gosum", Verdict.Pass, $"go.sum has both lines (zip and go.mod) of all {targets.Count} requirements", null, goSum));
        }
    }
}
