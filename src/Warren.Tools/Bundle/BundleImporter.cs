using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Warren.Core.Modules;
using Warren.Core.SumDb;
using Warren.Core.Vulns;
using Warren.Protocol.GoProxy;
using Warren.Protocol.VulnDb;
using Warren.Storage;
using Warren.Tools.Prefetch;
using Warren.Tools.Reporting;

namespace Warren.Tools.Bundle;

/// <summary>Where an import goes and what it trusts.</summary>
/// <param name="Bundle">The bundle directory.</param>
/// <param name="Store">The artifact store to fill.</param>
/// <param name="Index">The store's module index (a record per file), or null.</param>
/// <param name="NewStagingFile">A fresh path on the store's staging area (so publishing is a rename).</param>
/// <param name="Trust">When set, the manifest must carry a signature by this key.</param>
/// <param name="SumDbKey">The checksum database key the lookups must verify with (null: the manifest's).</param>
/// <param name="Jobs">Versions checked and stored at once.</param>
/// <param name="Time">The clock of the index records' times (null: the system's).</param>
/// <param name="VulnDbRoot">The store root whose copy of the vulnerability database (ROOT/.warren/vulndb) a bundle's
/// vulndb.zip replaces (null: a bundle's database is checked but not installed).</param>
/// <param name="Journal">The store's bundle journal (<see cref="BundleJournal"/>) the outcome is added to, or null.</param>
public sealed record ImportOptions(string Bundle, IArtifactStore Store, IModuleIndex? Index, Func<string> NewStagingFile, NoteVerifier? Trust = null,
    NoteVerifier? SumDbKey = null, int Jobs = 4, TimeProvider? Time = null, string? VulnDbRoot = null, string? Journal = null);

/// <summary>What an import did.</summary>
public sealed record ImportResult(Report Report, int Stored, int Present, int Refused, long Bytes, TimeSpan Elapsed);

/// <summary>Imports a bundle written by <see cref="BundleExporter"/> into a store, after checking all of it: the
/// manifest's signature (when a key is trusted), every file against the manifest's SHA-256 (no file missing, none
/// extra), the signed tree head against the checksum database's key, every lookup against the tiles and that head,
/// and every .zip (module zip rules, h1) and .mod (h1) against its lookup's record. A bundle with any problem is
/// refused, naming the file, and nothing of it is stored.</summary>
/// <remarks>
/// Every file is first copied into the store's staging area with its SHA-256 computed on the way, the checks read the
/// staged copies (so what is stored is byte for byte what was checked, even if the medium changes meanwhile), and only
/// then is each file published put-if-absent, a version's .mod, .info and .ziphash before its .zip. So an import is
/// idempotent, an interrupted one is finished by running it again, a refused one leaves nothing behind, and no partial
/// file is ever visible. The checksum data (tiles, lookups, latest) is stored under sumdb/NAME/ for
/// `warren serve --offline`; lookups and latest of a newer head replace older ones. A bundle's vulnerability database
/// (vulndb.zip) is read whole from its staged copy and must match the manifest's entry count and time; it then becomes
/// the store's copy, exactly as `warren import vulndb.zip` makes it (<see cref="VulnDbStoredCopy.Save"/>), unless the
/// stored copy is newer.
/// </remarks>
public sealed class BundleImporter(ImportOptions options)
{
    private int _stored;
    private int _present;
    private long _bytes;
    private int _done;

    /// <summary>Called with (steps done, steps) while checking, then while storing.</summary>
    public Action<string, int, int>? OnProgress { get; set; }

    public async Task<ImportResult> RunAsync(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = await RunUnjournaledAsync(cancellationToken).ConfigureAwait(false);
        if (options.Journal is { } journal)
        {
            var problem = result.Report.Findings.FirstOrDefault(f => f.Verdict == Verdict.Fail);
            BundleJournal.Append(journal, new BundleJournalEntry("import", options.Bundle, (options.Time ?? TimeProvider.System).GetUtcNow(),
                result.Report.Worst != Verdict.Fail, result.Stored, result.Present, result.Refused, result.Bytes,
                problem is null ? null : (problem.Subject is null ? "" : problem.Subject + ": ") + problem.Evidence));
        }

        return result;
    }

    private async Task<ImportResult> RunUnjournaledAsync(CancellationToken cancellationToken)
    {
        if (!BundleArchive.IsArchive(options.Bundle))
        {
            return await ImportAsync(Path.GetFullPath(options.Bundle), cancellationToken).ConfigureAwait(false);
        }

        var extracted = Directory.CreateTempSubdirectory("warren-import-");
        try
        {
            try
            {
                await BundleArchive.ExtractAsync(options.Bundle, extracted.FullName, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or FormatException)
            {
                return Refuse([], options.Bundle, e.Message, Stopwatch.StartNew());
            }

            return await ImportAsync(extracted.FullName, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            extracted.Delete(recursive: true);
        }
    }

    private async Task<ImportResult> ImportAsync(string bundle, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var findings = new List<Finding>();
        var manifestPath = Path.Combine(bundle, BundleManifest.FileName);
        BundleManifest manifest;
        byte[] manifestBytes;
        try
        {
            manifestBytes = await File.ReadAllBytesAsync(manifestPath, cancellationToken).ConfigureAwait(false);
            manifest = BundleManifest.Parse(manifestBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return Refuse(findings, BundleManifest.FileName, e.Message, clock);
        }

        if (options.Trust is { } trust)
        {
            var sigPath = Path.Combine(bundle, BundleManifest.SignatureName);
            var signature = File.Exists(sigPath) ? await File.ReadAllBytesAsync(sigPath, cancellationToken).ConfigureAwait(false) : null;
            if (BundleSignature.Check(manifestBytes, signature, trust) is { } problem)
            {
                return Refuse(findings, BundleManifest.SignatureName, problem, clock);
            }
        }

        // 1. Every file is the manifest's, and only those.
        var listed = new Dictionary<string, BundleFile>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            if (!StoreLayout.IsValidKey(file.Path) || !listed.TryAdd(file.Path, file))
            {
                return Refuse(findings, file.Path, "not a valid, unique bundle path", clock);
            }
        }

        foreach (var extra in BundleLayout.ContentFiles(bundle).Where(f => !listed.ContainsKey(f)))
        {
            findings.Add(new Finding("import.file", Verdict.Fail, "not listed in the manifest", "the bundle was changed after export", extra));
        }

        // Everything is staged first (copied with its SHA-256 computed on the way), checked there, and only then
        // published: what is stored is byte for byte what was checked, and a refused bundle leaves nothing behind.
        var stage = options.NewStagingFile();
        Directory.CreateDirectory(stage);
        try
        {
            return await CheckAndStoreAsync(bundle, stage, manifest, listed, findings, clock, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(stage, recursive: true);
        }
    }

    private async Task<ImportResult> CheckAndStoreAsync(string bundle, string stage, BundleManifest manifest, Dictionary<string, BundleFile> listed,
        List<Finding> findings, Stopwatch clock, CancellationToken cancellationToken)
    {
        var steps = listed.Count + listed.Keys.Count(k => k.Contains("/lookup/", StringComparison.Ordinal));
        await Parallel.ForEachAsync(listed.Values, Jobs(cancellationToken), async (file, ct) =>
        {
            var full = Path.Combine(bundle, file.Path);
            var problem = !File.Exists(full) ? "missing"
                : new FileInfo(full).LinkTarget is not null ? "a symbolic link, not a file"
                : new FileInfo(full).Length != file.Size ? $"size {new FileInfo(full).Length}, the manifest says {file.Size}"
                : await CopyHashedAsync(full, Path.Combine(stage, file.Path), ct).ConfigureAwait(false) is var sha && sha != file.Sha256 ? $"SHA-256 {sha}, the manifest says {file.Sha256}"
                : null;
            if (problem is not null)
            {
                lock (findings)
                {
                    findings.Add(new Finding("import.file", Verdict.Fail, problem, "the bundle was damaged or changed after export: do not import it", file.Path));
                }
            }

            Step("checking", steps);
        }).ConfigureAwait(false);
        if (findings.Count > 0)
        {
            return Refuse(findings, null, null, clock);
        }

        // 2. The vulnerability database, read whole (the staged copy).
        VulnDbSnapshot? vulnDb = null;
        if (manifest.VulnDb is { } vulnEntry)
        {
            string? problem;
            (vulnDb, problem) = CheckVulnDb(stage, vulnEntry, listed);
            if (problem is not null)
            {
                return Refuse(findings, vulnEntry.Path, problem, clock);
            }
        }

        // 3. The checksum data, and each version's files against it (the staged copies).
        if (manifest.SumDb is null)
        {
            findings.Add(new Finding("import.sumdb", Verdict.Warn, "the bundle carries no checksum data: files are checked against the manifest only", "export with --sumdb", bundle));
        }
        else if (await CheckChecksumsAsync(stage, manifest, findings, steps, cancellationToken).ConfigureAwait(false) is false)
        {
            return Refuse(findings, null, null, clock);
        }

        // 4. Publish: every version's files in one batch (each version's .mod, .info, .ziphash and .zip in that order,
        // so a visible zip always has the rest), made durable together by the store, then recorded in the index.
        _done = 0;
        await StoreVersionsAsync(stage, manifest, listed, cancellationToken).ConfigureAwait(false);
        if (manifest.SumDb is { } sumDb)
        {
            await StoreChecksumsAsync(stage, sumDb, listed, cancellationToken).ConfigureAwait(false);
        }

        if (vulnDb is not null)
        {
            findings.Add(InstallVulnDb(vulnDb, manifest.VulnDb!));
        }

        var seconds = clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        findings.Add(new Finding("import.summary", Verdict.Pass,
            $"{manifest.Versions.Count} module versions checked{(manifest.SumDb is { } s ? $" against {s.Name} tree#{s.TreeSize}" : "")}: {_stored} files stored, {_present} already there, {_bytes} bytes, {seconds}s; into {options.Store.Location}",
            null, bundle));
        return new ImportResult(new Report("import", findings), _stored, _present, 0, _bytes, clock.Elapsed);
    }

    /// <summary>The bundle's database (its staged copy, already checked against the manifest's SHA-256), or the problem.</summary>
    private static (VulnDbSnapshot? Snapshot, string? Problem) CheckVulnDb(string stage, BundleVulnDb entry, Dictionary<string, BundleFile> listed)
    {
        if (entry.Path != VulnDbArchive.FileName || !listed.ContainsKey(entry.Path))
        {
            return (null, $"the manifest's vulnerability database is not a listed {VulnDbArchive.FileName} at the top of the bundle");
        }

        VulnDbSnapshot snapshot;
        try
        {
            using var file = File.OpenRead(Path.Combine(stage, entry.Path));
            snapshot = VulnDbArchive.Read(file, VulnDbLimits.Default);
        }
        catch (Exception e) when (e is OsvFormatException or InvalidDataException or IOException)
        {
            return (null, "not a usable vulnerability database: " + e.Message.ReplaceLineEndings(" "));
        }

        return snapshot.Entries.Count != entry.Entries || snapshot.Modified != entry.Modified
            ? (null, $"holds {snapshot.Entries.Count} entries modified {VulnDbSnapshot.FormatTime(snapshot.Modified)}, the manifest says {entry.Entries} modified {VulnDbSnapshot.FormatTime(entry.Modified)}")
            : (snapshot, null);
    }

    /// <summary>Makes the bundle's database the store's copy (as warren import vulndb.zip does), unless the stored one is newer.</summary>
    private Finding InstallVulnDb(VulnDbSnapshot snapshot, BundleVulnDb entry)
    {
        var modified = VulnDbSnapshot.FormatTime(snapshot.Modified);
        if (options.VulnDbRoot is not { } root)
        {
            return new Finding("import.vulndb", Verdict.Warn, $"the vulnerability database ({snapshot.Entries.Count} entries, modified {modified}) was checked but not installed: no store root", null, entry.Path);
        }

        try
        {
            DateTimeOffset? stored = null;
            try
            {
                stored = VulnDbStoredCopy.Load(root, VulnDbLimits.Default)?.Snapshot.Modified;
            }
            catch (Exception e) when (e is OsvFormatException or InvalidDataException)
            {
                // An unreadable stored copy is replaced.
            }

            if (stored is { } newer && newer > snapshot.Modified)
            {
                return new Finding("import.vulndb", Verdict.Pass,
                    $"kept the stored vulnerability database (modified {VulnDbSnapshot.FormatTime(newer)}): it is newer than the bundle's (modified {modified})", null, VulnDbStoredCopy.ZipPath(root));
            }

            VulnDbStoredCopy.Save(root, snapshot, new VulnDbState(VulnDbStoredCopy.ImportedSource, null, null, (options.Time ?? TimeProvider.System).GetUtcNow()));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Finding("import.vulndb", Verdict.Fail, "cannot store the vulnerability database: " + e.Message.ReplaceLineEndings(" "),
                "make the store writable and import the bundle again", VulnDbStoredCopy.DirectoryOf(root));
        }

        return new Finding("import.vulndb", Verdict.Pass,
            $"vulnerability database installed: {snapshot.Entries.Count} entries, modified {modified}, from {entry.Source}; warren serve serves it under /vuln/ (also --offline)", null, VulnDbStoredCopy.ZipPath(root));
    }

    private ParallelOptions Jobs(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = Math.Max(1, options.Jobs), CancellationToken = cancellationToken };

    private void Step(string what, int total) => OnProgress?.Invoke(what, Interlocked.Increment(ref _done), total);

    private static ImportResult Refuse(List<Finding> findings, string? subject, string? problem, Stopwatch clock)
    {
        if (problem is not null)
        {
            findings.Add(new Finding("import.file", Verdict.Fail, problem, "do not import this bundle", subject));
        }

        findings.Sort((a, b) => string.CompareOrdinal(a.Subject, b.Subject));
        findings.Add(new Finding("import.summary", Verdict.Fail, "bundle refused: nothing was stored", "see the files named above; export the bundle again"));
        return new ImportResult(new Report("import", findings), 0, 0, 1, 0, clock.Elapsed);
    }

    /// <summary>False (with findings) when anything does not verify.</summary>
    private async Task<bool> CheckChecksumsAsync(string bundle, BundleManifest manifest, List<Finding> findings, int steps, CancellationToken cancellationToken)
    {
        var sumDb = manifest.SumDb!;
        var prefix = Path.Combine(bundle, "sumdb", sumDb.Name);
        NoteVerifier key;
        if (options.SumDbKey is { } pinned)
        {
            key = pinned;
        }
        else if (!NoteVerifier.TryParse(sumDb.VerifierKey, out key!, out var keyError))
        {
            findings.Add(new Finding("import.sumdb", Verdict.Fail, keyError, "give --sumdb-key", BundleManifest.FileName));
            return false;
        }

        if (key.Name != sumDb.Name)
        {
            findings.Add(new Finding("import.sumdb", Verdict.Fail, $"the bundle's checksum data is {sumDb.Name}'s, not {key.Name}'s", null, BundleManifest.FileName));
            return false;
        }

        TreeHead head;
        byte[] latest;
        try
        {
            latest = await File.ReadAllBytesAsync(Path.Combine(prefix, SumDbProtocol.LatestPath), cancellationToken).ConfigureAwait(false);
            head = BundleChecksums.OpenHead(latest, key, "latest");
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            findings.Add(new Finding("import.sumdb", Verdict.Fail, e.Message, "do not import this bundle", $"sumdb/{sumDb.Name}/latest"));
            return false;
        }

        var tiles = new RecordingTileReader(async (path, ct) =>
            File.Exists(Path.Combine(prefix, path)) ? await File.ReadAllBytesAsync(Path.Combine(prefix, path), ct).ConfigureAwait(false) : null);

        // Every lookup in the bundle is proven (an incremental bundle re-heads those of earlier ones); the files of the
        // versions it carries are checked against theirs.
        var carried = manifest.Versions.ToDictionary(v => new ModuleKey(v.Path, v.Version), v => v.Zip);
        var lookupPrefix = $"sumdb/{sumDb.Name}/lookup/";
        var lookups = new HashSet<ModuleKey>(carried.Keys);
        foreach (var file in manifest.Files.Where(f => f.Path.StartsWith(lookupPrefix, StringComparison.Ordinal)))
        {
            var escaped = file.Path[lookupPrefix.Length..];
            var at = escaped.LastIndexOf('@');
            if (at <= 0 || !ModulePath.TryUnescapePath(escaped[..at], out var path, out _) || !ModulePath.TryUnescapeVersion(escaped[(at + 1)..], out var version, out _))
            {
                findings.Add(new Finding("import.verify", Verdict.Fail, "not a lookup of a module version", "do not import this bundle", file.Path));
                continue;
            }

            lookups.Add(new ModuleKey(path, version));
        }

        await Parallel.ForEachAsync(lookups, Jobs(cancellationToken), async (module, ct) =>
        {
            var (file, problem) = await CheckVersionAsync(bundle, prefix, module, carried.TryGetValue(module, out var zip) ? zip : null, key, head, tiles, ct).ConfigureAwait(false);
            if (problem is not null)
            {
                lock (findings)
                {
                    findings.Add(new Finding("import.verify", Verdict.Fail, problem, "the bundle was tampered with: do not import it", file));
                }
            }

            Step("checking", steps);
        }).ConfigureAwait(false);
        return findings.Count == 0;
    }

    /// <summary>(the file at fault, the problem), or (null, null) when the version verifies.</summary>
    /// <param name="zip">Whether the bundle carries the version's zip (true), its .mod only (false), or only its lookup (null).</param>
    private static async Task<(string? File, string? Problem)> CheckVersionAsync(string bundle, string prefix, ModuleKey module, bool? zip, NoteVerifier key,
        TreeHead head, ITileReader tiles, CancellationToken cancellationToken)
    {
        var lookup = "sumdb/" + Path.GetFileName(prefix) + "/" + SumDbProtocol.LookupPath(module.Path, module.Version);
        ProvenLookup record;
        try
        {
            var body = await File.ReadAllBytesAsync(Path.Combine(bundle, lookup), cancellationToken).ConfigureAwait(false);
            record = await BundleChecksums.ProveAsync(module, body, key, head, tiles, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return (lookup, e.Message);
        }

        if (zip is null)
        {
            return (null, null);
        }

        var mod = GoProxyPaths.VersionFile(module.Path, module.Version, ".mod");
        var modHash = DirHash.HashGoMod(await File.ReadAllBytesAsync(Path.Combine(bundle, mod), cancellationToken).ConfigureAwait(false));
        if (modHash != record.GoModHash)
        {
            return (mod, $"go.mod hash {modHash} differs from the checksum database's {record.GoModHash}");
        }

        if (zip is false)
        {
            return (null, null);
        }

        var zipFile = GoProxyPaths.VersionFile(module.Path, module.Version, ".zip");
        var check = ModuleZip.Check(Path.Combine(bundle, zipFile), module.Path, module.Version, cancellationToken);
        if (!check.IsValid)
        {
            return (zipFile, "not a valid module zip: " + check.Error);
        }

        var zipHash = check.ZipHash ?? DirHash.HashZip(Path.Combine(bundle, zipFile), cancellationToken);
        if (zipHash != record.ZipHash)
        {
            return (zipFile, $"zip hash {zipHash} differs from the checksum database's {record.ZipHash}");
        }

        var info = GoProxyPaths.VersionFile(module.Path, module.Version, ".info");
        try
        {
            using var doc = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(bundle, info), cancellationToken).ConfigureAwait(false));
            return doc.RootElement.TryGetProperty("Version", out var version) && version.GetString() == module.Version
                ? (null, null)
                : (info, $"does not name version {module.Version}");
        }
        catch (JsonException e)
        {
            return (info, "not valid JSON: " + e.Message);
        }
    }

    private async Task StoreVersionsAsync(string stage, BundleManifest manifest, Dictionary<string, BundleFile> listed, CancellationToken cancellationToken)
    {
        var files = new List<(string Key, string StagedFile)>();
        var records = new List<(BundleVersion Version, ArtifactKind Kind, string? Hash, long Size)>();
        foreach (var v in manifest.Versions)
        {
            void Add(ArtifactKind kind, string? hash)
            {
                var relative = GoProxyPaths.VersionFile(v.Path, v.Version, StoreLayout.Extension(kind));
                files.Add((StoreLayout.ArtifactKey(v.Path, v.Version, kind), Path.Combine(stage, relative)));
                records.Add((v, kind, hash, listed[relative].Size));
            }

            Add(ArtifactKind.Mod, v.GoModHash);
            if (!v.Zip)
            {
                continue;
            }

            Add(ArtifactKind.Info, null);
            var zipHash = v.ZipHash ?? DirHash.HashZip(Path.Combine(stage, GoProxyPaths.VersionFile(v.Path, v.Version, ".zip")), cancellationToken);
            var hashFile = Path.Combine(stage, GoProxyPaths.VersionFile(v.Path, v.Version, ".ziphash"));
            await File.WriteAllTextAsync(hashFile, zipHash, cancellationToken).ConfigureAwait(false);
            files.Add((StoreLayout.ArtifactKey(v.Path, v.Version, ArtifactKind.ZipHash), hashFile));
            records.Add((v, ArtifactKind.ZipHash, null, zipHash.Length));
            Add(ArtifactKind.Zip, zipHash);
        }

        var created = await options.Store.PutManyIfAbsentAsync(files, cancellationToken).ConfigureAwait(false);
        var source = "bundle:" + manifest.Source;
        var now = (options.Time ?? TimeProvider.System).GetUtcNow();
        var indexed = new List<ArtifactRecord>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var (v, kind, hash, size) = records[i];
            Count(created[i], size);
            if (kind != ArtifactKind.ZipHash)
            {
                indexed.Add(new ArtifactRecord(v.Path, v.Version, kind, hash, size, source, now));
            }
        }

        if (options.Index is { } index)
        {
            await index.RecordArtifactsAsync(indexed, cancellationToken).ConfigureAwait(false);
        }

        for (var i = 0; i < manifest.Versions.Count; i++)
        {
            Step("storing", manifest.Versions.Count);
        }
    }

    /// <summary>Copies a file, creating the target's directory; the SHA-256 (hex) of the bytes copied.</summary>
    private static async Task<string> CopyHashedAsync(string from, string to, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var source = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var target = new FileStream(to, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await using (source.ConfigureAwait(false))
        await using (target.ConfigureAwait(false))
        {
            var buffer = new byte[1 << 16];
            int n;
            while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                await target.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }

            // The disk writes the copy while it is checked: the flush before publishing then has little left to do.
            await target.FlushAsync(cancellationToken).ConfigureAwait(false);
            Writeback.Start(target.SafeFileHandle);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private void Count(bool stored, long bytes)
    {
        if (stored)
        {
            Interlocked.Increment(ref _stored);
            Interlocked.Add(ref _bytes, bytes);
        }
        else
        {
            Interlocked.Increment(ref _present);
        }
    }

    /// <summary>Tiles put-if-absent (their paths name their content); lookups and latest replaced when the bundle's
    /// head is newer than the stored one. All published in one batch, tiles first, then lookups, then latest, so that
    /// every head stored can be proven.</summary>
    private async Task StoreChecksumsAsync(string bundle, BundleSumDb sumDb, Dictionary<string, BundleFile> listed, CancellationToken cancellationToken)
    {
        var prefix = StoreLayout.SumDbPrefix(sumDb.Name);
        var files = listed.Values.Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var latestKey = prefix + SumDbProtocol.LatestPath;
        var batch = new List<(string Key, string StagedFile)>();
        foreach (var file in files.OrderBy(f => f.Path == latestKey ? 2 : f.Path.StartsWith(prefix + "lookup/", StringComparison.Ordinal) ? 1 : 0))
        {
            var sub = file.Path[prefix.Length..];
            if ((sub.StartsWith("lookup/", StringComparison.Ordinal) || sub == SumDbProtocol.LatestPath)
                && await options.Store.GetAsync(file.Path, cancellationToken).ConfigureAwait(false) is { } stored)
            {
                var old = await stored.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false);
                var oldSize = sub == SumDbProtocol.LatestPath ? Warren.Protocol.SumDb.SumDbCaches.TreeSizeOf(old) : BundleChecksums.HeadSizeOf(old);
                if (oldSize >= sumDb.TreeSize)
                {
                    Count(false, 0);
                    continue;
                }

                await options.Store.DeleteAsync(file.Path, cancellationToken).ConfigureAwait(false);
            }

            batch.Add((file.Path, Path.Combine(bundle, file.Path)));
        }

        var created = await options.Store.PutManyIfAbsentAsync(batch, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < batch.Count; i++)
        {
            Count(created[i], listed[batch[i].Key].Size);
        }
    }
}
