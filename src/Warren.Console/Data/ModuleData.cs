using System.IO.Compression;
using Warren.Core.Modules;
using Warren.Core.Policy;
using Warren.Server.Auth;
using Warren.Server.Configuration;
using Warren.Server.SumDb;
using Warren.Storage;

namespace Warren.WebConsole.Data;

/// <summary>A search's answer: the module paths the viewer may read, in path order, and whether there are more.</summary>
public sealed record SearchResult(string Query, IReadOnlyList<ModuleMatch> Modules, bool More);

/// <summary>Where a version came from and who vouched for it.</summary>
/// <param name="Source">The upstream proxy or origin it was fetched from (as the index recorded it).</param>
/// <param name="StoredAt">When it was first stored.</param>
/// <param name="Database">The checksum database that verified it at ingest, with <paramref name="TreeSize"/>.</param>
/// <param name="HostedLog">The hosted checksum database that logged it, as record <paramref name="HostedRecord"/>.</param>
/// <param name="Note">What is not known, in words (e.g. stored before verifications were recorded).</param>
public sealed record Provenance(string? Source, DateTimeOffset? StoredAt, string? Database, long? TreeSize, DateTimeOffset? VerifiedAt, string? HostedLog, long? HostedRecord, string? Note);

/// <summary>One version of a module page.</summary>
public sealed record VersionSummary(string Version, long? ZipSize, string? ZipHash, string? GoModHash, long Downloads, bool Retracted, string? RetractRationale, Provenance Provenance);

/// <summary>A module page: its versions (newest first) and the deprecation its latest go.mod states.</summary>
public sealed record ModulePage(string ModulePath, IReadOnlyList<VersionSummary> Versions, string? LatestVersion, string? Deprecated, bool Truncated, int DownloadDays);

/// <summary>A file of a version's zip (from the central directory).</summary>
public sealed record ZipFile(string Name, long Size);

/// <summary>A version's zip listing: at most <see cref="ModuleData.MaxFiles"/> names, the total count and bytes.</summary>
public sealed record ZipListing(IReadOnlyList<ZipFile> Files, int Total, long UncompressedBytes, bool Truncated, string? Error);

/// <summary>A version page.</summary>
public sealed record VersionPage(string ModulePath, VersionSummary Version, string? LatestVersion, string? Deprecated, string? GoMod, ZipListing Files);

/// <summary>A lookup that is not a page: bad input, or absent (or not readable by the viewer), with a one-line reason;
/// <see cref="ConsoleApi.StatusCode"/> gives its HTTP status.</summary>
public sealed record LookupFailure(bool BadInput, string Reason);

/// <summary>The modules pages' data, from the index (never a walk of the store), filtered by what the viewer may read;
/// what it may not read does not exist for it (404, not 403).</summary>
public sealed class ModuleData(IModuleIndex index, IArtifactStore store, HostedSumDb hosted, IOptions<WarrenOptions> options, TimeProvider time)
{
    /// <summary>Results of one search page.</summary>
    public const int PageSize = 50;

    /// <summary>Versions shown on a module page (newest first).</summary>
    public const int MaxVersions = 500;

    /// <summary>Files listed of a zip.</summary>
    public const int MaxFiles = 2000;

    /// <summary>Largest go.mod shown.</summary>
    public const int MaxGoModBytes = 256 * 1024;

    /// <summary>Index rows examined by one search at most (the viewer's grants may hide many).</summary>
    private const int MaxScanned = 5000;

    /// <summary>Null when the path is a module path, else why not (a 400).</summary>
    public static LookupFailure? CheckModule(string? modulePath)
    {
        if (string.IsNullOrEmpty(modulePath))
        {
            return new LookupFailure(true, "bad request: no module path");
        }

        var why = modulePath.Length > 500 ? "too long" : ModulePath.CheckPath(modulePath);
        if (why is not null)
        {
            return new LookupFailure(true, "bad request: not a module path: " + ConsoleServiceCollectionExtensions.Printable(why));
        }

        return null;
    }

    public static LookupFailure? CheckVersion(string? version) =>
        string.IsNullOrEmpty(version) || version.Length > 200 || !SemVer.IsValid(version) || SemVer.Canonical(version) != version
            ? new LookupFailure(true, "bad request: not a canonical semantic version" + (string.IsNullOrEmpty(version) ? "" : ": " + ConsoleServiceCollectionExtensions.Printable(version)))
            : null;

    public async Task<(SearchResult? Result, LookupFailure? Failure)> SearchAsync(ConsoleViewer viewer, string? query, string? after, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        query = (query ?? "").Trim();
        if (ModuleSearch.Validate(query) is { } bad || (after is not null && ModuleSearch.Validate(after) is { } badAfter && (bad = badAfter) is not null))
        {
            return (null, new LookupFailure(true, "bad request: " + bad));
        }

        var found = new List<ModuleMatch>(PageSize);
        var cursor = after;
        var scanned = 0;
        var exhausted = false;
        while (found.Count <= PageSize && scanned < MaxScanned)
        {
            var batch = await index.SearchModulesAsync(query, cursor, 200, cancellationToken).ConfigureAwait(false);
            scanned += batch.Count;
            foreach (var m in batch)
            {
                if (viewer.CanRead(m.ModulePath))
                {
                    found.Add(m);
                }
            }

            if (batch.Count < 200)
            {
                exhausted = true;
                break;
            }

            cursor = batch[^1].ModulePath;
        }

        var more = found.Count > PageSize || !exhausted;
        return (new SearchResult(query, found.Take(PageSize).ToList(), more), null);
    }

    public async Task<(ModulePage? Page, LookupFailure? Failure)> ModuleAsync(ConsoleViewer viewer, string? modulePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        if (CheckModule(modulePath) is { } bad)
        {
            return (null, bad);
        }

        var versions = viewer.CanRead(modulePath!) ? await index.ListVersionsAsync(modulePath!, cancellationToken).ConfigureAwait(false) : [];
        if (versions.Count == 0)
        {
            return (null, NotHere(modulePath!));
        }

        var (latest, deprecated, retractions) = await LatestFactsAsync(modulePath!, versions, cancellationToken).ConfigureAwait(false);
        var downloads = await DownloadsAsync(modulePath!, cancellationToken).ConfigureAwait(false);
        var verifications = (await index.ReadVerificationsAsync(modulePath!, cancellationToken).ConfigureAwait(false)).ToDictionary(v => v.Version, StringComparer.Ordinal);
        var shown = versions.Reverse().Take(MaxVersions).ToList();
        var summaries = new List<VersionSummary>(shown.Count);
        foreach (var v in shown)
        {
            summaries.Add(await SummaryAsync(modulePath!, v, retractions, downloads, verifications, cancellationToken).ConfigureAwait(false));
        }

        return (new ModulePage(modulePath!, summaries, latest, deprecated, versions.Count > MaxVersions, (int)options.Value.DownloadRetentionPeriod.TotalDays), null);
    }

    public async Task<(VersionPage? Page, LookupFailure? Failure)> VersionAsync(ConsoleViewer viewer, string? modulePath, string? version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        if ((CheckModule(modulePath) ?? CheckVersion(version)) is { } bad)
        {
            return (null, bad);
        }

        var versions = viewer.CanRead(modulePath!) ? await index.ListVersionsAsync(modulePath!, cancellationToken).ConfigureAwait(false) : [];
        if (!versions.Contains(version!, StringComparer.Ordinal))
        {
            return (null, versions.Count == 0 ? NotHere(modulePath!) : new LookupFailure(false, $"not found: {modulePath}@{version} is not in this Warren"));
        }

        var (latest, deprecated, retractions) = await LatestFactsAsync(modulePath!, versions, cancellationToken).ConfigureAwait(false);
        var downloads = await DownloadsAsync(modulePath!, cancellationToken).ConfigureAwait(false);
        var verifications = (await index.ReadVerificationsAsync(modulePath!, cancellationToken).ConfigureAwait(false)).ToDictionary(v => v.Version, StringComparer.Ordinal);
        var summary = await SummaryAsync(modulePath!, version!, retractions, downloads, verifications, cancellationToken).ConfigureAwait(false);
        var goMod = await ReadGoModAsync(modulePath!, version!, cancellationToken).ConfigureAwait(false);
        var files = await ListZipAsync(modulePath!, version!, cancellationToken).ConfigureAwait(false);
        return (new VersionPage(modulePath!, summary, latest, deprecated, goMod, files), null);
    }

    private static LookupFailure NotHere(string modulePath) => new(false, $"not found: no module {modulePath} in this Warren");

    private async Task<VersionSummary> SummaryAsync(string modulePath, string version, Retractions retractions, IReadOnlyDictionary<string, long> downloads,
        IReadOnlyDictionary<string, VersionVerification> verifications, CancellationToken cancellationToken)
    {
        var zip = await index.GetArtifactAsync(modulePath, version, ArtifactKind.Zip, cancellationToken).ConfigureAwait(false);
        var mod = await index.GetArtifactAsync(modulePath, version, ArtifactKind.Mod, cancellationToken).ConfigureAwait(false);
        var info = zip ?? mod ?? await index.GetArtifactAsync(modulePath, version, ArtifactKind.Info, cancellationToken).ConfigureAwait(false);
        var retract = retractions.Find(version);
        string? hostedLog = null;
        long? record = null;
        if (hosted.IsEnabled && await hosted.Log.LookupAsync(modulePath, version, cancellationToken).ConfigureAwait(false) is { } logged)
        {
            hostedLog = hosted.Name;
            record = logged.RecordId;
        }

        verifications.TryGetValue(version, out var verified);
        string? note = null;
        if (verified is null && record is null)
        {
            note = "no checksum database record: its path is not verified (no-sumdb, policy skip, or --sumdb off), or it was stored before Warren recorded verifications";
        }

        return new VersionSummary(version, zip?.Size, zip?.Hash, mod?.Hash, downloads.GetValueOrDefault(version), retract is not null, retract?.Rationale,
            new Provenance(info?.Source, info?.StoredAt, verified?.Database, verified is { TreeSize: >= 0 } ? verified.TreeSize : null, verified?.VerifiedAt,
                hostedLog, record, note));
    }

    /// <summary>The latest version (the go command's choice for retractions), its deprecation and retractions.</summary>
    private async Task<(string? Latest, string? Deprecated, Retractions Retractions)> LatestFactsAsync(string modulePath, IReadOnlyList<string> versions,
        CancellationToken cancellationToken)
    {
        var latest = versions.LastOrDefault(v => SemVer.Prerelease(v).Length == 0) ?? versions.LastOrDefault();
        if (latest is null || await ReadGoModAsync(modulePath, latest, cancellationToken).ConfigureAwait(false) is not { } text)
        {
            return (latest, null, Retractions.None);
        }

        try
        {
            var file = GoModFile.ParseLax("go.mod", text);
            return (latest, file.ModuleDeprecated, new Retractions(latest, file.Retracts));
        }
        catch (GoModParseException)
        {
            return (latest, null, Retractions.None);
        }
    }

    private async Task<IReadOnlyDictionary<string, long>> DownloadsAsync(string modulePath, CancellationToken cancellationToken)
    {
        var since = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).AddDays(-(int)Math.Min(options.Value.DownloadRetentionPeriod.TotalDays, 3660));
        var rows = await index.ReadDownloadsAsync(since, modulePath, cancellationToken).ConfigureAwait(false);
        return rows.GroupBy(r => r.Version, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(r => r.Downloads), StringComparer.Ordinal);
    }

    private async Task<string?> ReadGoModAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        var stored = await store.GetAsync(StoreLayout.ArtifactKey(modulePath, version, ArtifactKind.Mod), cancellationToken).ConfigureAwait(false);
        if (stored is null || stored.Length > MaxGoModBytes)
        {
            return stored is null ? null : $"// go.mod too large to show ({stored.Length} bytes)";
        }

        var bytes = await stored.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false);
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    /// <summary>The zip's file names and sizes from its central directory: the archive is opened for reading (a seekable
    /// stream reads the directory at its end only), never extracted.</summary>
    private async Task<ZipListing> ListZipAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        var stored = await store.GetAsync(StoreLayout.ArtifactKey(modulePath, version, ArtifactKind.Zip), cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return new ZipListing([], 0, 0, false, "the zip is not in the store (evicted, or never downloaded): it is fetched again when asked for");
        }

        try
        {
            // A local file is read in place; object storage in ranges (the directory is at the end of the zip).
            Stream stream = stored.LocalPath is { } file
                ? new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.Asynchronous)
                : new RangeReadStream(stored, cancellationToken);
            await using (stream.ConfigureAwait(false))
            {
                var archive = await ZipArchive.CreateAsync(stream, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: null, cancellationToken).ConfigureAwait(false);
                await using (archive.ConfigureAwait(false))
                {
                    var files = new List<ZipFile>(Math.Min(archive.Entries.Count, MaxFiles));
                    long total = 0;
                    var prefix = modulePath + "@" + version + "/";
                    foreach (var entry in archive.Entries)
                    {
                        total += entry.Length;
                        if (files.Count < MaxFiles)
                        {
                            var name = entry.FullName;
                            files.Add(new ZipFile(name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name, entry.Length));
                        }
                    }

                    files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                    return new ZipListing(files, archive.Entries.Count, total, archive.Entries.Count > MaxFiles, null);
                }
            }
        }
        catch (FileNotFoundException)
        {
            return new ZipListing([], 0, 0, false, "the zip is not in the store (evicted, or never downloaded): it is fetched again when asked for");
        }
        catch (InvalidDataException e)
        {
            return new ZipListing([], 0, 0, false, "the zip's central directory cannot be read: " + e.Message.Split('\n')[0]);
        }
    }
}
