using System.Collections.Concurrent;
using System.Text;
using Warren.Core.Modules;

namespace Warren.Fetch.Direct.Repo;

/// <summary>
/// The module view of a git repository: cmd/go/internal/modfetch/coderepo.go (codeRepo) of Go 1.19 with the query rules
/// of modload/query.go for "latest". Versions, .info, .mod and .zip come out as the go command computes them with
/// GOPROXY=direct, so that the h1: sums are the ones a client computes from the origin.
/// </summary>
/// <remarks>
/// An instance memoizes what it reads from git (refs, stats, files), like one run of the go command: use one per request
/// or per short-lived batch; a new instance sees a refreshed repository. All methods are safe to call concurrently.
/// Errors carry the go command's text; content errors (unknown revision, invalid version, go.mod path mismatch, invalid
/// files in the tree) are <see cref="DirectStatus.NotFound"/>, git failures <see cref="DirectStatus.Failed"/> or
/// <see cref="DirectStatus.Timeout"/>.
/// </remarks>
public sealed class CodeRepo
{
    private const long MaxGoMod = ModuleZip.MaxGoMod;
    private const long MaxLicense = ModuleZip.MaxLicense;

    private readonly GitCodeHost _code;
    private readonly string? _initError;
    private readonly ConcurrentDictionary<string, Lazy<Task<List<string>>>> _versions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<RevInfo>>> _stats = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<byte[]>>> _goMods = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private Task<Func<string, bool>>? _retracted;
    private Task<RevInfo>? _latestIgnoringRetractions;

    /// <param name="repo">The repository.</param>
    /// <param name="modulePath">The module path ("github.com/ugorji/go/codec", "gopkg.in/yaml.v3", "github.com/x/y/v2").</param>
    /// <param name="repoRootPath">The import path of the repository root ("github.com/ugorji/go").</param>
    public CodeRepo(IGitRepository repo, string modulePath, string repoRootPath)
    {
        ArgumentNullException.ThrowIfNull(repo);
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(repoRootPath);
        _code = new GitCodeHost(repo);
        ModulePath = modulePath;
        CodeRoot = repoRootPath;

        // newCodeRepo
        if (!HasPathPrefix(modulePath, repoRootPath))
        {
            _initError = $"mismatched repo: found {repoRootPath} for {modulePath}";
            return;
        }

        var (pathPrefix, pathMajor, ok) = Warren.Core.Modules.ModulePath.SplitPathVersion(modulePath);
        if (!ok)
        {
            _initError = "invalid module path " + GoQuoting.Quote(modulePath);
            return;
        }

        if (repoRootPath == modulePath)
        {
            pathPrefix = modulePath;
        }

        string codeDir = "";
        if (repoRootPath != modulePath)
        {
            if (!HasPathPrefix(pathPrefix, repoRootPath))
            {
                _initError = $"repository rooted at {repoRootPath} cannot contain module {modulePath}";
                return;
            }

            codeDir = pathPrefix[repoRootPath.Length..].Trim('/');
        }

        CodeDir = codeDir;
        PathPrefix = pathPrefix;
        PathMajor = pathMajor;
        PseudoMajor = PathMajorPrefix(pathMajor);
    }

    public string ModulePath { get; }

    /// <summary>The import path of the repository root.</summary>
    public string CodeRoot { get; }

    /// <summary>The module's directory in the repository (module path minus root minus major suffix); "" at the root.</summary>
    public string CodeDir { get; } = "";

    /// <summary>The major-version suffix of the module path ("/v2", ".v3", ""), module.SplitPathVersion.</summary>
    public string PathMajor { get; } = "";

    public string PathPrefix { get; } = "";

    /// <summary>The major version pseudo-versions must carry ("v2"), "" for v0/v1.</summary>
    public string PseudoMajor { get; } = "";

    /// <summary>codeRepo.Versions(""): release and pre-release versions from tags, in the go command's order (semver
    /// order, then "+incompatible" versions). Pseudo-versions are never listed.</summary>
    public Task<DirectValue<IReadOnlyList<string>>> ListAsync(CancellationToken cancellationToken)
        => RunAsync<IReadOnlyList<string>>(async () => await VersionsAsync("", cancellationToken).ConfigureAwait(false), cancellationToken);

    /// <summary>
    /// The go command's query "latest" in direct mode (modload.queryProxy): the highest release that is not retracted,
    /// else the highest such pre-release, else the version of the default branch's head (codeRepo.Latest) if it is not
    /// retracted. Retractions are read from the go.mod of the latest version, as modload.CheckRetractions does.
    /// </summary>
    public Task<DirectValue<RevInfo>> LatestAsync(CancellationToken cancellationToken)
        => RunAsync(() => QueryLatestAsync(applyRetractions: true, cancellationToken), cancellationToken);

    /// <summary>codeRepo.Latest: the default branch's head as a module version (its tag, or a pseudo-version), which is
    /// what the go command falls back to when no tag is a version.</summary>
    public Task<DirectValue<RevInfo>> HeadAsync(CancellationToken cancellationToken)
        => RunAsync(() => CodeLatestAsync(cancellationToken), cancellationToken);

    /// <summary>codeRepo.Stat: a canonical version, a tag, a branch, a full or short commit hash, or a pseudo-version,
    /// resolved to the module version the go command would report (pseudo-versions built and checked as Go does).</summary>
    public Task<DirectValue<RevInfo>> StatAsync(string query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return RunAsync(() => StatCachedAsync(query, cancellationToken), cancellationToken);
    }

    /// <summary>The go.mod of a version (Stat'ed first: the version must resolve to itself), or the synthesized
    /// <c>module path</c> line when the version has none.</summary>
    public Task<DirectValue<byte[]>> GoModAsync(string version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        return RunAsync(async () =>
        {
            await CheckExactVersionAsync(version, cancellationToken).ConfigureAwait(false);
            return await GoModCachedAsync(version, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Writes the module zip of a version (Stat'ed first: the version must resolve to itself) to destinationFile,
    /// as codeRepo.Zip and golang.org/x/mod/zip.Create make it. Returns the result; on failure the file is deleted.</summary>
    public async Task<DirectResult> ZipAsync(string version, string destinationFile, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(destinationFile);
        var result = await RunAsync<string>(async () =>
        {
            await CheckExactVersionAsync(version, cancellationToken).ConfigureAwait(false);
            await ZipCoreAsync(version, destinationFile, cancellationToken).ConfigureAwait(false);
            return destinationFile;
        }, cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
        {
            TryDelete(destinationFile);
        }

        return result.Result;
    }

    /// <summary>The .info JSON of a version or query (<c>{"Version":"…","Time":"…"}</c>).</summary>
    public async Task<DirectValue<string>> InfoJsonAsync(string query, CancellationToken cancellationToken)
    {
        var stat = await StatAsync(query, cancellationToken).ConfigureAwait(false);
        return stat.Ok ? new DirectValue<string>(DirectResult.Success, stat.Value!.ToInfoJson()) : new DirectValue<string>(stat.Result, null);
    }

    // ---------------------------------------------------------------- plumbing

    private async Task<DirectValue<T>> RunAsync<T>(Func<Task<T>> action, CancellationToken cancellationToken)
        where T : class
    {
        if (_initError is not null)
        {
            return new DirectValue<T>(DirectResult.NotFound(_initError), null);
        }

        try
        {
            return new DirectValue<T>(DirectResult.Success, await action().ConfigureAwait(false));
        }
        catch (RepoException e)
        {
            return new DirectValue<T>(new DirectResult(e.Status == DirectStatus.Ok ? DirectStatus.NotFound : e.Status, OneLine(e.Message)), null);
        }
        catch (GitCommandException e)
        {
            return new DirectValue<T>(e.TimedOut ? DirectResult.TimedOut(OneLine(e.Message)) : DirectResult.Failed(OneLine(e.Message)), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DirectValue<T>(DirectResult.TimedOut("operation timed out"), null);
        }
        catch (IOException e)
        {
            return new DirectValue<T>(DirectResult.Failed(OneLine(e.Message)), null);
        }
        catch (UnauthorizedAccessException e)
        {
            return new DirectValue<T>(DirectResult.Failed(OneLine(e.Message)), null);
        }
    }

    /// <summary>Messages are one line for clients; Go's multi-line zip errors are joined with "; ".</summary>
    private static string OneLine(string message) => message.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "; ", StringComparison.Ordinal);

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private RepoException ModuleError(string version, string err, bool pseudo = false)
        => new(DirectStatus.NotFound, $"{ModulePath}@{version}: invalid {(pseudo ? "pseudo-version" : "version")}: {err}");

    private async Task CheckExactVersionAsync(string version, CancellationToken cancellationToken)
    {
        string canonical = SemVer.Canonical(version);
        if (version != canonical)
        {
            throw new RepoException(DirectStatus.NotFound, $"version {version} is not canonical");
        }

        if (ModuleVersion.Check(ModulePath, version) is { } error)
        {
            throw new RepoException(DirectStatus.NotFound, error);
        }

        var info = await StatCachedAsync(version, cancellationToken).ConfigureAwait(false);
        if (info.Version != version)
        {
            throw ModuleError(version, $"resolves to version {info.Version}");
        }
    }

    // ---------------------------------------------------------------- Versions

    private Task<List<string>> VersionsAsync(string prefix, CancellationToken cancellationToken)
        => _versions.GetOrAdd(prefix, p => new Lazy<Task<List<string>>>(() => VersionsCoreAsync(p, cancellationToken))).Value;

    private async Task<List<string>> VersionsCoreAsync(string prefix, CancellationToken cancellationToken)
    {
        // Special case: gopkg.in/macaroon-bakery.v2-unstable does not use the v2 tags (those are for macaroon-bakery.v2).
        if (ModulePath.StartsWith("gopkg.in/", StringComparison.Ordinal) && ModulePath.EndsWith("-unstable", StringComparison.Ordinal))
        {
            return [];
        }

        string p = prefix;
        if (CodeDir.Length != 0)
        {
            p = CodeDir + "/" + p;
        }

        var tags = await _code.TagsAsync(p, cancellationToken).ConfigureAwait(false);
        var list = new List<string>();
        var incompatible = new List<string>();
        foreach (var (name, _) in tags)
        {
            if (!name.StartsWith(p, StringComparison.Ordinal))
            {
                continue;
            }

            string v = name;
            if (CodeDir.Length != 0)
            {
                v = v[(CodeDir.Length + 1)..];
            }

            // Ignore non-canonical tags (semver.Canonical, not module.CanonicalVersion: "v2.0.0+incompatible" is not a tag
            // name that resolves) and tags that look like pseudo-versions.
            if (v.Length == 0 || v != SemVer.CanonicalWithoutBuild(v))
            {
                continue;
            }

            if (PseudoVersion.IsPseudoVersion(v))
            {
                continue;
            }

            if (Warren.Core.Modules.ModulePath.CheckPathMajor(v, PathMajor) is not null)
            {
                if (CodeDir.Length == 0 && PathMajor.Length == 0 && string.CompareOrdinal(SemVer.Major(v), "v1") > 0)
                {
                    incompatible.Add(v);
                }

                continue;
            }

            list.Add(v);
        }

        SemVer.Sort(list);
        SemVer.Sort(incompatible);
        return await AppendIncompatibleVersionsAsync(list, incompatible, cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<string>> AppendIncompatibleVersionsAsync(List<string> list, List<string> incompatible, CancellationToken cancellationToken)
    {
        if (incompatible.Count == 0 || PathMajor.Length != 0)
        {
            return list;
        }

        async Task<bool> VersionHasGoMod(string v)
            => await _code.ReadFileAsync(v, "go.mod", MaxGoMod, cancellationToken).ConfigureAwait(false) is not null;

        if (list.Count > 0 && await VersionHasGoMod(list[^1]).ConfigureAwait(false))
        {
            // The latest compatible version has a go.mod file: no +incompatible versions (golang.org/issue/34189).
            return list;
        }

        string lastMajor = "";
        bool lastMajorHasGoMod = false;
        for (int i = 0; i < incompatible.Count; i++)
        {
            string v = incompatible[i];
            string major = SemVer.Major(v);
            if (major != lastMajor)
            {
                int j = i;
                while (j < incompatible.Count && SemVer.Major(incompatible[j]) == major)
                {
                    j++;
                }

                string latestAtMajor = incompatible[j - 1];
                lastMajor = major;
                lastMajorHasGoMod = await VersionHasGoMod(latestAtMajor).ConfigureAwait(false);
            }

            if (lastMajorHasGoMod)
            {
                continue;
            }

            list.Add(v + "+incompatible");
        }

        return list;
    }

    // ---------------------------------------------------------------- Stat / Latest / convert

    private Task<RevInfo> StatCachedAsync(string rev, CancellationToken cancellationToken)
        => _stats.GetOrAdd(rev, r => new Lazy<Task<RevInfo>>(() => StatCoreAsync(r, cancellationToken))).Value;

    private async Task<RevInfo> StatCoreAsync(string rev, CancellationToken cancellationToken)
    {
        if (rev == "latest")
        {
            return await CodeLatestAsync(cancellationToken).ConfigureAwait(false);
        }

        string codeRev = RevToRev(rev);
        CodeRevInfo info;
        try
        {
            info = await _code.StatAsync(codeRev, cancellationToken).ConfigureAwait(false);
        }
        catch (RepoException e)
        {
            throw new RepoException(e.Status, $"{ModulePath}@{rev}: invalid version: {e.Message}", e.IsNotExist);
        }

        return await ConvertAsync(info, rev, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RevInfo> CodeLatestAsync(CancellationToken cancellationToken)
    {
        var info = await _code.LatestAsync(cancellationToken).ConfigureAwait(false);
        return await ConvertAsync(info, "", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>codeRepo.convert: the module version of a revision. statVers is what the caller asked for ("" for Latest).</summary>
    private async Task<RevInfo> ConvertAsync(CodeRevInfo info, string statVers, CancellationToken cancellationToken)
    {
        var incompatibleOk = new Dictionary<string, bool>(StringComparer.Ordinal);

        async Task<bool> CanUseIncompatible(string v)
        {
            if (CodeDir.Length != 0 || PathMajor.Length != 0)
            {
                return false;
            }

            if (!incompatibleOk.TryGetValue("", out bool ok))
            {
                ok = await _code.ReadFileAsync(info.Name, "go.mod", MaxGoMod, cancellationToken).ConfigureAwait(false) is null;
                incompatibleOk[""] = ok;
            }

            if (!ok)
            {
                // A go.mod file exists at the repo root.
                return false;
            }

            // go.dev/issue/51324: if vN/go.mod exists, release tags for that major version are meant for the vN module
            // (unless +incompatible was asked for explicitly).
            if (v.Length != 0 && !statVers.EndsWith("+incompatible", StringComparison.Ordinal))
            {
                string major = SemVer.Major(v);
                if (!incompatibleOk.TryGetValue(major, out ok))
                {
                    ok = await _code.ReadFileAsync(info.Name, PathJoin(major, "go.mod"), MaxGoMod, cancellationToken).ConfigureAwait(false) is null;
                    incompatibleOk[major] = ok;
                }

                if (!ok)
                {
                    return false;
                }
            }

            return true;
        }

        async Task<RevInfo> CheckCanonical(string v)
        {
            try
            {
                await FindDirAsync(v, cancellationToken).ConfigureAwait(false);
            }
            catch (RepoException e) when (e.Status == DirectStatus.NotFound)
            {
                throw ModuleError(v, e.Message);
            }

            if (v == TrimSuffix(statVers, "+incompatible"))
            {
                v = statVers;
            }

            string vBase = TrimSuffix(v, "+incompatible");
            RepoException? errIncompatible = null;
            if (!Warren.Core.Modules.ModulePath.MatchPathMajor(vBase, PathMajor))
            {
                if (await CanUseIncompatible(vBase).ConfigureAwait(false))
                {
                    v = vBase + "+incompatible";
                }
                else if (PathMajor.Length != 0)
                {
                    errIncompatible = ModuleError(v, "module path includes a major version suffix, so major version must match");
                }
                else
                {
                    errIncompatible = ModuleError(v, $"module contains a go.mod file, so module path must match major version ({GoQuoting.Quote(PathJoin(PathPrefix, SemVer.Major(v)))})");
                }
            }
            else if (v.EndsWith("+incompatible", StringComparison.Ordinal))
            {
                errIncompatible = ModuleError(v, $"+incompatible suffix not allowed: major version {SemVer.Major(v)} is compatible");
            }

            if (statVers.Length != 0 && statVers == SemVer.Canonical(statVers))
            {
                // The caller asked for a canonical version: resolving it to anything but itself (maybe +incompatible) would be confusing.
                string statBase = TrimSuffix(statVers, "+incompatible");
                if (statBase != vBase)
                {
                    throw ModuleError(statVers, $"resolves to version {v} ({statBase} is not a tag)");
                }
            }

            if (errIncompatible is not null)
            {
                throw errIncompatible;
            }

            return new RevInfo(v, info.Time) { Name = info.Name, Short = info.Short };
        }

        // Determine the version.
        if (PseudoVersion.IsPseudoVersion(statVers))
        {
            await ValidatePseudoVersionAsync(info, statVers, cancellationToken).ConfigureAwait(false);
            return await CheckCanonical(statVers).ConfigureAwait(false);
        }

        // statVers is not a pseudo-version: resolve it to a canonical version, or check that it is a canonical tag.
        string tagPrefix = CodeDir.Length != 0 ? CodeDir + "/" : "";

        Func<string, bool> isRetracted;
        try
        {
            isRetracted = await RetractedVersionsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RepoException)
        {
            isRetracted = _ => false;
        }

        (string V, bool Canonical) TagToVersion(string tag)
        {
            if (!tag.StartsWith(tagPrefix, StringComparison.Ordinal))
            {
                return ("", false);
            }

            string trimmed = tag[tagPrefix.Length..];

            // Tags that look like pseudo-versions would be confusing (Go checks the whole tag, prefix included).
            if (PseudoVersion.IsPseudoVersion(tag))
            {
                return ("", false);
            }

            string v = SemVer.CanonicalWithoutBuild(trimmed);
            if (v.Length == 0 || !trimmed.StartsWith(v, StringComparison.Ordinal))
            {
                return ("", false); // invalid or incomplete (vX, vX.Y)
            }

            return (v, v == trimmed);
        }

        var fromVcs = TagToVersion(info.Version);
        if (fromVcs.Canonical)
        {
            try
            {
                return await CheckCanonical(fromVcs.V).ConfigureAwait(false);
            }
            catch (RepoException e) when (e.Status == DirectStatus.NotFound)
            {
                // Fall through to the tags of the revision.
            }
        }

        string highestCanonical = "";
        string pseudoBase = "";
        foreach (var pathTag in info.Tags)
        {
            var (v, tagIsCanonical) = TagToVersion(pathTag);
            if (statVers.Length != 0 && SemVer.Compare(v, statVers) == 0)
            {
                if (tagIsCanonical)
                {
                    // The canonical form of the requested version: use it (checkCanonical errors out if not allowed).
                    return await CheckCanonical(v).ConfigureAwait(false);
                }

                // Equivalent to the request but not canonical: usable only as the base of a pseudo-version.
                pseudoBase = v;
            }

            if (tagIsCanonical && SemVer.Compare(highestCanonical, v) < 0 && !isRetracted(v))
            {
                if (Warren.Core.Modules.ModulePath.MatchPathMajor(v, PathMajor) || await CanUseIncompatible(v).ConfigureAwait(false))
                {
                    highestCanonical = v;
                }
            }
        }

        if (highestCanonical.Length != 0)
        {
            return await CheckCanonical(highestCanonical).ConfigureAwait(false);
        }

        // The highest allowed tag in the revision's history is the base of the pseudo-version.
        async Task<bool> TagAllowed(string tag)
        {
            var (v, _) = TagToVersion(tag);
            if (v.Length == 0)
            {
                return false;
            }

            if (!Warren.Core.Modules.ModulePath.MatchPathMajor(v, PathMajor) && !await CanUseIncompatible(v).ConfigureAwait(false))
            {
                return false;
            }

            return !isRetracted(v);
        }

        if (pseudoBase.Length == 0)
        {
            string tag;
            try
            {
                tag = await _code.RecentTagAsync(info.Name, tagPrefix, TagAllowed, cancellationToken).ConfigureAwait(false);
            }
            catch (RepoException)
            {
                tag = "";
            }

            if (tag.Length != 0)
            {
                pseudoBase = TagToVersion(tag).V;
            }
        }

        return await CheckCanonical(PseudoVersion.Build(PseudoMajor, pseudoBase, info.Time, info.Short)).ConfigureAwait(false);
    }

    /// <summary>codeRepo.validatePseudoVersion: the pseudo-version's revision, time and base tag must agree with the commit.</summary>
    private async Task ValidatePseudoVersionAsync(CodeRevInfo info, string version, CancellationToken cancellationToken)
    {
        RepoException Invalid(string err) => ModuleError(version, err, pseudo: true);

        string rev = PseudoVersion.Rev(version) ?? throw Invalid("syntax error");
        if (rev != info.Short)
        {
            if (rev.StartsWith(info.Short, StringComparison.Ordinal))
            {
                throw Invalid($"revision is longer than canonical (expected {info.Short})");
            }

            if (info.Short.StartsWith(rev, StringComparison.Ordinal))
            {
                throw Invalid($"revision is shorter than canonical (expected {info.Short})");
            }

            throw Invalid($"does not match short name of revision (expected {info.Short})");
        }

        if (PseudoVersion.Check(version) is { Kind: PseudoVersionErrorKind.MalformedTime } checkError)
        {
            throw Invalid(checkError.Message);
        }

        var t = PseudoVersion.Time(version);
        if (t is null || t.Value.UtcDateTime != info.Time.UtcDateTime)
        {
            throw Invalid($"does not match version-control timestamp (expected {info.Time.UtcDateTime.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture)})");
        }

        string tagPrefix = CodeDir.Length != 0 ? CodeDir + "/" : "";

        // The base must be a tag on an ancestor of the revision (and not the revision's own canonical tag).
        if (!PseudoVersion.TryGetBase(TrimSuffix(version, "+incompatible"), out string vBase, out string? baseError))
        {
            throw Invalid(baseError ?? "syntax error");
        }

        if (vBase.Length == 0)
        {
            if (PseudoMajor.Length == 0 && SemVer.Major(version) == "v1")
            {
                throw Invalid("major version without preceding tag must be v0, not v1");
            }

            return;
        }

        foreach (var tag in info.Tags)
        {
            string versionOnly = TrimPrefix(tag, tagPrefix);
            if (versionOnly == vBase)
            {
                throw Invalid($"tag ({tag}) found on revision {rev} is already canonical, so should not be replaced with a pseudo-version derived from that tag");
            }
        }

        var tags = await _code.TagsAsync(tagPrefix + vBase, cancellationToken).ConfigureAwait(false);
        string lastTag = "";
        bool ancestorFound = false;
        foreach (var (name, _) in tags)
        {
            string versionOnly = TrimPrefix(name, tagPrefix);
            if (SemVer.Compare(versionOnly, vBase) == 0)
            {
                lastTag = name;
                ancestorFound = await _code.DescendsFromAsync(info.Name, name, cancellationToken).ConfigureAwait(false);
                if (ancestorFound)
                {
                    break;
                }
            }
        }

        if (lastTag.Length == 0)
        {
            throw Invalid($"preceding tag ({vBase}) not found");
        }

        if (!ancestorFound)
        {
            throw Invalid($"revision {rev} is not a descendent of preceding tag ({lastTag})");
        }
    }

    private string RevToRev(string rev)
    {
        if (SemVer.IsValid(rev))
        {
            if (PseudoVersion.IsPseudoVersion(rev))
            {
                return PseudoVersion.Rev(rev)!;
            }

            if (SemVer.Build(rev) == "+incompatible")
            {
                rev = rev[..^"+incompatible".Length];
            }

            return CodeDir.Length == 0 ? rev : CodeDir + "/" + rev;
        }

        return rev;
    }

    // ---------------------------------------------------------------- findDir / GoMod

    /// <summary>codeRepo.findDir: the revision, the module's directory in the repository, and its go.mod (null when it has none).</summary>
    private async Task<(string Rev, string Dir, byte[]? GoMod)> FindDirAsync(string version, CancellationToken cancellationToken)
    {
        if (!SemVer.IsValid(version))
        {
            throw ModuleError(version, "syntax error");
        }

        string rev = RevToRev(version);

        string file1 = PathJoin(CodeDir, "go.mod");
        byte[]? gomod1 = await ReadForFindDirAsync(rev, file1, cancellationToken).ConfigureAwait(false);
        string mpath1 = gomod1 is null ? "" : Warren.Core.Modules.GoModFile.ModulePath(gomod1) ?? "";
        bool found1 = gomod1 is not null && (IsMajor(mpath1, PathMajor) || CanReplaceMismatchedVersionDueToBug(mpath1));

        string file2 = "";
        if (PathMajor.Length != 0 && CodeRoot != ModulePath && !PathMajor.StartsWith('.'))
        {
            // Either go.mod claims vN and vN/go.mod does not exist, or vN/go.mod exists and claims vN. Not both.
            string dir2 = PathJoin(CodeDir, PathMajor[1..]);
            file2 = PathJoin(dir2, "go.mod");
            byte[]? gomod2 = await ReadForFindDirAsync(rev, file2, cancellationToken).ConfigureAwait(false);
            string mpath2 = gomod2 is null ? "" : Warren.Core.Modules.GoModFile.ModulePath(gomod2) ?? "";
            bool found2 = gomod2 is not null && IsMajor(mpath2, PathMajor);

            if (found1 && found2)
            {
                throw NotFound($"{PathPrefix}/{file1} and ...{PathMajor}/go.mod both have ...{PathMajor} module paths at revision {rev}");
            }

            if (found2)
            {
                return (rev, dir2, gomod2);
            }

            if (gomod2 is not null)
            {
                if (mpath2.Length == 0)
                {
                    throw NotFound($"{CodeRoot}/{file2} is missing module path at revision {rev}");
                }

                throw NotFound($"{CodeRoot}/{file2} has non-...{PathMajor} module path {GoQuoting.Quote(mpath2)} at revision {rev}");
            }
        }

        if (found1)
        {
            return (rev, CodeDir, gomod1);
        }

        if (gomod1 is not null)
        {
            string suffix = file2.Length != 0 ? $" (and ...{PathMajor}/go.mod does not exist)" : "";
            if (mpath1.Length == 0)
            {
                throw NotFound($"{file1} is missing module path{suffix} at revision {rev}");
            }

            if (PathMajor.Length != 0)
            {
                throw NotFound($"{file1} has non-...{PathMajor} module path {GoQuoting.Quote(mpath1)}{suffix} at revision {rev}");
            }

            if (!Warren.Core.Modules.ModulePath.SplitPathVersion(mpath1).Ok)
            {
                throw NotFound($"{file1} has malformed module path {GoQuoting.Quote(mpath1)}{suffix} at revision {rev}");
            }

            throw NotFound($"{file1} has post-{SemVer.Major(version)} module path {GoQuoting.Quote(mpath1)}{suffix} at revision {rev}");
        }

        if (CodeDir.Length == 0 && (PathMajor.Length == 0 || PathMajor.StartsWith('.')))
        {
            // Implicit go.mod at the root of the repository: fine for v0/v1 and for gopkg.in.
            return (rev, "", null);
        }

        if (file2.Length != 0)
        {
            throw NotFound($"missing {PathPrefix}/go.mod and ...{PathMajor}/go.mod at revision {rev}");
        }

        throw NotFound($"missing {PathPrefix}/go.mod at revision {rev}");
    }

    private static RepoException NotFound(string message) => new(DirectStatus.NotFound, message, isNotExist: true);

    private async Task<byte[]?> ReadForFindDirAsync(string rev, string file, CancellationToken cancellationToken)
    {
        try
        {
            return await _code.ReadFileAsync(rev, file, MaxGoMod, cancellationToken).ConfigureAwait(false);
        }
        catch (RepoException e)
        {
            // Not os.IsNotExist (an unknown revision included): reported as a read error.
            throw new RepoException(e.Status, $"reading {CodeRoot}/{file} at revision {rev}: {e.Message}");
        }
    }

    private static bool IsMajor(string mpath, string pathMajor)
    {
        if (mpath.Length == 0)
        {
            return false;
        }

        var (_, mpathMajor, ok) = Warren.Core.Modules.ModulePath.SplitPathVersion(mpath);
        if (!ok)
        {
            return false;
        }

        if (pathMajor.Length == 0)
        {
            return PathMajorPrefix(mpathMajor) is "" or "v0" or "v1";
        }

        if (mpathMajor.Length == 0)
        {
            return false;
        }

        return pathMajor[1..] == mpathMajor[1..];
    }

    /// <summary>golang.org/issue/34254: unversioned paths were once accepted as replacements for versioned gopkg.in paths.</summary>
    private bool CanReplaceMismatchedVersionDueToBug(string mpath)
        => PathMajor.Length == 0 && mpath.StartsWith("gopkg.in/", StringComparison.Ordinal);

    private Task<byte[]> GoModCachedAsync(string version, CancellationToken cancellationToken)
        => _goMods.GetOrAdd(version, v => new Lazy<Task<byte[]>>(() => GoModCoreAsync(v, cancellationToken))).Value;

    /// <summary>codeRepo.GoMod.</summary>
    private async Task<byte[]> GoModCoreAsync(string version, CancellationToken cancellationToken)
    {
        if (version != SemVer.Canonical(version))
        {
            throw new RepoException(DirectStatus.NotFound, $"version {version} is not canonical");
        }

        if (PseudoVersion.IsPseudoVersion(version))
        {
            // findDir only uses the revision of a pseudo-version: check the rest through Stat.
            await StatCachedAsync(version, cancellationToken).ConfigureAwait(false);
        }

        var (rev, dir, gomod) = await FindDirAsync(version, cancellationToken).ConfigureAwait(false);
        if (gomod is not null)
        {
            return gomod;
        }

        var data = await _code.ReadFileAsync(rev, PathJoin(dir, "go.mod"), MaxGoMod, cancellationToken).ConfigureAwait(false);
        return data ?? LegacyGoMod(ModulePath);
    }

    /// <summary>modfetch.LegacyGoMod: the go.mod the go command synthesizes for a module without one (<see cref="GoModFile.Synthesize"/>).</summary>
    public static byte[] LegacyGoMod(string modulePath) => GoModFile.Synthesize(modulePath);

    // ---------------------------------------------------------------- retractions and "latest"

    /// <summary>codeRepo.retractedVersions: the retract directives of the go.mod of the highest release tag (used by
    /// convert to skip retracted tags when choosing a version or a pseudo-version base).</summary>
    private Task<Func<string, bool>> RetractedVersionsAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _retracted ??= RetractedVersionsCoreAsync(cancellationToken);
            return _retracted;
        }
    }

    private async Task<Func<string, bool>> RetractedVersionsCoreAsync(CancellationToken cancellationToken)
    {
        var all = await VersionsAsync("", cancellationToken).ConfigureAwait(false);
        var versions = new List<string>();
        foreach (var v in all)
        {
            if (v.EndsWith("+incompatible", StringComparison.Ordinal))
            {
                break;
            }

            versions.Add(v);
        }

        if (versions.Count == 0)
        {
            return _ => false;
        }

        string highest = "";
        for (int i = versions.Count - 1; i >= 0; i--)
        {
            if (SemVer.Prerelease(versions[i]).Length == 0)
            {
                highest = versions[i];
                break;
            }
        }

        if (highest.Length == 0)
        {
            highest = versions[^1];
        }

        var data = await GoModCachedAsync(highest, cancellationToken).ConfigureAwait(false);
        return RetractionPredicate(data);
    }

    private static Func<string, bool> RetractionPredicate(byte[] goMod)
    {
        GoModFile file;
        try
        {
            file = GoModFile.ParseLax("go.mod", goMod);
        }
        catch (GoModParseException e)
        {
            throw new RepoException(DirectStatus.NotFound, e.Message);
        }

        var retractions = file.Retracts;
        return v =>
        {
            foreach (var r in retractions)
            {
                if (SemVer.Compare(r.Low, v) <= 0 && SemVer.Compare(v, r.High) <= 0)
                {
                    return true;
                }
            }

            return false;
        };
    }

    /// <summary>modload.queryProxy for the query "latest" with this repository as the only source.</summary>
    private async Task<RevInfo> QueryLatestAsync(bool applyRetractions, CancellationToken cancellationToken)
    {
        Func<string, Task<bool>> allowed = _ => Task.FromResult(true);
        if (applyRetractions)
        {
            allowed = async v => !await IsRetractedByLatestAsync(v, cancellationToken).ConfigureAwait(false);
        }

        var versions = await VersionsAsync("", cancellationToken).ConfigureAwait(false);
        var (releases, prereleases) = await FilterVersionsAsync(versions, allowed, cancellationToken).ConfigureAwait(false);
        if (releases.Count > 0)
        {
            return await StatCachedAsync(releases[^1], cancellationToken).ConfigureAwait(false);
        }

        if (prereleases.Count > 0)
        {
            return await StatCachedAsync(prereleases[^1], cancellationToken).ConfigureAwait(false);
        }

        RevInfo latest;
        try
        {
            latest = await StatCachedAsync("latest", cancellationToken).ConfigureAwait(false);
        }
        catch (RepoException e) when (e.IsNotExist)
        {
            throw NoMatchingVersion();
        }

        if (await allowed(latest.Version).ConfigureAwait(false))
        {
            return await StatCachedAsync(latest.Version, cancellationToken).ConfigureAwait(false);
        }

        throw NoMatchingVersion();
    }

    private RepoException NoMatchingVersion() => new(DirectStatus.NotFound, $"module {ModulePath}: no matching versions for query \"latest\"", isNotExist: true);

    /// <summary>modload.queryMatcher.filterVersions: releases and pre-releases that are allowed, without "+incompatible"
    /// versions when the highest allowed compatible version has a go.mod file.</summary>
    private async Task<(List<string> Releases, List<string> Prereleases)> FilterVersionsAsync(List<string> versions, Func<string, Task<bool>> allowed, CancellationToken cancellationToken)
    {
        var releases = new List<string>();
        var prereleases = new List<string>();
        bool needIncompatible = false;
        string lastCompatible = "";
        foreach (var v in versions)
        {
            if (!await allowed(v).ConfigureAwait(false))
            {
                continue;
            }

            if (!needIncompatible)
            {
                if (!v.EndsWith("+incompatible", StringComparison.Ordinal))
                {
                    lastCompatible = v;
                }
                else if (lastCompatible.Length != 0)
                {
                    var data = await GoModCachedAsync(lastCompatible, cancellationToken).ConfigureAwait(false);
                    if (!data.AsSpan().SequenceEqual(LegacyGoMod(ModulePath)))
                    {
                        // The last compatible version has a go.mod file: nothing higher (all +incompatible) is considered.
                        break;
                    }

                    needIncompatible = true;
                }
            }

            if (SemVer.Prerelease(v).Length != 0)
            {
                prereleases.Add(v);
            }
            else
            {
                releases.Add(v);
            }
        }

        return (releases, prereleases);
    }

    /// <summary>modload.CheckRetractions: v is retracted by the go.mod of the module's latest version (ignoring retractions).
    /// Failures to load that go.mod count as "not retracted", as for the go command.</summary>
    private async Task<bool> IsRetractedByLatestAsync(string version, CancellationToken cancellationToken)
    {
        try
        {
            Task<RevInfo> task;
            lock (_lock)
            {
                _latestIgnoringRetractions ??= QueryLatestAsync(applyRetractions: false, cancellationToken);
                task = _latestIgnoringRetractions;
            }

            var latest = await task.ConfigureAwait(false);
            var data = await GoModCachedAsync(latest.Version, cancellationToken).ConfigureAwait(false);
            return RetractionPredicate(data)(version);
        }
        catch (RepoException)
        {
            return false;
        }
    }

    // ---------------------------------------------------------------- Zip

    /// <summary>codeRepo.Zip.</summary>
    private async Task ZipCoreAsync(string version, string destinationFile, CancellationToken cancellationToken)
    {
        if (version != SemVer.Canonical(version))
        {
            throw new RepoException(DirectStatus.NotFound, $"version {version} is not canonical");
        }

        if (PseudoVersion.IsPseudoVersion(version))
        {
            await StatCachedAsync(version, cancellationToken).ConfigureAwait(false);
        }

        var (rev, subdir, _) = await FindDirAsync(version, cancellationToken).ConfigureAwait(false);
        var info = await _code.StatAsync(rev, cancellationToken).ConfigureAwait(false);

        string archive = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(destinationFile)) ?? Path.GetTempPath(), ".git-archive-" + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            try
            {
                await _code.Repository.WriteArchiveAsync(info.Name, subdir, archive, cancellationToken).ConfigureAwait(false);
            }
            catch (FileNotFoundException e)
            {
                throw new RepoException(DirectStatus.NotFound, e.Message, isNotExist: true);
            }

            if (new FileInfo(archive).Length > ModuleZip.MaxZipFile)
            {
                throw new RepoException(DirectStatus.NotFound, "downloaded zip file too large");
            }

            async Task<byte[]?> ReadLicense()
                => await _code.ReadFileAsync(rev, "LICENSE", MaxLicense, cancellationToken).ConfigureAwait(false);

            await ModuleZipBuilder.CreateFromGitArchiveAsync(archive, subdir.Trim('/'), ReadLicense, ModulePath, version, destinationFile, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            TryDelete(archive);
        }
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>module.PathMajorPrefix: "/v2" → "v2", ".v2-unstable" → "v2", "" → "".</summary>
    internal static string PathMajorPrefix(string pathMajor)
    {
        if (pathMajor.Length == 0)
        {
            return "";
        }

        if (pathMajor.StartsWith(".v", StringComparison.Ordinal) && pathMajor.EndsWith("-unstable", StringComparison.Ordinal))
        {
            pathMajor = pathMajor[..^"-unstable".Length];
        }

        return pathMajor[1..];
    }

    /// <summary>hasPathPrefix: s starts with the path elements of prefix.</summary>
    internal static bool HasPathPrefix(string s, string prefix)
    {
        if (s.Length == prefix.Length)
        {
            return s == prefix;
        }

        if (s.Length > prefix.Length)
        {
            if (prefix.Length != 0 && prefix[^1] == '/')
            {
                return s.StartsWith(prefix, StringComparison.Ordinal);
            }

            return s[prefix.Length] == '/' && s.StartsWith(prefix, StringComparison.Ordinal);
        }

        return false;
    }

    /// <summary>path.Join for the relative, clean paths used here.</summary>
    internal static string PathJoin(string a, string b)
    {
        if (a.Length == 0)
        {
            return b;
        }

        if (b.Length == 0)
        {
            return a;
        }

        return ModuleZip.CleanPath(a + "/" + b);
    }

    private static string TrimSuffix(string s, string suffix) => s.EndsWith(suffix, StringComparison.Ordinal) ? s[..^suffix.Length] : s;

    private static string TrimPrefix(string s, string prefix) => s.StartsWith(prefix, StringComparison.Ordinal) ? s[prefix.Length..] : s;
}
