using Warren.Core.Policy;
using Warren.Server.Policy;

namespace Warren.Server.ConsoleData;

/// <summary>The policy in force (from <see cref="PolicyStore"/>) and the last denials (<see cref="PolicyDenials"/>).</summary>
public sealed class ConsolePolicyView(PolicyStore store, PolicyDenials denials, IOptions<WarrenOptions> options)
{
    public ConsolePolicy Current(Func<string, bool> readable)
    {
        ArgumentNullException.ThrowIfNull(readable);
        var policy = store.Current;
        return new ConsolePolicy(store.Configured, store.Configured ? PolicyFile.Describe(options.Value) : null, store.LoadedAt, store.Generation, policy.Summary,
            policy.DenyRules.Select(Rule).ToList(), policy.AllowRules?.Select(Rule).ToList(), policy.DenyVulnerable,
            policy.VulnerabilityExceptions.Order(StringComparer.Ordinal).ToList(), policy.DenyRetracted,
            denials.Recent().Where(d => readable(d.Module)).ToList());
    }

    private static ConsolePolicyRule Rule(PolicyRule rule) => new(rule.Index, rule.Module, rule.Versions.Text, rule.Reason, rule.Line);
}
