using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Warren.Core.Modules;
using Warren.Core.SumDb;
using Warren.Protocol.GoProxy;
using Warren.Protocol.SumDb;
using Warren.Protocol.VulnDb;
using Warren.Storage;
using Warren.Tools.Prefetch;
using Warren.Tools.Reporting;

namespace Warren.Tools.Bundle;

/// <summary>What to export, from where, into which directory.</summary>
/// <param name="Inputs">go.mod, go.sum, go.work files, module directories, or module@version.</param>
/// <param name="Proxy">The GOPROXY URL the modules are read from.</param>
/// <param name="SumDb">The checksum database whose data goes along (null: none).</param>
/// <param name="Out">The bundle directory.</param>
/// <param name="Since">Versions an earlier bundle carried: their module files are not carried again.</param>
/// <param name="Signer">Signs the manifest when set.</param>
/// <param name="Jobs">Concurrent requests.</param>
/// <param name="Time">The clock the manifest's creation time comes from (null: the system's).</param>
/// <param name="VulnDb">The Go vulnerability database to carry as vulndb.zip (null: none), and where it was read from.</param>
public sealed record ExportOptions(IReadOnlyList<string> Inputs, string Proxy, SumDbConfig? SumDb, string Out, BundleCursor? Since = null,
    NoteSigner? Signer = null, int Jobs = 8, TimeProvider? Time = null, (VulnDbSnapshot Snapshot, string Source)? VulnDb = null, string? Journal = null);

/// <summary>What an export did.</summary>
public sealed record ExportResult(Report Report, BundleManifest? Manifest, long Bytes, TimeSpan Elapsed);

/// <summary>Writes a bundle the go command verifies by itself: the GOPROXY layout (MODULE/@v/list, .info, .mod, .zip)
/// of a build list, the checksum database's data a go client needs to verify every version of it offline
/// (sumdb/NAME/supported, latest, lookup/MODULE@VERSION, and the tiles that prove those lookups against latest), and
/// warren-bundle.json listing every file with its SHA-256, the source and the cursor of the next incremental export.
/// With <see cref="ExportOptions.VulnDb"/>, the Go vulnerability database goes along as vulndb.zip, written before the
/// files are hashed, so it is listed and checked like every other file.</summary>
/// <remarks>
/// The build list is prefetch's (<see cref="Prefetcher"/>, minimum version selection). The lookups are fetched, proven
/// against the database's latest signed head (each lookup's own head proven consistent with it), compared with the hashes
/// of the files written, and written with that one head: so a go client, whatever order it looks versions up in, only
/// ever sees one head, and the tiles in the bundle are exactly those its checks read. An incremental export
/// (<see cref="ExportOptions.Since"/>) carries module files only for versions not carried before, and checksum data for
/// the whole build list at the new head (lookups are small; without them old versions would no longer verify against
/// the new head).
/// </remarks>
public sealed class BundleExporter(ExportOptions options)
{
    private const long MaxLookup = 1 << 20;
    private const long MaxTile = 1 << 16;

    /// <summary>Called with the number of go.mod files read while computing build lists.</summary>
    public Action<int>? OnResolveProgress { get; set; }

    /// <summary>Called with (module versions done, planned) while fetching module files.</summary>
    public Action<int, int>? OnFetchProgress { get; set; }

    /// <summary>Called with (lookups proven, planned).</summary>
    public Action<int, int>? OnChecksumProgress { get; set; }

    /// <summary>Runs the export; when <see cref="ExportOptions.Journal"/> is set, records its outcome there (a store's
    /// bundle journal, which that store's console lists).</summary>
    public async Task<ExportResult> RunAsync(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = await RunUnjournaledAsync(cancellationToken).ConfigureAwait(false);
        if (options.Journal is { } journal)
        {
            var problem = result.Report.Findings.FirstOrDefault(f => f.Verdict == Verdict.Fail);
            var versions = result.Manifest?.Versions.Count ?? 0;
            BundleJournal.Append(journal, new BundleJournalEntry("export", Path.GetFullPath(options.Out), (options.Time ?? TimeProvider.System).GetUtcNow(),
                result.Report.Worst != Verdict.Fail, versions, 0, result.Report.Findings.Count(f => f.Verdict == Verdict.Fail), result.Bytes,
                problem is null ? null : (problem.Subject is null ? "" : problem.Subject + ": ") + problem.Evidence));
        }

        return result;
    }

    private async Task<ExportResult> RunUnjournaledAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        // FILE.tar: the bundle is written in FILE.tar.d (where an interrupted export resumes), then archived.
        var target = Path.GetFullPath(options.Out);
        var archive = BundleArchive.IsArchive(target);
        var outDir = archive ? target + ".d" : target;
        Directory.CreateDirectory(outDir);
        var scratch = Directory.CreateTempSubdirectory("warren-export-");
        try
        {
            var since = options.Since ?? BundleCursor.Empty;
            var written = new ConcurrentDictionary<string, (string Sha256, long Size)>(StringComparer.Ordinal);
            var prefetcher = new Prefetcher(new PrefetchOptions(ExpandInputs(options.Inputs, scratch.FullName), options.Proxy, outDir, options.Jobs)
            {
                ProxyLayout = true,
                AlreadyHad = since.Carried,
            })
            {
                OnResolveProgress = OnResolveProgress,
                OnFetchProgress = OnFetchProgress,
                // Hashed as they are written, so that the manifest need not read the bundle's zips a second time.
                OnFileWritten = (path, sha256, size) => written[path] = (sha256, size),
            };
            var fetched = await prefetcher.RunAsync(cancellationToken).ConfigureAwait(false);
            var findings = fetched.Report.Findings.Where(f => f.Check != "prefetch.summary").ToList();
            if (fetched.Failures > 0)
            {
                findings.Add(new Finding("export.summary", Verdict.Fail, $"{fetched.Failures} module versions could not be fetched; no manifest written", "see the failures above", outDir));
                return new ExportResult(new Report("export", findings), null, fetched.Bytes, clock.Elapsed);
            }

            var carried = fetched.Planned.Where(p => !since.Carried(p.Key, p.Zip)).ToList();
            await WriteListsAsync(outDir, carried, cancellationToken).ConfigureAwait(false);

            BundleSumDb? sumDb = null;
            var hashes = new Dictionary<ModuleKey, ProvenLookup>();
            if (options.SumDb is { } config)
            {
                try
                {
                    // Lookups of what earlier bundles carried go along at the new head too, so that after importing this
                    // bundle every lookup a mirror serves is proven against one head.
                    var lookups = fetched.Planned.Select(p => p.Key).Union(since.Keys).ToList();
                    (sumDb, hashes) = await ExportChecksumsAsync(config, outDir, lookups, carried, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidDataException or ProxyFetchException)
                {
                    findings.Add(new Finding("export.sumdb", Verdict.Fail, e.Message, "the checksum database or the proxy serves data that does not verify: do not carry it", config.Name));
                    findings.Add(new Finding("export.summary", Verdict.Fail, "checksum data could not be exported; no manifest written", null, outDir));
                    return new ExportResult(new Report("export", findings), null, fetched.Bytes, clock.Elapsed);
                }
            }

            var versions = carried
                .Select(c => new BundleVersion(c.Key.Path, c.Key.Version, c.Zip, hashes.GetValueOrDefault(c.Key)?.ZipHash, hashes.GetValueOrDefault(c.Key)?.GoModHash))
                .ToList();
            var vulnDb = await WriteVulnDbAsync(outDir, cancellationToken).ConfigureAwait(false);
            var files = await BundleLayout.HashFilesAsync(outDir, options.Jobs, written, cancellationToken).ConfigureAwait(false);
            var manifest = new BundleManifest(BundleManifest.CurrentFormat, options.Proxy, sumDb, (options.Time ?? TimeProvider.System).GetUtcNow(),
                options.Since is null ? null : $"{since.Count} versions carried by earlier bundles", since.With(carried).ToString(), versions, files, vulnDb);
            var json = manifest.ToJson();
            BundleLayout.WriteAtomically(Path.Combine(outDir, BundleManifest.FileName), json);
            if (options.Signer is { } signer)
            {
                BundleLayout.WriteAtomically(Path.Combine(outDir, BundleManifest.SignatureName), BundleSignature.Sign(json, signer));
            }

            if (archive)
            {
                await BundleArchive.CreateAsync(outDir, target, cancellationToken).ConfigureAwait(false);
                Directory.Delete(outDir, recursive: true);
            }

            var bytes = files.Sum(f => f.Size);
            var what = sumDb is null ? "no checksum data" : $"checksum data of {sumDb.Name} at tree#{sumDb.TreeSize}";
            var signed = options.Signer is null ? "" : "; manifest signed by " + options.Signer.Name;
            if (vulnDb is not null)
            {
                what += $"; vulnerability database ({vulnDb.Entries} entries, modified {VulnDbSnapshot.FormatTime(vulnDb.Modified)}, from {vulnDb.Source})";
            }

            var seconds = clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
            findings.Add(new Finding("export.summary", Verdict.Pass,
                $"{versions.Count} module versions ({versions.Count(v => v.Zip)} zips), {files.Count} files, {bytes} bytes in {seconds}s; {what}{signed}; next incremental export: --since {target}",
                null, target));
            return new ExportResult(new Report("export", findings), manifest, bytes, clock.Elapsed);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>Writes vulndb.zip into the bundle (the layout of vuln.go.dev's vulndb.zip, which warren import reads);
    /// without a database to carry, removes one an earlier export into the same directory left. Its manifest entry.</summary>
    private async Task<BundleVulnDb?> WriteVulnDbAsync(string outDir, CancellationToken cancellationToken)
    {
        var path = Path.Combine(outDir, VulnDbArchive.FileName);
        if (options.VulnDb is not { } vulnDb)
        {
            File.Delete(path);
            return null;
        }

        await Task.Run(() => VulnDbArchive.WriteFile(vulnDb.Snapshot, path), cancellationToken).ConfigureAwait(false);
        return new BundleVulnDb(VulnDbArchive.FileName, vulnDb.Snapshot.Entries.Count, vulnDb.Snapshot.Modified, vulnDb.Source);
    }

    /// <summary>go.work files become the directories they use; module@version becomes a go.mod requiring it (its build
    /// list, with every requirement followed). Everything else goes to prefetch as it is.</summary>
    internal static IReadOnlyList<string> ExpandInputs(IReadOnlyList<string> inputs, string scratch)
    {
        var expanded = new List<string>();
        var n = 0;
        foreach (var input in inputs)
        {
            if (File.Exists(input) && input.EndsWith(".work", StringComparison.Ordinal))
            {
                var root = Path.GetDirectoryName(Path.GetFullPath(input))!;
                expanded.AddRange(WorkUses(File.ReadAllText(input)).Select(u => Path.GetFullPath(Path.Combine(root, u))));
            }
            else if (!File.Exists(input) && !Directory.Exists(input) && input.LastIndexOf('@') is var at and > 0
                && ModuleVersion.Check(input[..at], input[(at + 1)..]) is null)
            {
                var dir = Path.Combine(scratch, "input" + n++.ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, "go.mod"), $"module warren.invalid/export\n\ngo 1.16\n\nrequire {input[..at]} {input[(at + 1)..]}\n");
                expanded.Add(dir);
            }
            else
            {
                expanded.Add(input);
            }
        }

        return expanded;
    }

    /// <summary>The directories of a go.work's use directives (single and block form).</summary>
    internal static IEnumerable<string> WorkUses(string text)
    {
        var inBlock = false;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Split("//")[0].Trim();
            if (inBlock)
            {
                if (line == ")")
                {
                    inBlock = false;
                }
                else if (line.Length > 0)
                {
                    yield return line.Trim('"');
                }
            }
            else if (line.StartsWith("use", StringComparison.Ordinal) && line.Length > 3 && char.IsWhiteSpace(line[3]) || line == "use(")
            {
                var rest = line[3..].Trim();
                if (rest == "(")
                {
                    inBlock = true;
                }
                else if (rest.Length > 0)
                {
                    yield return rest.Trim('"');
                }
            }
        }
    }

    /// <summary>MODULE/@v/list of each module with versions carried: its release and pre-release versions in the
    /// bundle (with .info), sorted.</summary>
    private static async Task WriteListsAsync(string outDir, IReadOnlyList<(ModuleKey Key, bool Zip)> carried, CancellationToken cancellationToken)
    {
        var layout = Warren.Protocol.ModCache.ModCacheLayout.ForDownloadRoot(outDir);
        foreach (var module in carried.Where(c => c.Zip).Select(c => c.Key.Path).Distinct(StringComparer.Ordinal))
        {
            var list = Path.Combine(outDir, GoProxyPaths.List(module).Replace('/', Path.DirectorySeparatorChar));
            var dir = Path.GetDirectoryName(list)!;
            var versions = Directory.EnumerateFiles(dir, "*.info")
                .Select(f => Path.GetFileNameWithoutExtension(f))
                .Select(v => ModulePath.TryUnescapeVersion(v, out var u, out _) ? u : null)
                .OfType<string>()
                .Where(v => !PseudoVersion.IsPseudoVersion(v) && File.Exists(layout.PathOf(module, v, ".zip")))
                .ToList();
            versions.Sort(SemVer.Compare);
            var text = string.Concat(versions.Select(v => v + "\n"));
            await Task.Run(() => BundleLayout.WriteAtomically(list, Encoding.UTF8.GetBytes(text)), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(BundleSumDb, Dictionary<ModuleKey, ProvenLookup>)> ExportChecksumsAsync(SumDbConfig config, string outDir,
        IReadOnlyList<ModuleKey> planned, IReadOnlyList<(ModuleKey Key, bool Zip)> carried, CancellationToken cancellationToken)
    {
        var key = config.EffectiveKey is { } k && NoteVerifier.TryParse(k, out var verifier, out _) ? verifier
            : throw new InvalidDataException($"checksum database {config.Name}: no valid verifier key (give --sumdb NAME+HASH+KEY)");
        var http = new GoProxyClient(ToolHttp.Shared.CreateClient(ToolHttp.Prefetch));
        var baseUrl = await SelectSumDbAsync(http, SumDbEndpoints.BaseUrlsFor(config, [new ProxySpec(options.Proxy, FallBackOnError: false)]), cancellationToken)
            .ConfigureAwait(false);
        Task<byte[]?> Get(string relative, long limit, CancellationToken ct) => GetAsync(http, GoProxyClient.Join(baseUrl, relative), limit, ct);

        // Lookups first (a hosted database may log a version when it is first looked up), then the head.
        var bodies = new ConcurrentDictionary<ModuleKey, byte[]>();
        var done = 0;
        await Parallel.ForEachAsync(planned, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Jobs), CancellationToken = cancellationToken }, async (p, ct) =>
        {
            bodies[p] = await Get(SumDbProtocol.LookupPath(p.Path, p.Version), MaxLookup, ct).ConfigureAwait(false)
                ?? throw new InvalidDataException($"{p}: not found in checksum database {config.Name}");
            OnChecksumProgress?.Invoke(Interlocked.Increment(ref done) / 2, planned.Count);
        }).ConfigureAwait(false);
        var latest = await Get(SumDbProtocol.LatestPath, MaxLookup, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"checksum database {config.Name}: no latest tree head");
        var head = BundleChecksums.OpenHead(latest, key, "latest");
        var tiles = new RecordingTileReader((path, ct) => Get(path, MaxTile, ct));

        var proven = new Dictionary<ModuleKey, ProvenLookup>();
        foreach (var p in planned)
        {
            proven[p] = await BundleChecksums.ProveAsync(p, bodies[p], key, head, tiles, cancellationToken).ConfigureAwait(false);
            OnChecksumProgress?.Invoke((planned.Count + proven.Count) / 2, planned.Count);
        }

        // The files written must be what the database holds.
        var layout = Warren.Protocol.ModCache.ModCacheLayout.ForDownloadRoot(outDir);
        foreach (var (module, zip) in carried)
        {
            var record = proven[module];
            var mod = DirHash.HashGoMod(await File.ReadAllBytesAsync(layout.PathOf(module, ".mod"), cancellationToken).ConfigureAwait(false));
            if (mod != record.GoModHash)
            {
                throw new InvalidDataException($"{module}: go.mod hash {mod} from {options.Proxy} differs from checksum database {config.Name}'s {record.GoModHash}");
            }

            if (zip && (await File.ReadAllTextAsync(layout.PathOf(module, ".ziphash"), cancellationToken).ConfigureAwait(false)).Trim() is var h && h != record.ZipHash)
            {
                throw new InvalidDataException($"{module}: zip hash {h} from {options.Proxy} differs from checksum database {config.Name}'s {record.ZipHash}");
            }
        }

        var prefix = Path.Combine(outDir, "sumdb", config.Name);
        BundleLayout.WriteAtomically(Path.Combine(prefix, "supported"), []);
        BundleLayout.WriteAtomically(Path.Combine(prefix, SumDbProtocol.LatestPath), latest);
        foreach (var record in proven.Values)
        {
            BundleLayout.WriteAtomically(Path.Combine(prefix, SumDbProtocol.LookupPath(record.Key.Path, record.Key.Version)), BundleChecksums.Format(record, latest));
        }

        foreach (var (path, data) in tiles.Read)
        {
            BundleLayout.WriteAtomically(Path.Combine(prefix, path), data);

            // The records behind each level-0 tile, for readers that want them (the go command does not).
            if (Tile.TryParsePath(path, out var tile) && tile.Level == 0
                && await Get((tile with { Level = -1 }).Path, 1 << 24, cancellationToken).ConfigureAwait(false) is { } records)
            {
                BundleLayout.WriteAtomically(Path.Combine(prefix, (tile with { Level = -1 }).Path), records);
            }
        }

        return (new BundleSumDb(config.Name, key.VerifierKey, head.Size), proven);
    }

    /// <summary>The base URL the go command would use, of those <see cref="SumDbEndpoints.BaseUrlsFor"/> lists: the first
    /// proxy answering 200 to NAME/supported (404/410 moves on to the next), else the last, the database itself.</summary>
    /// <exception cref="ProxyFetchException">A proxy answered supported with another failure (the go command stops there).</exception>
    private static async Task<Uri> SelectSumDbAsync(GoProxyClient http, IReadOnlyList<Uri> candidates, CancellationToken cancellationToken)
    {
        foreach (var candidate in candidates.Take(candidates.Count - 1))
        {
            if (await GetAsync(http, GoProxyClient.Join(candidate, "supported"), 1 << 16, cancellationToken).ConfigureAwait(false) is not null)
            {
                return candidate;
            }
        }

        return candidates[^1];
    }

    /// <summary>GET: the body, null on 404/410; anything else is a <see cref="ProxyFetchException"/>.</summary>
    private static async Task<byte[]?> GetAsync(GoProxyClient http, Uri uri, long limit, CancellationToken cancellationToken)
    {
        var (result, body) = await http.GetBytesAsync(uri, limit, cancellationToken).ConfigureAwait(false);
        return result.IsOk ? body
            : result.IsNotFound ? null
            : throw new ProxyFetchException("GET " + result.Reason, result.Failure == ProxyFailure.Status ? (HttpStatusCode?)result.HttpStatus : null);
    }
}
