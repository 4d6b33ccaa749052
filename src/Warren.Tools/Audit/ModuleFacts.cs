using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Warren.Core.Modules;
using Warren.Protocol.GoProxy;

namespace Warren.Tools.Audit;

/// <summary>What the proxy says about a module: its versions, its latest version and that version's retractions and
/// deprecation. Error is set (one line) when it could not be found out.</summary>
internal sealed record ModuleFacts(string Path, IReadOnlyList<string> Versions, string? Latest, IReadOnlyList<GoModRetract> Retracts,
    string? Deprecated, string? Error)
{
    /// <summary>The retraction covering this version, or null.</summary>
    public GoModRetract? RetractionOf(string version) =>
        Retracts.FirstOrDefault(r => SemVer.IsValid(r.Low) && SemVer.IsValid(r.High)
            && SemVer.Compare(r.Low, version) <= 0 && SemVer.Compare(version, r.High) <= 0);

    /// <summary>The highest listed version with the same major version as this one and above it, not retracted; a
    /// pre-release only when the version in use is one.</summary>
    public string? LatestWithinMajor(string version)
    {
        var major = SemVer.Major(version);
        var prerelease = SemVer.Prerelease(version).Length > 0;
        string? best = null;
        foreach (var v in Versions)
        {
            if (SemVer.Major(v) != major || (!prerelease && SemVer.Prerelease(v).Length > 0) || RetractionOf(v) is not null)
            {
                continue;
            }

            if (SemVer.Compare(v, version) > 0 && (best is null || SemVer.Compare(v, best) > 0))
            {
                best = v;
            }
        }

        return best;
    }
}

/// <summary>Looks modules up on the proxy once per run, however many repositories require them.</summary>
internal sealed class ModuleFactsCache(AuditSource proxy)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<ModuleFacts>>> _facts = new(StringComparer.Ordinal);

    public Task<ModuleFacts> GetAsync(string modulePath, CancellationToken cancellationToken) =>
        _facts.GetOrAdd(modulePath, p => new Lazy<Task<ModuleFacts>>(() => LoadAsync(p, cancellationToken))).Value;

    private async Task<ModuleFacts> LoadAsync(string path, CancellationToken cancellationToken)
    {
        ModuleFacts Failed(string error) => new(path, [], null, [], null, error);

        var list = await proxy.GetAsync(GoProxyPaths.List(path), GoProxyPaths.MaxMetadata, cancellationToken).ConfigureAwait(false);
        if (list.Failure is { } failure)
        {
            return Failed(failure);
        }

        var versions = new List<string>();
        if (list.Body is { } body)
        {
            foreach (var line in Encoding.UTF8.GetString(body).Split('\n'))
            {
                var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 0 && SemVer.IsValid(fields[0]) && SemVer.Canonical(fields[0]) == fields[0] && !PseudoVersion.IsPseudoVersion(fields[0]))
                {
                    versions.Add(fields[0]);
                }
            }
        }

        versions = versions.Distinct(StringComparer.Ordinal).ToList();
        SemVer.Sort(versions);
        var latest = versions.LastOrDefault(v => SemVer.Prerelease(v).Length == 0) ?? versions.LastOrDefault();
        if (latest is null)
        {
            var answer = await proxy.GetAsync(GoProxyPaths.Latest(path), GoProxyPaths.MaxMetadata, cancellationToken).ConfigureAwait(false);
            if (answer.Failure is { } latestFailure)
            {
                return Failed(latestFailure);
            }

            if (answer.Body is null)
            {
                return Failed($"{proxy.Display}: {path} is not found (no version list and no @latest)");
            }

            latest = ReadLatest(answer.Body);
            if (latest is null)
            {
                return Failed($"{proxy.Display}: the @latest answer of {path} has no valid Version");
            }
        }

        var mod = await proxy.GetAsync(GoProxyPaths.VersionFile(path, latest, ".mod"), GoProxyPaths.MaxMetadata, cancellationToken).ConfigureAwait(false);
        if (mod.Failure is { } modFailure)
        {
            return Failed(modFailure);
        }

        if (mod.Body is null)
        {
            return Failed($"{proxy.Display}: {path}@{latest}.mod is not found");
        }

        try
        {
            var file = GoModFile.ParseLax($"{path}@{latest}/go.mod", mod.Body);
            return new ModuleFacts(path, versions, latest, file.Retracts, file.ModuleDeprecated, null);
        }
        catch (GoModParseException ex)
        {
            return Failed($"{path}@{latest}: its go.mod does not parse: {ex.Message.Split('\n')[0]}");
        }
    }

    private static string? ReadLatest(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("Version", out var v)
                && v.ValueKind == JsonValueKind.String && v.GetString() is { } s && SemVer.IsValid(s) ? s : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
