using System.Text.Json.Serialization;

namespace Warren.Server.ConsoleData;

/// <summary>One audit event, as the audit log line tells it.</summary>
/// <param name="At">When it happened.</param>
/// <param name="Kind"><see cref="AuditKinds"/>: access, policy or token.</param>
/// <param name="Principal">Who: the token's name, or "anonymous".</param>
/// <param name="Action">What was decided or done: denied, served-private, zip-denied, zip-allowed, created, revoked.</param>
/// <param name="Module">The module path the event is about, when one.</param>
/// <param name="Version">The version, when one.</param>
/// <param name="Status">The HTTP status answered, when a request.</param>
/// <param name="Reason">The one-line reason (a denial's, a token's grants).</param>
/// <param name="Repeats">Identical events folded into the previous one of this kind (as the log line counts them).</param>
public sealed record AuditEvent(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("principal")] string Principal,
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("module")] string? Module,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("repeats")] long Repeats);

/// <summary>The kinds of audit events.</summary>
public static class AuditKinds
{
    /// <summary>Access-control decisions: requests refused (401, 403, 429) and private artifacts served.</summary>
    public const string Access = "access";

    /// <summary>Policy decisions on zip downloads.</summary>
    public const string Policy = "policy";

    /// <summary>Tokens created or revoked through the console API.</summary>
    public const string Token = "token";

    public static readonly IReadOnlyList<string> All = [Access, Policy, Token];
}

/// <summary>Which audit events to show: all conditions must hold; null conditions hold always.</summary>
/// <param name="Module">A module path; matches the path itself and the paths below it.</param>
public sealed record AuditFilter(string? Principal, string? Module, string? Kind, DateTimeOffset? Since, int Limit)
{
    public bool Matches(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return (Principal is null || string.Equals(e.Principal, Principal, StringComparison.Ordinal))
            && (Kind is null || string.Equals(e.Kind, Kind, StringComparison.Ordinal))
            && (Since is null || e.At >= Since)
            && (Module is null || (e.Module is { } m && (m == Module || (m.StartsWith(Module, StringComparison.Ordinal) && m[Module.Length] == '/'))));
    }
}

/// <summary>The recent audit events (access decisions, policy decisions, token changes) in memory, the last
/// <see cref="Capacity"/> of them: fed where the audit log lines are written (after the same coalescing, so a flood
/// of identical refusals is one event with a count), read by GET /api/admin/audit.</summary>
public sealed class AuditTrail
{
    /// <summary>Events kept.</summary>
    public const int Capacity = 2000;

    /// <summary>The principal recorded for changes found in the auth file (made by `warren token` or an editor).</summary>
    public const string AuthFileActor = "auth-file";

    private readonly BoundedRing<AuditEvent> _events = new(Capacity);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Action, string Name), byte> _expected = new();
    private readonly TimeProvider _time;

    /// <param name="auth">When given, principals added to or removed from the auth file by anyone else than the
    /// console API (which records its own changes, with who made them) are recorded as token events too.</param>
    public AuditTrail(TimeProvider time, Auth.AuthStore? auth = null)
    {
        _time = time;
        if (auth is not null)
        {
            auth.PrincipalsChanged += (added, removed) =>
            {
                foreach (var name in removed.Where(n => !_expected.TryRemove(("revoked", n), out _)))
                {
                    Add(AuditKinds.Token, AuthFileActor, "revoked", null, null, null, $"token \"{name}\" removed from the auth file");
                }

                foreach (var name in added.Where(n => !_expected.TryRemove(("created", n), out _)))
                {
                    Add(AuditKinds.Token, AuthFileActor, "created", null, null, null, $"token \"{name}\" added to the auth file");
                }
            };
        }
    }

    /// <summary>The console API is about to make this change and records it itself: the reload that follows does not record it again.</summary>
    public void Expect(string action, string name)
    {
        if (_expected.Count < 1000)
        {
            _expected.TryAdd((action, name), 0);
        }
    }

    public void Add(string kind, string principal, string action, string? module, string? version, int? status, string? reason, long repeats = 0) =>
        _events.Add(new AuditEvent(_time.GetUtcNow(), kind, principal, action, module, version, status, reason?.ReplaceLineEndings(" "), repeats));

    /// <summary>Withdraws an <see cref="Expect"/> for a change that was not made.</summary>
    public void Forget(string action, string name) => _expected.TryRemove((action, name), out _);

    /// <summary>The events matching the filter, newest first, at most filter.Limit.</summary>
    public IReadOnlyList<AuditEvent> Query(AuditFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return _events.Snapshot().Where(filter.Matches).Take(filter.Limit).ToList();
    }
}

/// <summary>A zip download the policy denied.</summary>
public sealed record PolicyDenial(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("principal")] string Principal,
    [property: JsonPropertyName("module")] string Module,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("rule")] string Rule,
    [property: JsonPropertyName("reason")] string Reason);

/// <summary>The last <see cref="Capacity"/> policy denials, fed by <see cref="Policy.PolicyGate"/> where it decides.</summary>
public sealed class PolicyDenials(TimeProvider time)
{
    public const int Capacity = 200;

    private readonly BoundedRing<PolicyDenial> _denials = new(Capacity);

    public void Add(string principal, string module, string version, string rule, string reason) =>
        _denials.Add(new PolicyDenial(time.GetUtcNow(), principal, module, version, rule, reason.ReplaceLineEndings(" ")));

    /// <summary>Newest first.</summary>
    public IReadOnlyList<PolicyDenial> Recent() => _denials.Snapshot();
}
