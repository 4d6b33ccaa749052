using System.Text;
using System.Text.Json;
using Warren.Core.Limits;
using Warren.Core.Policy;
using Warren.Core.Vulns;
using Warren.Server.Auth;
using Warren.Server.Ingest;

namespace Warren.Server.Policy;

/// <summary>Applies the policy in force to the GOPROXY answers: a denied version's zip is refused (403, one line the go
/// command prints under "server response:"), list and @latest leave denied versions out. Its .mod and .info stay
/// served: the go command reads them for versions it does not select. Denials are computed per request from the policy
/// in force (never stored as "not found"), so a policy change changes the next answer. The deny/allow rules cost a few
/// dictionary probes; retractions (the module's latest go.mod) and advisories are looked up only when the policy asks
/// for them, retractions cached per module (bounded, for the list TTL).</summary>
public sealed partial class PolicyGate
{
    private const string JsonType = "application/json";

    private readonly PolicyStore _store;
    private readonly ModuleService _modules;
    private readonly PolicyMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ILogger _audit;
    private readonly AccessLogCoalescer _coalescer;
    private readonly BoundedCache<Retractions> _retractions;
    private readonly TimeSpan _retractionTtl;
    private readonly IAdvisoryCatalog _catalog;
    private readonly ConsoleData.AuditTrail _trail;
    private readonly ConsoleData.PolicyDenials _denials;

    public PolicyGate(PolicyStore store, ModuleService modules, PolicyMetrics metrics, IAdvisoryCatalog catalog, ILoggerFactory loggers, TimeProvider time,
        IOptions<WarrenOptions> options, ConsoleData.AuditTrail trail, ConsoleData.PolicyDenials denials)
    {
        _catalog = catalog;
        _trail = trail;
        _denials = denials;
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _modules = modules;
        _metrics = metrics;
        _logger = loggers.CreateLogger("Warren.Server.Policy");
        _audit = loggers.CreateLogger(AccessControl.AccessLogCategory);
        _coalescer = new AccessLogCoalescer(time, options.Value.AccessLogWindow);
        _retractions = new BoundedCache<Retractions>(Math.Max(1, Math.Min(options.Value.MemoryCacheEntries, 10_000)), time: time);
        _retractionTtl = options.Value.ListTtl > TimeSpan.Zero ? options.Value.ListTtl : TimeSpan.FromMinutes(1);
        store.Changed += _retractions.Clear;
    }

    /// <summary>True while the policy in force can deny something (the endpoints skip the gate otherwise).</summary>
    public bool IsActive => _store.IsActive;

    /// <summary>The decision on one version: denied or not, the rule label (for the metric and the audit log), the reason.</summary>
    public readonly record struct Decision(bool Denied, string Rule, string? Reason);

    /// <summary>The decision on a zip download, audited and counted; an <see cref="Outcome"/> (403) when denied.</summary>
    public async ValueTask<Outcome?> CheckZipAsync(HttpContext context, string modulePath, string version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var decision = await DecideAsync(_store.Current, modulePath, version, null, cancellationToken).ConfigureAwait(false);
        _metrics.Decision(decision.Denied, decision.Rule);
        var principal = context.Items.TryGetValue(AccessControl.PrincipalItem, out var p) && p is string name ? name : AuthFile.AnonymousName;
        var status = decision.Denied ? StatusCodes.Status403Forbidden : StatusCodes.Status200OK;
        if (_coalescer.ShouldLog(principal, modulePath, version, "zip-policy", status, out var repeats))
        {
            var what = Endpoints.ProxyRequestParser.Printable(modulePath + "@" + version);
            if (decision.Denied)
            {
                PolicyLog.ZipDenied(_audit, principal, what, decision.Rule, decision.Reason!, repeats);
                _denials.Add(principal, modulePath, version, decision.Rule, decision.Reason!);
            }
            else
            {
                PolicyLog.ZipAllowed(_audit, principal, what, decision.Rule, repeats);
            }

            _trail.Add(ConsoleData.AuditKinds.Policy, principal, decision.Denied ? "zip-denied" : "zip-allowed", modulePath, version, status,
                decision.Denied ? decision.Rule + ": " + decision.Reason : decision.Rule, repeats);
        }

        return decision.Denied ? Outcome.Forbidden(decision.Reason!) : null;
    }

    /// <summary>The decision on one version under a policy: deny rules, the allow list, advisories, retractions, in that
    /// order. facts, when given, holds what was looked up for the module already.</summary>
    public async ValueTask<Decision> DecideAsync(ModulePolicy policy, string modulePath, string version, ModuleFacts? facts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var verdict = policy.EvaluateRules(modulePath, version);
        if (verdict.Denied)
        {
            return new Decision(true, verdict.Kind == PolicyRuleKind.Deny ? "deny" : "allowlist", PolicyMessages.ForRule(verdict, modulePath, version));
        }

        var rule = verdict.Kind == PolicyRuleKind.Allow ? "allow" : "none";
        if (policy.DenyVulnerable)
        {
            var vulnerable = await VulnerabilityAsync(policy, modulePath, version, facts, cancellationToken).ConfigureAwait(false);
            if (vulnerable.Denied)
            {
                return vulnerable;
            }

            if (vulnerable.Rule == "exception" && rule == "none")
            {
                rule = "exception";
            }
        }

        if (policy.DenyRetracted)
        {
            var retractions = facts?.Retractions ?? await RetractionsAsync(modulePath, cancellationToken).ConfigureAwait(false);
            if (retractions.Find(version) is { } retract)
            {
                return new Decision(true, "retracted", PolicyMessages.ForRetraction(modulePath, version, retractions.LatestVersion, retract.Rationale));
            }
        }

        return new Decision(false, rule, null);
    }

    /// <summary>A list answer without the denied versions; never cacheable past a policy change.</summary>
    public async ValueTask<ServeResult> FilterListAsync(string modulePath, ServeResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result is not ContentAnswer list)
        {
            return result;
        }

        var policy = _store.Current;
        var facts = await FactsAsync(policy, modulePath, cancellationToken).ConfigureAwait(false);
        var kept = new StringBuilder(list.Body.Length);
        foreach (var version in Versions(list.Body))
        {
            if (!(await DecideAsync(policy, modulePath, version, facts, cancellationToken).ConfigureAwait(false)).Denied)
            {
                kept.Append(version).Append('\n');
            }
        }

        return new ContentAnswer(Encoding.UTF8.GetBytes(kept.ToString()), list.ContentType, TimeSpan.Zero);
    }

    /// <summary>An @latest answer whose version is allowed: upstream's when allowed, else the highest allowed version of
    /// the list (as the go command picks: releases first), else not found, which sends the go command to the (filtered,
    /// empty) list. Never cacheable past a policy change.</summary>
    public async ValueTask<ServeResult> FilterLatestAsync(string modulePath, ServeResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result is not ContentAnswer latest || InfoVersion(latest.Body) is not { } version)
        {
            return result;
        }

        var policy = _store.Current;
        var facts = await FactsAsync(policy, modulePath, cancellationToken).ConfigureAwait(false);
        var decision = await DecideAsync(policy, modulePath, version, facts, cancellationToken).ConfigureAwait(false);
        if (!decision.Denied)
        {
            return new ContentAnswer(latest.Body, latest.ContentType, TimeSpan.Zero);
        }

        var allowed = new List<string>();
        if (await _modules.GetListAsync(modulePath, cancellationToken).ConfigureAwait(false) is ContentAnswer list)
        {
            foreach (var v in Versions(list.Body))
            {
                if (!(await DecideAsync(policy, modulePath, v, facts, cancellationToken).ConfigureAwait(false)).Denied)
                {
                    allowed.Add(v);
                }
            }
        }

        foreach (var candidate in ByGoPreference(allowed))
        {
            var info = await _modules.GetArtifactAsync(modulePath, candidate, ArtifactKind.Info, cancellationToken).ConfigureAwait(false);
            if (await BodyAsync(info, cancellationToken).ConfigureAwait(false) is { } body)
            {
                return new ContentAnswer(body, JsonType, TimeSpan.Zero);
            }
        }

        return Outcome.NotFound($"{Endpoints.ProxyRequestParser.Printable(modulePath)}: no version allowed by policy ({decision.Reason})");
    }

    /// <summary>What the policy needs to know about a module to decide on many of its versions, looked up once.</summary>
    public async ValueTask<ModuleFacts> FactsAsync(ModulePolicy policy, string modulePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var retractions = policy.DenyRetracted ? await RetractionsAsync(modulePath, cancellationToken).ConfigureAwait(false) : Retractions.None;
        var advisories = policy.DenyVulnerable ? await AdvisoriesAsync(modulePath, cancellationToken).ConfigureAwait(false) : null;
        return new ModuleFacts(retractions, advisories);
    }

    /// <summary>The retractions of the module's latest go.mod, the latest being what the go command takes when it reads
    /// retractions: the highest release of the list, else its highest pre-release, else @latest. Cached per module for the
    /// list TTL (bounded); when they cannot be read, none (logged), and asked again next time.</summary>
    private async ValueTask<Retractions> RetractionsAsync(string modulePath, CancellationToken cancellationToken)
    {
        if (_retractions.TryGet(modulePath, out var cached))
        {
            return cached;
        }

        string? latest = null;
        if (await _modules.GetListAsync(modulePath, cancellationToken).ConfigureAwait(false) is ContentAnswer list)
        {
            latest = ByGoPreference(Versions(list.Body).ToList()).FirstOrDefault();
        }

        if (latest is null && await _modules.GetLatestAsync(modulePath, cancellationToken).ConfigureAwait(false) is ContentAnswer info)
        {
            latest = InfoVersion(info.Body);
        }

        if (latest is null)
        {
            _retractions.Set(modulePath, Retractions.None, _retractionTtl);
            return Retractions.None;
        }

        var mod = await _modules.GetArtifactAsync(modulePath, latest, ArtifactKind.Mod, cancellationToken).ConfigureAwait(false);
        if (await BodyAsync(mod, cancellationToken).ConfigureAwait(false) is not { } goMod)
        {
            PolicyLog.RetractionsUnknown(_logger, Endpoints.ProxyRequestParser.Printable(modulePath), mod is Outcome o ? o.Message : "no go.mod for " + latest);
            return Retractions.None;
        }

        var retractions = Retractions.FromGoMod(latest, goMod);
        _retractions.Set(modulePath, retractions, _retractionTtl);
        return retractions;
    }

    /// <summary>The valid versions of a list body.</summary>
    private static IEnumerable<string> Versions(byte[] body)
    {
        foreach (var line in Encoding.UTF8.GetString(body).Split('\n'))
        {
            var fields = line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0 && SemVer.IsValid(fields[0]))
            {
                yield return fields[0];
            }
        }
    }

    /// <summary>Versions in the go command's order of preference for "latest": releases highest first, then pre-releases.</summary>
    private static IEnumerable<string> ByGoPreference(List<string> versions)
    {
        var sorted = versions.ToList();
        sorted.Sort(SemVer.Compare);
        sorted.Reverse();
        return sorted.Where(v => SemVer.Prerelease(v).Length == 0).Concat(sorted.Where(v => SemVer.Prerelease(v).Length > 0));
    }

    private static string? InfoVersion(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("Version", out var v) && v.ValueKind == JsonValueKind.String
                && SemVer.IsValid(v.GetString()!) ? v.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async ValueTask<byte[]?> BodyAsync(ServeResult result, CancellationToken cancellationToken) => result switch
    {
        ContentAnswer c => c.Body,
        MemoryArtifactAnswer m => m.Artifact.Body,
        ArtifactAnswer a => await a.Artifact.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false),
        _ => null,
    };
}
