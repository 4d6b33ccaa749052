using Warren.Core.Policy;
using Warren.Core.Vulns;

namespace Warren.Server.Policy;

/// <summary>What the policy looked up about one module: its retractions and (under denyVulnerable) its advisories.</summary>
public sealed record ModuleFacts(Retractions Retractions, IReadOnlyList<Advisory>? Advisories);

public sealed partial class PolicyGate
{
    private int _warnedNoDatabase;

    /// <summary>The module's advisories from the vulnerability database in force (withdrawn ones left out). Before the
    /// mirror's first copy is loaded, the lookup waits (a bounded time) for it, so that a request soon after start-up is
    /// not let through unchecked.</summary>
    private async ValueTask<IReadOnlyList<Advisory>> AdvisoriesAsync(string modulePath, CancellationToken cancellationToken)
    {
        var all = await _catalog.ForModuleAsync(modulePath, cancellationToken).ConfigureAwait(false);
        if (all.Count == 0 && !_catalog.IsAvailable)
        {
            if (Interlocked.Exchange(ref _warnedNoDatabase, 1) == 0)
            {
                PolicyLog.NoVulnerabilityDatabase(_logger);
            }

            return [];
        }

        return all.Any(a => a.Withdrawn is not null) ? all.Where(a => a.Withdrawn is null).ToList() : all;
    }

    /// <summary>Denied when an advisory that is not excepted affects the version (the lowest ID of those, for a stable
    /// message); rule "exception" when only excepted advisories affect it.</summary>
    private async ValueTask<Decision> VulnerabilityAsync(ModulePolicy policy, string modulePath, string version, ModuleFacts? facts, CancellationToken cancellationToken)
    {
        var advisories = facts?.Advisories ?? await AdvisoriesAsync(modulePath, cancellationToken).ConfigureAwait(false);
        Advisory? blocking = null;
        var excepted = false;
        foreach (var advisory in advisories)
        {
            if (!advisory.Affects(modulePath, version))
            {
                continue;
            }

            if (policy.IsExcepted(advisory.Id, advisory.Aliases))
            {
                excepted = true;
            }
            else if (blocking is null || string.CompareOrdinal(advisory.Id, blocking.Id) < 0)
            {
                blocking = advisory;
            }
        }

        if (blocking is not null)
        {
            return new Decision(true, "vulnerable",
                PolicyMessages.ForVulnerability(blocking.DisplayName, modulePath, version, blocking.FixedVersionFor(modulePath, version)));
        }

        return new Decision(false, excepted ? "exception" : "none", null);
    }
}
