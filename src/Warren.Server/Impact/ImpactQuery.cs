using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Warren.Core.Impact;
using Warren.Core.Limits;
using Warren.Core.Vulns;
using Warren.Server.Endpoints;

namespace Warren.Server.Impact;

/// <summary>Joins the download records with the advisory catalog: which served versions are affected, and who downloaded them.</summary>
public sealed class ImpactQuery(IModuleIndex index, IAdvisoryCatalog catalog, DownloadRecords records, TimeProvider time)
{
    /// <summary>The JSON of the report and of the alerts: web defaults, compact.</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    /// <summary>The report of the versions downloaded on days from since (the counts still in memory included).</summary>
    public async Task<ServedImpactReport> ReportAsync(DateOnly since, CancellationToken cancellationToken)
    {
        await records.FlushAsync(cancellationToken).ConfigureAwait(false);
        var rows = await index.ReadDownloadsAsync(since, null, cancellationToken).ConfigureAwait(false);
        var versions = new List<AffectedServedVersion>();
        foreach (var module in rows.GroupBy(r => r.ModulePath, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var advisories = await catalog.ForModuleAsync(module.Key, cancellationToken).ConfigureAwait(false);
            if (advisories.Count == 0)
            {
                continue;
            }

            foreach (var version in module.GroupBy(r => r.Version, StringComparer.Ordinal).OrderBy(g => g.Key, SemVerOrder))
            {
                var affecting = Affecting(advisories, module.Key, version.Key);
                if (affecting.Count > 0)
                {
                    versions.Add(new AffectedServedVersion(module.Key, version.Key, affecting, Clients(version)));
                }
            }
        }

        return new ServedImpactReport(since, time.GetUtcNow(), catalog.IsAvailable, versions);
    }

    /// <summary>Semantic version order.</summary>
    public static readonly IComparer<string> SemVerOrder = Comparer<string>.Create(SemVer.Compare);

    /// <summary>The advisories (not withdrawn) affecting module@version, by ID.</summary>
    public static IReadOnlyList<ImpactAdvisory> Affecting(IEnumerable<Advisory> advisories, string modulePath, string version) =>
        advisories.Where(a => a.Withdrawn is null && a.Affects(modulePath, version))
            .OrderBy(a => a.Id, StringComparer.Ordinal)
            .Select(a => Describe(a, modulePath, version)).ToList();

    public static ImpactAdvisory Describe(Advisory advisory, string modulePath, string version)
    {
        ArgumentNullException.ThrowIfNull(advisory);
        return new ImpactAdvisory(advisory.Id, advisory.Aliases, advisory.Summary, advisory.FixedVersionFor(modulePath, version));
    }

    /// <summary>Per client: the downloads added up, the last one, the nodes that served them; most downloads first.</summary>
    public static IReadOnlyList<ImpactClient> Clients(IEnumerable<DownloadCount> rows) =>
        rows.GroupBy(r => r.Client, StringComparer.Ordinal)
            .Select(g => new ImpactClient(g.Key, g.Sum(r => r.Downloads), g.Max(r => r.LastDownload),
                g.Select(r => r.Node).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList()))
            .OrderByDescending(c => c.Downloads).ThenBy(c => c.Client, StringComparer.Ordinal).ToList();
}
