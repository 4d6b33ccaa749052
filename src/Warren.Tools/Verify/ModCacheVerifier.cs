using System.Collections.Concurrent;
using System.Text.Json;
using Warren.Core.Modules;
using Warren.Core.SumDb;
using Warren.Protocol.SumDb;
using Warren.Tools.Reporting;

namespace Warren.Tools.Verify;

/// <summary>`warren verify`: checks every module version in a module cache — the extracted directory and the cached
/// zip against the .ziphash the go command recorded, the go.mod and zip against go.sum files and a checksum database —
/// and finds the leftovers of interrupted downloads. Unlike `go mod verify` it covers the whole cache, not one build
/// list, checks in parallel and lists every problem.</summary>
/// <remarks>
/// <para>Every finding about a module version names it (module@version) as its subject. A healthy version gives one
/// Pass finding "cache.module"; the last finding, "verify.summary", counts what was checked.</para>
/// <para>With <see cref="VerifyOptions.Fix"/>, the entries of a failing version are removed — the extracted directory
/// when only it is damaged (the go command extracts the healthy zip again); the zip, .ziphash, .lock and the directory
/// when the zip is damaged or disagrees with go.sum or the checksum database; the .mod or .info when those are; and the
/// temporary files and .partial markers of interrupted downloads. Each repaired finding is reported with the verdict
/// Warn and "fixed: removed …" in its evidence, so that the exit code (1) still says problems were found; a removal
/// that fails stays a Fail. Nothing outside the module cache and nothing healthy is removed. The go command must not be
/// writing to the cache at the same time.</para>
/// </remarks>
public static class ModCacheVerifier
{
    /// <summary>Verifies (and with Fix, repairs) the module cache.</summary>
    public static async Task<Report> VerifyAsync(VerifyOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var findings = new List<Finding>();
        var modCache = Path.GetFullPath(options.ModCache);
        if (!Directory.Exists(modCache))
        {
            findings.Add(new Finding("verify.modcache", Verdict.Fail, $"module cache {modCache} does not exist",
                "pass --modcache DIR or set GOMODCACHE", modCache));
            return new Report("verify", findings);
        }

        var goSum = ReadGoSums(options.GoSumFiles, findings);
        var (versions, strays) = ModCacheScanner.Scan(modCache, cancellationToken);
        foreach (var stray in strays)
        {
            findings.Add(new Finding("cache.stray", Verdict.Warn, $"{stray.Reason}: {stray.FullPath}",
                "remove it by hand if nothing uses it", Path.GetRelativePath(modCache, stray.FullPath)));
        }

        var sumDb = CreateSumDbClient(options, findings);

        var results = new ConcurrentDictionary<string, List<Finding>>(StringComparer.Ordinal);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Jobs), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(versions, parallel, async (version, ct) =>
        {
            var check = new VersionCheck(modCache, version, goSum.GetValueOrDefault(version.Key), options.NoSumDb);
            await check.RunAsync(sumDb, ct).ConfigureAwait(false);
            if (options.Fix)
            {
                check.Repair();
            }

            results[version.Key] = check.Findings;
        }).ConfigureAwait(false);

        foreach (var version in versions)
        {
            findings.AddRange(results[version.Key]);
        }

        var cached = versions.Select(v => v.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var (key, lines) in goSum.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (cached.Contains(key))
            {
                continue;
            }

            foreach (var line in lines)
            {
                findings.Add(new Finding("gosum.not-in-cache", Verdict.Warn,
                    $"{line.Where}: {line.Line.Path} {line.Line.Version} is not in the module cache, so it was not checked",
                    "go mod download, then verify again", key));
            }
        }

        findings.Add(Summary(versions, findings, options));
        return new Report("verify", findings);
    }

    private static Finding Summary(List<CachedVersion> versions, List<Finding> findings, VerifyOptions options)
    {
        var zips = versions.Count(v => v.Has("zip"));
        var dirs = versions.Count(v => v.ExtractedDir is not null);
        var mods = versions.Count(v => v.Has("mod"));
        var bad = findings.Where(f => f.Verdict != Verdict.Pass && f.Subject is not null).Select(f => f.Subject).Distinct(StringComparer.Ordinal).Count();
        var worst = findings.Count == 0 ? Verdict.Pass : findings.Max(f => f.Verdict);
        var counts = $"{versions.Count} module versions ({zips} zips, {dirs} extracted directories, {mods} go.mod files)"
            + (options.GoSumFiles.Count > 0 ? $", {options.GoSumFiles.Count} go.sum files" : "")
            + (options.SumDb is not null ? $", checksum database {options.SumDb.Name}" : "");
        return worst == Verdict.Pass
            ? new Finding("verify.summary", Verdict.Pass, $"all verified: {counts}")
            : new Finding("verify.summary", worst, $"problems in {bad} of {counts}" + (options.Fix ? "; --fix removed what it reports as fixed" : ""),
                options.Fix ? "run the go command again to fetch what was removed" : "rerun with --fix to remove the corrupted entries, then download again");
    }

    private static SumDbClient? CreateSumDbClient(VerifyOptions options, List<Finding> findings)
    {
        if (options.SumDb is not { } config)
        {
            return null;
        }

        var key = config.EffectiveKey;
        if (key is null)
        {
            findings.Add(new Finding("sumdb.config", Verdict.Fail, $"no verifier key for checksum database {config.Name}",
                "pass --sumdb \"NAME+KEY URL\""));
            return null;
        }

        // In memory for this run unless a directory is given: nobody else can plant tiles in it.
        ISumDbCache cache = options.SumDbStateDirectory is { } state
            ? new DirectorySumDbCache(Path.Combine(state, "state"), Path.Combine(state, "tiles"))
            : new MemorySumDbCache();
        var http = options.Http ?? ToolHttp.Shared.CreateClient(ToolHttp.Verify);
        // Verify knows no proxy chain (only --sumdb), so there are no proxies to try before the database itself.
        return new SumDbClient(key, SumDbEndpoints.DirectUrl(config), http, cache);
    }

    /// <summary>go.sum lines by module@version (without "/go.mod").</summary>
    private static Dictionary<string, List<GoSumEntry>> ReadGoSums(IReadOnlyList<string> files, List<Finding> findings)
    {
        var byKey = new Dictionary<string, List<GoSumEntry>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                findings.Add(new Finding("gosum.read", Verdict.Fail, $"cannot read {file}: {e.Message}", "pass a readable go.sum", file));
                continue;
            }

            for (var i = 0; i < lines.Length; i++)
            {
                var text = lines[i].Trim();
                if (text.Length == 0)
                {
                    continue;
                }

                var where = $"{file}:{i + 1}";
                if (!GoSumLine.TryParse(text, out var line))
                {
                    findings.Add(new Finding("gosum.malformed", Verdict.Warn, $"{where}: malformed go.sum line: {text}", "go mod tidy rewrites go.sum", where));
                    continue;
                }

                var key = line.Path + "@" + line.ModuleVersion;
                if (!byKey.TryGetValue(key, out var list))
                {
                    byKey[key] = list = [];
                }

                list.Add(new GoSumEntry(line, where));
            }
        }

        return byKey;
    }

    /// <summary>Parses the JSON of a .info file; returns the Version it names, or null when it is not valid.</summary>
    internal static string? InfoVersion(byte[] data)
    {
        try
        {
            using var doc = JsonDocument.Parse(data);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("Version", out var v)
                && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A go.sum line and where it was read (file:line).</summary>
internal sealed record GoSumEntry(GoSumLine Line, string Where);
