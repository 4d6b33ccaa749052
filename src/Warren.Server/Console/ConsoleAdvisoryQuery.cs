using Warren.Core.Impact;
using Warren.Core.Vulns;
using Warren.Server.Impact;

namespace Warren.Server.ConsoleData;

/// <summary>The advisories that affect versions held in the store or served: the served ones are the impact report's
/// (<see cref="ImpactQuery"/>, from the download records), the held ones are found by listing, for every module an
/// advisory names, the versions the index has a record of. The held ones are computed once per copy of the database and
/// state of the index (its version count), then reused. What the caller may not read is left out.</summary>
public sealed class ConsoleAdvisoryQuery(ImpactQuery impact, IAdvisoryCatalog catalog, IModuleIndex index, TimeProvider time)
{
    /// <summary>Most module paths of the database whose held versions are looked up (the Go database names a few thousand).</summary>
    public const int MaxModules = 20_000;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (long Generation, long Versions, IReadOnlyList<ConsoleAffectedVersion> Rows)? _held;

    /// <summary>The report of the versions held, and of those downloaded on days from since.</summary>
    public async Task<ConsoleAdvisories> ReportAsync(DateOnly since, Func<string, bool> readable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readable);
        var served = await impact.ReportAsync(since, cancellationToken).ConfigureAwait(false);
        var rows = new Dictionary<(string Module, string Version), ConsoleAffectedVersion>();
        foreach (var v in served.Versions.Where(v => readable(v.Module)))
        {
            rows[(v.Module, v.Version)] = new ConsoleAffectedVersion(v.Module, v.Version, false, true, v.Advisories, v.Clients);
        }

        foreach (var held in (await HeldAsync(cancellationToken).ConfigureAwait(false)).Where(r => readable(r.Module)))
        {
            rows[(held.Module, held.Version)] = rows.TryGetValue((held.Module, held.Version), out var known) ? known with { Held = true } : held;
        }

        var ordered = rows.Values.OrderBy(r => r.Module, StringComparer.Ordinal).ThenBy(r => r.Version, ImpactQuery.SemVerOrder).ToList();
        return new ConsoleAdvisories(time.GetUtcNow(), catalog.IsAvailable, since, ordered);
    }

    /// <summary>Every held version an advisory affects, whoever asks: recomputed when the database or the index's
    /// versions changed (one computation at a time).</summary>
    private async Task<IReadOnlyList<ConsoleAffectedVersion>> HeldAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var generation = catalog.Generation;
            var stats = await index.GetStatsAsync(cancellationToken).ConfigureAwait(false);
            var versions = stats.Versions + stats.EvictedVersions;
            if (_held is { } cached && cached.Generation == generation && cached.Versions == versions)
            {
                return cached.Rows;
            }

            var rows = await ComputeHeldAsync(cancellationToken).ConfigureAwait(false);
            _held = (generation, versions, rows);
            return rows;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IReadOnlyList<ConsoleAffectedVersion>> ComputeHeldAsync(CancellationToken cancellationToken)
    {
        var byModule = new Dictionary<string, List<Advisory>>(StringComparer.Ordinal);
        foreach (var advisory in await catalog.AllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (advisory.Withdrawn is not null)
            {
                continue;
            }

            foreach (var module in advisory.Affected.Select(a => a.ModulePath).Distinct(StringComparer.Ordinal))
            {
                if (!byModule.ContainsKey(module) && byModule.Count >= MaxModules)
                {
                    continue;
                }

                if (!byModule.TryGetValue(module, out var list))
                {
                    byModule[module] = list = [];
                }

                list.Add(advisory);
            }
        }

        var rows = new List<ConsoleAffectedVersion>();
        foreach (var (module, advisories) in byModule)
        {
            foreach (var version in await index.ListVersionsAsync(module, cancellationToken).ConfigureAwait(false))
            {
                var affecting = ImpactQuery.Affecting(advisories, module, version);
                if (affecting.Count > 0)
                {
                    rows.Add(new ConsoleAffectedVersion(module, version, true, false, affecting, []));
                }
            }
        }

        return rows;
    }
}
