using System.Text;
using Warren.Core.Modules;
using Warren.Protocol.SumDb;
using Warren.Tools.Reporting;

namespace Warren.Tools.Verify;

/// <summary>What removing makes a finding go away (the go command then fetches or extracts it again).</summary>
[Flags]
internal enum Remedy
{
    None = 0,

    /// <summary>The extracted directory (and its .partial marker).</summary>
    Dir = 1,

    /// <summary>The zip, .ziphash and .lock — and the directory, which the go command considers incomplete without its .ziphash.</summary>
    Zip = 2,

    Mod = 4,

    Info = 8,

    /// <summary>The .partial marker.</summary>
    Partial = 16,

    /// <summary>Temporary files and directories of interrupted writes.</summary>
    Temp = 32,

    Lock = 64,
}

/// <summary>The checks of one module version, and its repair.</summary>
internal sealed class VersionCheck
{
    private const string Refetch = "warren verify --fix removes it; the next go command download fetches it again";

    private readonly string _modCache;
    private readonly CachedVersion _v;
    private readonly List<GoSumEntry>? _goSum;
    private readonly List<(Finding Finding, Remedy Remedy)> _problems = [];
    private readonly string _noSumDb;
    private bool _skippedPrivate;

    public VersionCheck(string modCache, CachedVersion version, List<GoSumEntry>? goSum, string noSumDb = "")
    {
        _modCache = modCache;
        _v = version;
        _goSum = goSum;
        _noSumDb = noSumDb;
    }

    /// <summary>GOPRIVATE/GONOSUMDB: the path must not be sent to the checksum database.</summary>
    private bool IsPrivate() => _noSumDb.Length > 0 && Warren.Core.Modules.ModulePatterns.MatchPrefixPatterns(_noSumDb, _v.Path);

    public List<Finding> Findings { get; } = [];

    private string Subject => _v.Key;

    /// <summary>A path relative to the module cache, for evidence.</summary>
    private string Rel(string path) => Path.GetRelativePath(_modCache, path);

    private void Problem(string check, Verdict verdict, string evidence, string fix, Remedy remedy) =>
        _problems.Add((new Finding(check, verdict, evidence, fix, Subject), remedy));

    public async Task RunAsync(SumDbClient? sumDb, CancellationToken cancellationToken)
    {
        string? zipHashRecorded = null, zipActual = null, dirActual = null, modActual = null;
        var zip = _v.CacheFile("zip");
        var hasZip = _v.Has("zip");
        var hasPartial = _v.Has("partial");

        if (_v.Has("ziphash"))
        {
            try
            {
                zipHashRecorded = File.ReadAllText(_v.CacheFile("ziphash")!).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Problem("cache.ziphash-unreadable", Verdict.Fail, $"cannot read .ziphash: {e.Message}", Refetch, Remedy.Zip);
            }
        }

        if (hasZip)
        {
            try
            {
                zipActual = DirHash.HashZip(zip!, cancellationToken);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Problem("cache.zip-unreadable", Verdict.Fail, $"zip {Rel(zip!)} is not a readable module zip: {e.Message}", Refetch, Remedy.Zip);
            }

            if (zipHashRecorded is null && !_v.Has("ziphash"))
            {
                Problem("cache.ziphash-missing", Verdict.Fail, $"zip {Rel(zip!)} has no .ziphash (go mod verify: missing ziphash)", Refetch, Remedy.Zip);
            }
            else if (zipActual is not null && zipHashRecorded is not null && zipActual != zipHashRecorded)
            {
                Problem("cache.zip-hash", Verdict.Fail, $"zip has been modified: {Rel(zip!)} hashes to {zipActual}, its .ziphash records {zipHashRecorded}",
                    Refetch, Remedy.Zip);
            }
        }

        if (_v.ExtractedDir is { } dir)
        {
            if (hasPartial)
            {
                Problem("cache.dir-partial", Verdict.Fail, $"extraction of {Rel(dir)} was interrupted (its .partial marker exists)",
                    "warren verify --fix removes it; the go command extracts it again", Remedy.Dir);
            }
            else
            {
                var expected = zipHashRecorded ?? zipActual;
                try
                {
                    dirActual = DirHash.HashDir(dir, _v.Key, cancellationToken);
                    if (expected is null)
                    {
                        Problem("cache.dir-unverifiable", Verdict.Warn, $"extracted directory {Rel(dir)} has neither zip nor .ziphash to check it against (the go command treats it as incomplete)",
                            "warren verify --fix removes it; the next go command download fetches it again", Remedy.Dir);
                    }
                    else if (dirActual != expected)
                    {
                        Problem("cache.dir-hash", Verdict.Fail, $"dir has been modified: {Rel(dir)} hashes to {dirActual}, expected {expected} ({(zipHashRecorded is not null ? ".ziphash" : "zip")})",
                            "warren verify --fix removes it; the go command extracts it again from the zip", Remedy.Dir);
                    }
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    Problem("cache.dir-unreadable", Verdict.Fail, $"cannot hash {Rel(dir)}: {e.Message}", "warren verify --fix removes it", Remedy.Dir);
                }
            }

            if (!hasZip && zipHashRecorded is not null)
            {
                Problem("cache.dir-without-zip", Verdict.Warn, $"extracted directory {Rel(dir)} has no cached zip (only its .ziphash)",
                    "go mod download fetches the zip again if needed", Remedy.None);
            }
        }
        else if (hasPartial)
        {
            Problem("cache.partial-leftover", Verdict.Warn, $"{Rel(_v.CacheFile("partial")!)} is left from an interrupted extraction", Refetch, Remedy.Partial);
        }

        var completed = zipHashRecorded is not null && (hasZip || (_v.ExtractedDir is not null && !hasPartial));
        if (_v.Has("lock") && !completed && !_problems.Any(p => p.Remedy.HasFlag(Remedy.Zip)))
        {
            Problem("cache.download-interrupted", Verdict.Warn, $"{Rel(_v.CacheFile("lock")!)} exists without a complete zip and .ziphash: a download was interrupted or failed",
                Refetch, Remedy.Lock | Remedy.Temp);
        }

        if (_v.TempFiles.Count > 0 || _v.TempDirs.Count > 0)
        {
            var names = string.Join(", ", _v.TempFiles.Concat(_v.TempDirs).Select(p => Path.GetFileName(p)));
            Problem("cache.tmp-leftover", Verdict.Warn, $"temporary files of an interrupted download: {names}", Refetch, Remedy.Temp);
        }

        if (_v.Has("mod"))
        {
            try
            {
                modActual = DirHash.HashGoMod(await File.ReadAllBytesAsync(_v.CacheFile("mod")!, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Problem("cache.mod-unreadable", Verdict.Fail, $"cannot read {Rel(_v.CacheFile("mod")!)}: {e.Message}", Refetch, Remedy.Mod);
            }
        }

        if (_v.Has("info"))
        {
            try
            {
                var named = ModCacheVerifier.InfoVersion(await File.ReadAllBytesAsync(_v.CacheFile("info")!, cancellationToken).ConfigureAwait(false));
                if (named != _v.Version)
                {
                    Problem("cache.info-invalid", Verdict.Fail, $"{Rel(_v.CacheFile("info")!)} is not the .info of {_v.Version} (version: {named ?? "unparsable"})", Refetch, Remedy.Info);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Problem("cache.info-invalid", Verdict.Fail, $"cannot read {Rel(_v.CacheFile("info")!)}: {e.Message}", Refetch, Remedy.Info);
            }
        }

        // The zip hashes the cache holds: what it recorded, and what the zip and the directory hash to.
        var cacheZipHashes = new List<(string What, string Hash)>();
        if (zipHashRecorded is not null)
        {
            cacheZipHashes.Add((".ziphash", zipHashRecorded));
        }

        if (zipActual is not null)
        {
            cacheZipHashes.Add(("zip", zipActual));
        }

        if (dirActual is not null)
        {
            cacheZipHashes.Add(("dir", dirActual));
        }

        CompareGoSum(cacheZipHashes, modActual);
        if (sumDb is not null && (cacheZipHashes.Count > 0 || modActual is not null) && IsPrivate())
        {
            _skippedPrivate = true;
        }
        else if (sumDb is not null && (cacheZipHashes.Count > 0 || modActual is not null))
        {
            await CompareSumDbAsync(sumDb, cacheZipHashes, modActual, cancellationToken).ConfigureAwait(false);
        }

        if (_problems.Count == 0)
        {
            var what = new List<string>();
            if (zipHashRecorded is not null)
            {
                what.Add((hasZip ? "zip, " : "") + (dirActual is not null ? "dir, " : "") + ".ziphash " + zipHashRecorded);
            }

            if (modActual is not null)
            {
                what.Add("go.mod " + modActual);
            }

            if (_goSum is not null)
            {
                what.Add("matches go.sum");
            }

            if (_skippedPrivate)
            {
                what.Add($"private (GOPRIVATE/GONOSUMDB): not looked up in {sumDb!.Name}");
            }
            else if (sumDb is not null)
            {
                what.Add("matches " + sumDb.Name);
            }

            Findings.Add(new Finding("cache.module", Verdict.Pass, what.Count == 0 ? "nothing to check" : string.Join("; ", what), null, Subject));
        }
        else
        {
            Findings.AddRange(_problems.Select(p => p.Finding));
        }
    }

    private void CompareGoSum(List<(string What, string Hash)> zipHashes, string? modActual)
    {
        foreach (var entry in _goSum ?? [])
        {
            var line = entry.Line;
            var actual = line.IsGoMod
                ? (modActual is null ? [] : [("go.mod", modActual)])
                : zipHashes;
            if (actual.Count == 0)
            {
                Findings.Add(new Finding("gosum.not-in-cache", Verdict.Warn,
                    $"{entry.Where}: {line.Path} {line.Version}: the cache has no {(line.IsGoMod ? ".mod" : "zip or extracted directory")} of it, so it was not checked",
                    "go mod download, then verify again", Subject));
                continue;
            }

            var differing = actual.Where(a => a.Hash != line.Hash).ToList();
            if (differing.Count > 0)
            {
                Problem("gosum.mismatch", Verdict.Fail,
                    $"checksum mismatch: {entry.Where} has {line.Hash}; the cache's {Describe(differing)}",
                    Refetch + " (and checks it against go.sum)", line.IsGoMod ? Remedy.Mod : Remedy.Zip);
            }
        }
    }

    /// <summary>"zip, dir are h1:A; .ziphash is h1:B": the cache's hashes grouped by value.</summary>
    private static string Describe(List<(string What, string Hash)> hashes) =>
        string.Join("; ", hashes.GroupBy(h => h.Hash, StringComparer.Ordinal)
            .Select(g => $"{string.Join(", ", g.Select(h => h.What))} {(g.Count() == 1 ? "is" : "are")} {g.Key}"));

    private async Task CompareSumDbAsync(SumDbClient sumDb, List<(string What, string Hash)> zipHashes, string? modActual, CancellationToken cancellationToken)
    {
        SumDbLookupResult result;
        try
        {
            result = await sumDb.LookupAsync(_v.Path, _v.Version, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            Problem("sumdb.lookup", Verdict.Warn, $"cannot look it up: {e.Message}", "", Remedy.None);
            return;
        }

        switch (result.Status)
        {
            case SumDbLookupStatus.Ok:
                var differing = zipHashes.Where(z => z.Hash != result.ZipHash).ToList();
                if (differing.Count > 0)
                {
                    Problem("sumdb.mismatch", Verdict.Fail, $"checksum mismatch: checksum database {sumDb.Name} has {result.ZipHash}; the cache's {Describe(differing)}",
                        Refetch + " (and checks it against the checksum database)", Remedy.Zip);
                }

                if (modActual is not null && modActual != result.GoModHash)
                {
                    Problem("sumdb.mismatch", Verdict.Fail, $"checksum mismatch: the cache's go.mod is {modActual}, checksum database {sumDb.Name} has {result.GoModHash}",
                        Refetch + " (and checks it against the checksum database)", Remedy.Mod);
                }

                break;
            case SumDbLookupStatus.NotFound:
                Problem("sumdb.not-found", Verdict.Warn, result.Message, "a private module belongs in GONOSUMDB/GOPRIVATE", Remedy.None);
                break;
            case SumDbLookupStatus.Failed:
                Problem("sumdb.unavailable", Verdict.Warn, result.Message, "check the checksum database URL and the network", Remedy.None);
                break;
            default:
                Problem("sumdb.invalid", Verdict.Fail, result.Message, "the checksum database misbehaves: do not trust its answers", Remedy.None);
                break;
        }
    }

    /// <summary>Removes what the failing findings' remedies name; repaired findings become Warn "fixed: removed …".</summary>
    public void Repair()
    {
        var remedy = _problems.Aggregate(Remedy.None, (r, p) => r | p.Remedy);
        if (remedy == Remedy.None)
        {
            return;
        }

        if (remedy.HasFlag(Remedy.Zip))
        {
            remedy |= Remedy.Dir | Remedy.Lock | Remedy.Temp;
        }

        if (remedy.HasFlag(Remedy.Dir))
        {
            remedy |= Remedy.Partial | Remedy.Temp;
        }

        var targets = new List<string>();
        if (remedy.HasFlag(Remedy.Dir) && _v.ExtractedDir is not null)
        {
            targets.Add(_v.ExtractedDir);
        }

        void File(Remedy flag, string suffix)
        {
            if (remedy.HasFlag(flag) && _v.Has(suffix))
            {
                targets.Add(_v.CacheFile(suffix)!);
            }
        }

        File(Remedy.Zip, "zip");
        File(Remedy.Zip, "ziphash");
        File(Remedy.Mod, "mod");
        File(Remedy.Info, "info");
        File(Remedy.Partial, "partial");
        File(Remedy.Lock, "lock");
        if (remedy.HasFlag(Remedy.Temp))
        {
            targets.AddRange(_v.TempFiles);
            targets.AddRange(_v.TempDirs);
        }

        var removed = new List<string>();
        var errors = new StringBuilder();
        foreach (var target in targets)
        {
            try
            {
                CacheRemoval.Remove(_modCache, target);
                removed.Add(Path.GetRelativePath(_modCache, target));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                errors.Append(errors.Length == 0 ? "" : "; ").Append(e.Message);
            }
        }

        var note = removed.Count == 0 ? "" : "fixed: removed " + string.Join(", ", removed);
        for (var i = 0; i < Findings.Count; i++)
        {
            var f = Findings[i];
            var problem = _problems.FirstOrDefault(p => ReferenceEquals(p.Finding, f));
            if (problem.Finding is null || problem.Remedy == Remedy.None)
            {
                continue;
            }

            Findings[i] = errors.Length == 0
                ? f with { Verdict = Verdict.Warn, Evidence = f.Evidence + " — " + note, Fix = "run the go command again to fetch it (go mod download)" }
                : f with { Evidence = f.Evidence + " — removal failed: " + errors + (note.Length > 0 ? " (" + note + ")" : "") };
        }
    }
}
