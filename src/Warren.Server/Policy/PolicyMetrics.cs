using System.Collections.Concurrent;
using Prometheus;

namespace Warren.Server.Policy;

/// <summary>warren_policy_decisions_total{decision,rule}: every policy decision on a zip, in Warren's own registry.
/// The series are cached, so counting a decision allocates nothing.</summary>
public sealed class PolicyMetrics
{
    private readonly Counter _decisions;
    private readonly ConcurrentDictionary<(bool Denied, string Rule), Counter.Child> _series = new();

    public PolicyMetrics(WarrenMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _decisions = Metrics.WithCustomRegistry(metrics.Registry).CreateCounter("warren_policy_decisions_total",
            "Policy decisions on module zips: decision is deny or allow; rule is deny, allowlist, vulnerable or retracted for a denial, allow (an allow rule matched), exception (only excepted advisories affect it) or none for an allowance.",
            ["decision", "rule"]);
    }

    public void Decision(bool denied, string rule) =>
        _series.GetOrAdd((denied, rule), static (key, family) => family.WithLabels(key.Denied ? "deny" : "allow", key.Rule), _decisions).Inc();

    /// <summary>Decisions so far of one kind (tests, diagnostics).</summary>
    public long Count(bool denied, string rule) => _series.TryGetValue((denied, rule), out var child) ? (long)child.Value : 0;
}
