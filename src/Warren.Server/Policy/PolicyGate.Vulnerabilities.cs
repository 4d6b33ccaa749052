using Warren.Core.Policy;

namespace Warren.Server.Policy;

/// <summary>What the policy looked up about one module: its retractions and (under denyVulnerable) its advisories.</summary>
public sealed record ModuleFacts(Retractions Retractions, IReadOnlyList<object>? Advisories);

public sealed partial class PolicyGate
{
    // The vulnerability database's catalog is wired in when it is available (IAdvisoryCatalog).
    private static ValueTask<IReadOnlyList<object>?> AdvisoriesAsync(string modulePath, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<object>?>(null);

    private static ValueTask<Decision> VulnerabilityAsync(ModulePolicy policy, string modulePath, string version, ModuleFacts? facts, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new Decision(false, "none", null));
}
