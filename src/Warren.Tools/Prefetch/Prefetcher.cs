using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Warren.Core.Modules;
using Warren.Protocol.ModCache;
using Warren.Tools.Reporting;

namespace Warren.Tools.Prefetch;

/// <summary>What to prefetch, from where, and to where.</summary>
/// <param name="Inputs">go.mod files, go.sum files, or directories holding a go.mod.</param>
/// <param name="Proxy">The GOPROXY URL everything is fetched through (the proxy to warm, or the source of a module cache).</param>
/// <param name="ModCache">When set, the files are written to this module cache (GOMODCACHE) instead of being discarded.</param>
/// <param name="Jobs">Concurrent requests.</param>
public sealed record PrefetchOptions(IReadOnlyList<string> Inputs, string Proxy, string? ModCache = null, int Jobs = 8)
{
    /// <summary>ModCache is a directory in the GOPROXY layout itself (files land in it, not in its cache/download).</summary>
    public bool ProxyLayout { get; init; }

    /// <summary>Module versions (zip: with their .info and .zip, else the .mod only) that are planned but not fetched
    /// because they are already had elsewhere (an earlier bundle).</summary>
    public Func<ModuleKey, bool, bool>? AlreadyHad { get; init; }
}

/// <summary>What a prefetch did.</summary>
/// <param name="Report">One finding per failure or warning, and a summary.</param>
/// <param name="Modules">Module versions whose files were all fetched.</param>
/// <param name="Zips">Zips fetched (or found complete in the module cache).</param>
/// <param name="GoMods">go.mod files fetched.</param>
/// <param name="Bytes">Bytes received.</param>
/// <param name="Failures">Module versions that failed.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="BuildLists">The build list computed for each go.mod input, by the input's path.</param>
public sealed record PrefetchResult(Report Report, int Modules, int Zips, int GoMods, long Bytes, int Failures, TimeSpan Elapsed,
    IReadOnlyDictionary<string, BuildList> BuildLists)
{
    /// <summary>Every module version planned, with whether its zip was wanted (the .mod only otherwise), including
    /// those skipped by <see cref="PrefetchOptions.AlreadyHad"/>.</summary>
    public IReadOnlyList<(ModuleKey Key, bool Zip)> Planned { get; init; } = [];
}

/// <summary>Fetches the full build list of go.mod and go.sum inputs through a proxy: to warm it (a caching proxy such as
/// Warren ingests what is asked of it), or to fill a module cache in the go command's layout.</summary>
/// <remarks>
/// A go.sum contributes each "path version" line (.info, .mod and .zip) and each "path version/go.mod" line (.mod). A
/// go.mod contributes its build list, computed by <see cref="BuildListResolver"/>: every go.mod visited, and .info,
/// .mod and .zip of each selected module. Bodies are streamed; zips never sit in memory. Written to a module cache,
/// each file lands in GOMODCACHE/cache/download/ESCAPED-PATH/@v/ under a temporary name and is renamed into place; each
/// zip is checked as the go command checks it and its h1 hash (the .ziphash) compared with the go.sum lines known for it.
/// </remarks>
public sealed class Prefetcher
{
    private readonly PrefetchOptions _options;
    private readonly ConcurrentQueue<Finding> _findings = new();
    private long _bytes;
    private int _zips;
    private int _goMods;
    private int _modules;
    private int _failures;

    public Prefetcher(PrefetchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Called with the number of go.mod files fetched while computing build lists.</summary>
    public Action<int>? OnResolveProgress { get; set; }

    /// <summary>Called with (module versions done, module versions planned) while fetching.</summary>
    public Action<int, int>? OnFetchProgress { get; set; }

    /// <summary>Called with (full path, SHA-256 in lower-case hex, size) of each file of a target version written to the
    /// module cache (.mod, .info, .zip, .ziphash), hashed as it was written: a caller that lists the files with their
    /// hashes need not read them again. Files already in place, and the .mod files of the requirement graph written
    /// while resolving, are not reported.</summary>
    public Action<string, string, long>? OnFileWritten { get; set; }

    /// <summary>Plans and fetches everything the inputs name; failures become findings, never exceptions (but
    /// cancellation). Call once per instance.</summary>
    public async Task<PrefetchResult> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var proxy = new ModuleProxyClient(_options.Proxy);
        var targets = new Dictionary<ModuleKey, Target>();
        var zipHashes = new Dictionary<ModuleKey, string>();
        var modHashes = new Dictionary<ModuleKey, string>();
        var buildLists = new Dictionary<string, BuildList>(StringComparer.Ordinal);
        var goModCache = new ConcurrentDictionary<ModuleKey, byte[]>();

        Target TargetFor(ModuleKey key) => targets.TryGetValue(key, out var t) ? t : targets[key] = new Target(key);

        void AddSums(string goSum)
        {
            var (zip, mod) = GoSumFile.Hashes(GoSumFile.Parse(File.ReadAllText(goSum)));
            foreach (var (k, v) in zip)
            {
                zipHashes[k] = v;
            }

            foreach (var (k, v) in mod)
            {
                modHashes[k] = v;
            }
        }

        foreach (var input in _options.Inputs)
        {
            var (goMod, goSum) = Classify(input);
            if (goMod is null && goSum is null)
            {
                Fail("prefetch.input", $"{input}: not a go.mod, a go.sum or a directory with a go.mod", "name a go.mod, a go.sum or a module's directory", input);
                continue;
            }

            if (goSum is not null && File.Exists(goSum))
            {
                AddSums(goSum);
            }

            if (goMod is null)
            {
                foreach (var line in GoSumFile.Parse(await File.ReadAllTextAsync(goSum!, cancellationToken).ConfigureAwait(false)))
                {
                    var t = TargetFor(new ModuleKey(line.Path, line.Version));
                    t.Zip |= !line.GoModOnly;
                }

                continue;
            }

            goMod = Path.GetFullPath(goMod);
            if (buildLists.ContainsKey(goMod))
            {
                continue;
            }

            BuildList list;
            try
            {
                var resolver = new BuildListResolver(proxy, _options.Jobs) { GoModCache = goModCache, OnGoModFetched = OnResolveProgress };
                list = await resolver.ResolveAsync(goMod, cancellationToken).ConfigureAwait(false);
            }
            catch (GoModParseException e)
            {
                Fail("prefetch.input", e.Message.Split('\n')[0], "fix the go.mod (go mod edit, go mod tidy)", goMod);
                continue;
            }

            buildLists[goMod] = list;
            foreach (var f in list.Findings)
            {
                Record(f);
            }

            foreach (var (key, data) in list.GoMods)
            {
                var target = TargetFor(key);
                if (target.GoMod is null)
                {
                    target.GoMod = data;
                    Interlocked.Add(ref _bytes, data.Length);
                    Interlocked.Increment(ref _goMods);
                }
            }

            // A version whose go.mod could not be had is reported once, by the resolver.
            var failed = list.Findings.Where(f => f.Verdict == Verdict.Fail).Select(f => f.Subject).ToHashSet(StringComparer.Ordinal);
            foreach (var module in list.Selected)
            {
                if (list.Actual(module) is { } actual && !failed.Contains(actual.ToString()))
                {
                    TargetFor(actual).Zip = true;
                }
            }
        }

        var all = targets.Values.Select(t => (t.Key, t.Zip)).OrderBy(t => t.Key.ToString(), StringComparer.Ordinal).ToList();
        var planned = targets.Values.Where(t => _options.AlreadyHad?.Invoke(t.Key, t.Zip) != true).ToList();
        var done = 0;
        OnFetchProgress?.Invoke(0, planned.Count);
        await Parallel.ForEachAsync(planned, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Jobs), CancellationToken = cancellationToken },
            async (target, ct) =>
            {
                try
                {
                    await FetchAsync(proxy, target, zipHashes.GetValueOrDefault(target.Key), modHashes.GetValueOrDefault(target.Key), ct).ConfigureAwait(false);
                    Interlocked.Increment(ref _modules);
                }
                catch (ProxyFetchException e)
                {
                    Fail("prefetch.fetch", e.Message, "check that the proxy serves this version (GOPROXY, credentials, or remove it from go.mod/go.sum)", target.Key.ToString());
                }
                catch (ChecksumMismatchException e)
                {
                    Fail("prefetch.checksum", e.Message, "the proxy serves different content than go.sum records: do not trust it; check go.sum and the proxy", target.Key.ToString());
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Fail("prefetch.write", e.Message, "check that the module cache directory is writable and has space", target.Key.ToString());
                }

                OnFetchProgress?.Invoke(Interlocked.Increment(ref done), planned.Count);
            }).ConfigureAwait(false);

        clock.Stop();
        var where = _options.ModCache is null ? "through " + _options.Proxy : "into " + _options.ModCache;
        var summary = new Finding("prefetch.summary", _failures == 0 ? Verdict.Pass : Verdict.Fail,
            string.Create(CultureInfo.InvariantCulture,
                $"{_modules} of {planned.Count} module versions fetched {where} ({_zips} zips, {_goMods} go.mod files), {_bytes} bytes, {_failures} failures, {clock.Elapsed.TotalSeconds:0.0}s"),
            _failures == 0 ? null : "see the failures above");
        var findings = _findings.OrderBy(f => f.Verdict).ThenBy(f => f.Subject, StringComparer.Ordinal).Append(summary).ToList();
        return new PrefetchResult(new Report("prefetch", findings), _modules, _zips, _goMods, _bytes, _failures, clock.Elapsed, buildLists) { Planned = all };
    }

    private static (string? GoMod, string? GoSum) Classify(string input)
    {
        if (Directory.Exists(input))
        {
            var goMod = Path.Combine(input, "go.mod");
            return File.Exists(goMod) ? (goMod, Path.Combine(input, "go.sum")) : (null, null);
        }

        if (!File.Exists(input))
        {
            return (null, null);
        }

        var name = Path.GetFileName(input);
        var sibling = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(input))!, "go.sum");
        return name.EndsWith(".sum", StringComparison.Ordinal) ? (null, input)
            : name.EndsWith(".mod", StringComparison.Ordinal) ? (input, sibling)
            : (null, null);
    }

    private void Record(Finding finding)
    {
        _findings.Enqueue(finding);
        if (finding.Verdict == Verdict.Fail)
        {
            Interlocked.Increment(ref _failures);
        }
    }

    private void Fail(string check, string evidence, string fix, string subject) =>
        Record(new Finding(check, Verdict.Fail, evidence, fix, subject));

    private async Task FetchAsync(ModuleProxyClient proxy, Target target, string? zipHash, string? modHash, CancellationToken cancellationToken)
    {
        if (_options.ModCache is null)
        {
            // Warming: ask for every file and throw the bodies away; the proxy keeps them.
            if (target.Zip)
            {
                Count(await proxy.CopyAsync(target.Key, ".info", Stream.Null, long.MaxValue, cancellationToken).ConfigureAwait(false));
            }

            if (target.GoMod is null)
            {
                Count(await proxy.CopyAsync(target.Key, ".mod", Stream.Null, long.MaxValue, cancellationToken).ConfigureAwait(false));
                Interlocked.Increment(ref _goMods);
            }

            if (target.Zip)
            {
                Count(await proxy.CopyAsync(target.Key, ".zip", Stream.Null, ModuleZip.MaxZipFile, cancellationToken).ConfigureAwait(false));
                Interlocked.Increment(ref _zips);
            }

            return;
        }

        var layout = _options.ProxyLayout ? ModCacheLayout.ForDownloadRoot(_options.ModCache) : new ModCacheLayout(_options.ModCache);
        var goMod = target.GoMod;
        if (goMod is null)
        {
            goMod = await proxy.GetGoModAsync(target.Key, cancellationToken).ConfigureAwait(false);
            Count(goMod.Length);
            Interlocked.Increment(ref _goMods);
        }

        if (modHash is not null && DirHash.HashGoMod(goMod) is var actualMod && actualMod != modHash)
        {
            throw new ChecksumMismatchException($"go.mod hash {actualMod} differs from go.sum's {modHash}");
        }

        await layout.WriteAtomicallyAsync(target.Key, ".mod", goMod, cancellationToken).ConfigureAwait(false);
        Written(layout, target.Key, ".mod", goMod);
        if (!target.Zip)
        {
            return;
        }

        using (var info = new MemoryStream())
        {
            Count(await proxy.CopyAsync(target.Key, ".info", info, ModuleZip.MaxGoMod, cancellationToken).ConfigureAwait(false));
            var bytes = info.ToArray();
            await layout.WriteAtomicallyAsync(target.Key, ".info", bytes, cancellationToken).ConfigureAwait(false);
            Written(layout, target.Key, ".info", bytes);
        }

        if (layout.HasZip(target.Key, zipHash))
        {
            Interlocked.Increment(ref _zips);
            return;
        }

        var zip = layout.PathOf(target.Key, ".zip");
        var temp = ModCacheLayout.TempName(zip);
        try
        {
            // With a listener, the zip is hashed on its way to the file: a hash algorithm as a crypto transform passes its
            // input through unchanged, and holds the hash once the stream is closed.
            using var sha = OnFileWritten is null ? null : System.Security.Cryptography.SHA256.Create();
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
            Stream stream = sha is null ? file : new System.Security.Cryptography.CryptoStream(file, sha, System.Security.Cryptography.CryptoStreamMode.Write);
            long zipSize;
            await using (stream.ConfigureAwait(false))
            {
                zipSize = await proxy.CopyAsync(target.Key, ".zip", stream, ModuleZip.MaxZipFile, cancellationToken).ConfigureAwait(false);
                Count(zipSize);
            }

            var zipSha = sha?.Hash is { } digest ? Convert.ToHexStringLower(digest) : null;

            var check = ModuleZip.Check(temp, target.Key.Path, target.Key.Version, cancellationToken);
            if (!check.IsValid || check.ZipHash is null)
            {
                throw new ChecksumMismatchException("the zip is not a valid module zip: " + check.Error);
            }

            if (zipHash is not null && check.ZipHash != zipHash)
            {
                throw new ChecksumMismatchException($"zip hash {check.ZipHash} differs from go.sum's {zipHash}");
            }

            File.Move(temp, zip, overwrite: true);
            if (zipSha is not null)
            {
                OnFileWritten?.Invoke(zip, zipSha, zipSize);
            }

            var zipHashFile = System.Text.Encoding.UTF8.GetBytes(check.ZipHash);
            await layout.WriteAtomicallyAsync(target.Key, ".ziphash", zipHashFile, cancellationToken).ConfigureAwait(false);
            Written(layout, target.Key, ".ziphash", zipHashFile);
            Interlocked.Increment(ref _zips);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private void Count(long bytes) => Interlocked.Add(ref _bytes, bytes);

    private void Written(ModCacheLayout layout, ModuleKey key, string suffix, byte[] content)
    {
        if (OnFileWritten is { } written)
        {
            written(layout.PathOf(key, suffix), Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content)), content.Length);
        }
    }

    private sealed class Target(ModuleKey key)
    {
        public ModuleKey Key { get; } = key;

        public bool Zip { get; set; }

        public byte[]? GoMod { get; set; }
    }
}

/// <summary>Downloaded content whose hash differs from what go.sum records, or a zip the go command would refuse.</summary>
public sealed class ChecksumMismatchException : Exception
{
    public ChecksumMismatchException()
    {
    }

    public ChecksumMismatchException(string message)
        : base(message)
    {
    }

    public ChecksumMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
