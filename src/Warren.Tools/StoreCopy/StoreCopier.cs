using System.Text;
using System.Text.Json;
using Warren.Core.Modules;
using Warren.Storage;
using Warren.Tools.Reporting;

namespace Warren.Tools.StoreCopy;

/// <summary>What a store copy did.</summary>
public sealed record StoreCopyResult(int Copied, int Present, int Failed, long Bytes, Report Report);

/// <summary>Copies one artifact store into another (a single node's file store into the cluster's bucket, say),
/// verifying every module file on the way: a zip's h1 is computed from its content and must equal its .ziphash (and
/// the source index's record, when there is one), a .mod must parse as a go.mod of its module, an .info must name its
/// version. Objects already in the target are left alone, so an interrupted copy resumes where it stopped; nothing is
/// ever partially visible in the target (every write is put-if-absent of a complete file). The target index gets a
/// record of each module file with its hash.</summary>
public sealed class StoreCopier(IArtifactStore from, IArtifactStore to, IModuleIndex? toIndex, IModuleIndex? fromIndex, string stagingDirectory, int jobs = 4)
{
    private int _copied;
    private int _present;
    private int _failed;
    private long _bytes;
    private int _done;

    /// <summary>Called with (objects done, objects in all) as the copy goes.</summary>
    public Action<int, int>? OnProgress { get; set; }

    public async Task<StoreCopyResult> CopyAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(stagingDirectory);
        var keys = new List<string>();
        await foreach (var key in from.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            keys.Add(key);
        }

        // One unit per module version (its files in a safe order), one per other object (checksum database tiles).
        var versions = new Dictionary<(string Module, string Version), HashSet<ArtifactKind>>();
        var others = new List<string>();
        foreach (var key in keys)
        {
            if (StoreLayout.TryParseArtifactKey(key, out var module, out var version, out var kind))
            {
                if (!versions.TryGetValue((module, version), out var kinds))
                {
                    versions[(module, version)] = kinds = [];
                }

                kinds.Add(kind);
            }
            else if (key.StartsWith("sumdb/", StringComparison.Ordinal))
            {
                others.Add(key);
            }
        }

        var total = versions.Count + others.Count;
        var findings = new List<Finding>();
        var gate = new Lock();
        void Fail(string subject, string evidence)
        {
            Interlocked.Increment(ref _failed);
            lock (gate)
            {
                findings.Add(new Finding("copy", Verdict.Fail, evidence, "check the source store; copy again to retry", subject));
            }
        }

        void Step() => OnProgress?.Invoke(Interlocked.Increment(ref _done), total);

        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, jobs), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(versions, options, async (entry, ct) =>
        {
            var ((module, version), kinds) = entry;
            try
            {
                if (await CopyVersionAsync(module, version, kinds, ct).ConfigureAwait(false) is { } problem)
                {
                    Fail(module + "@" + version, problem);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or JsonException or HttpRequestException)
            {
                Fail(module + "@" + version, ex.Message);
            }

            Step();
        }).ConfigureAwait(false);

        await Parallel.ForEachAsync(others, options, async (key, ct) =>
        {
            try
            {
                if (await from.GetAsync(key, ct).ConfigureAwait(false) is { } stored)
                {
                    await CopyObjectAsync(key, stored, ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                Fail(key, ex.Message);
            }

            Step();
        }).ConfigureAwait(false);

        findings.Sort((a, b) => string.CompareOrdinal(a.Subject, b.Subject));
        findings.Add(new Finding("summary", _failed > 0 ? Verdict.Fail : Verdict.Pass,
            $"{_copied} copied, {_present} already there, {_failed} failed, {_bytes} bytes; from {from.Location} to {to.Location}"));
        return new StoreCopyResult(_copied, _present, _failed, _bytes, new Report("store copy", findings));
    }

    /// <summary>Copies and checks one version's files: .mod, .info, then the .ziphash and last the .zip, so that a zip
    /// in the target always has its hash beside it. Null when done, else the problem.</summary>
    private async Task<string?> CopyVersionAsync(string module, string version, HashSet<ArtifactKind> kinds, CancellationToken cancellationToken)
    {
        if (kinds.Contains(ArtifactKind.Mod) && await from.GetAsync(StoreLayout.ArtifactKey(module, version, ArtifactKind.Mod), cancellationToken).ConfigureAwait(false) is { } mod)
        {
            var body = await mod.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false);
            var hash = DirHash.HashGoMod(body);
            if (GoModFile.CheckDependency(module, body) is { } problem)
            {
                return ".mod: " + problem;
            }

            if (await RecordedHashAsync(module, version, ArtifactKind.Mod, cancellationToken).ConfigureAwait(false) is { } recorded && recorded != hash)
            {
                return $".mod: hash {hash} differs from the {recorded} the source index recorded";
            }

            await PutBytesAsync(module, version, ArtifactKind.Mod, body, hash, mod, cancellationToken).ConfigureAwait(false);
        }

        if (kinds.Contains(ArtifactKind.Info) && await from.GetAsync(StoreLayout.ArtifactKey(module, version, ArtifactKind.Info), cancellationToken).ConfigureAwait(false) is { } info)
        {
            var body = await info.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(body);
            if (!doc.RootElement.TryGetProperty("Version", out var v) || v.GetString() != version)
            {
                return $".info: does not name version {version}";
            }

            await PutBytesAsync(module, version, ArtifactKind.Info, body, null, info, cancellationToken).ConfigureAwait(false);
        }

        if (kinds.Contains(ArtifactKind.Zip) && await from.GetAsync(StoreLayout.ArtifactKey(module, version, ArtifactKind.Zip), cancellationToken).ConfigureAwait(false) is { } zip)
        {
            return await CopyZipAsync(module, version, zip, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    private async Task<string?> CopyZipAsync(string module, string version, StoredObject zip, CancellationToken cancellationToken)
    {
        var zipKey = StoreLayout.ArtifactKey(module, version, ArtifactKind.Zip);
        if (await to.ExistsAsync(zipKey, cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _present);
            return null;
        }

        var staged = Path.Combine(stagingDirectory, Guid.NewGuid().ToString("N") + ".zip");
        try
        {
            await zip.CopyToFileAsync(staged, cancellationToken).ConfigureAwait(false);
            var check = ModuleZip.Check(staged, module, version, cancellationToken);
            if (!check.IsValid)
            {
                return "zip: " + check.Error;
            }

            var hash = check.ZipHash ?? DirHash.HashZip(staged, cancellationToken);
            if (await from.GetAsync(StoreLayout.ArtifactKey(module, version, ArtifactKind.ZipHash), cancellationToken).ConfigureAwait(false) is { } zipHash)
            {
                var kept = Encoding.UTF8.GetString(await zipHash.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false)).Trim();
                if (kept != hash)
                {
                    return $"zip: hash {hash} differs from its .ziphash {kept}";
                }
            }

            if (await RecordedHashAsync(module, version, ArtifactKind.Zip, cancellationToken).ConfigureAwait(false) is { } recorded && recorded != hash)
            {
                return $"zip: hash {hash} differs from the {recorded} the source index recorded";
            }

            var hashFile = staged + "hash";
            await File.WriteAllTextAsync(hashFile, hash, cancellationToken).ConfigureAwait(false);
            await to.PutIfAbsentAsync(StoreLayout.ArtifactKey(module, version, ArtifactKind.ZipHash), hashFile, cancellationToken).ConfigureAwait(false);
            var length = new FileInfo(staged).Length;
            if (await to.PutIfAbsentAsync(zipKey, staged, cancellationToken).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _copied);
                Interlocked.Add(ref _bytes, length);
            }
            else
            {
                Interlocked.Increment(ref _present);
            }

            await RecordAsync(module, version, ArtifactKind.Zip, hash, length, zip, cancellationToken).ConfigureAwait(false);
            return null;
        }
        finally
        {
            File.Delete(staged);
            File.Delete(staged + "hash");
        }
    }

    private async Task PutBytesAsync(string module, string version, ArtifactKind kind, byte[] body, string? hash, StoredObject source, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(body, writable: false);
        if (await to.PutIfAbsentAsync(StoreLayout.ArtifactKey(module, version, kind), content, cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _copied);
            Interlocked.Add(ref _bytes, body.Length);
        }
        else
        {
            Interlocked.Increment(ref _present);
        }

        await RecordAsync(module, version, kind, hash, body.Length, source, cancellationToken).ConfigureAwait(false);
    }

    private async Task CopyObjectAsync(string key, StoredObject stored, CancellationToken cancellationToken)
    {
        if (await to.ExistsAsync(key, cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _present);
            return;
        }

        var stream = await stored.OpenReadAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            if (await to.PutIfAbsentAsync(key, stream, cancellationToken).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _copied);
                Interlocked.Add(ref _bytes, stored.Length);
            }
            else
            {
                Interlocked.Increment(ref _present);
            }
        }
    }

    private Task RecordAsync(string module, string version, ArtifactKind kind, string? hash, long size, StoredObject source, CancellationToken cancellationToken) =>
        toIndex is null
            ? Task.CompletedTask
            : toIndex.RecordArtifactAsync(new ArtifactRecord(module, version, kind, hash, size, "copy:" + from.Location, source.LastModified), cancellationToken);

    private async Task<string?> RecordedHashAsync(string module, string version, ArtifactKind kind, CancellationToken cancellationToken) =>
        fromIndex is null ? null : (await fromIndex.GetArtifactAsync(module, version, kind, cancellationToken).ConfigureAwait(false))?.Hash;
}
