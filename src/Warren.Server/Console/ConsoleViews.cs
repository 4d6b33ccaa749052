using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Warren.Core.Impact;

namespace Warren.Server.ConsoleData;

/// <summary>GET /api/advisories: the versions held in the store or served (downloaded) that an advisory of the
/// vulnerability database affects.</summary>
/// <param name="DatabaseAvailable">False when no vulnerability database is loaded: then nothing can be found.</param>
/// <param name="ServedSince">The first UTC day of the download records counted.</param>
/// <param name="Versions">By module path, then semantic version.</param>
public sealed record ConsoleAdvisories(
    [property: JsonPropertyName("generatedAt")] DateTimeOffset GeneratedAt,
    [property: JsonPropertyName("databaseAvailable")] bool DatabaseAvailable,
    [property: JsonPropertyName("servedSince")] DateOnly ServedSince,
    [property: JsonPropertyName("versions")] IReadOnlyList<ConsoleAffectedVersion> Versions);

/// <summary>An affected version: module path and version (the module page's address), whether the store has a record
/// of it and whether it was downloaded in the period, the advisories and the clients that downloaded it.</summary>
public sealed record ConsoleAffectedVersion(
    [property: JsonPropertyName("module")] string Module,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("held")] bool Held,
    [property: JsonPropertyName("served")] bool Served,
    [property: JsonPropertyName("advisories")] IReadOnlyList<ImpactAdvisory> Advisories,
    [property: JsonPropertyName("clients")] IReadOnlyList<ImpactClient> Clients);

/// <summary>GET /api/policy: the policy in force and the last denials.</summary>
/// <param name="Configured">Whether a policy file (or appsettings section) is configured.</param>
/// <param name="Source">"FILE" or "FILE (Warren.Policy)"; null when none.</param>
/// <param name="LoadedAt">When the policy in force was loaded; null when none was.</param>
/// <param name="Generation">Changes each time another policy comes into force.</param>
/// <param name="Allow">The allow list (allowlist mode); null when not in allowlist mode.</param>
/// <param name="RecentDenials">Newest first; only modules the caller may read.</param>
public sealed record ConsolePolicy(
    [property: JsonPropertyName("configured")] bool Configured,
    [property: JsonPropertyName("source")] string? Source,
    [property: JsonPropertyName("loadedAt")] DateTimeOffset? LoadedAt,
    [property: JsonPropertyName("generation")] long Generation,
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("deny")] IReadOnlyList<ConsolePolicyRule> Deny,
    [property: JsonPropertyName("allow")] IReadOnlyList<ConsolePolicyRule>? Allow,
    [property: JsonPropertyName("denyVulnerable")] bool DenyVulnerable,
    [property: JsonPropertyName("vulnerabilityExceptions")] IReadOnlyList<string> VulnerabilityExceptions,
    [property: JsonPropertyName("denyRetracted")] bool DenyRetracted,
    [property: JsonPropertyName("recentDenials")] IReadOnlyList<PolicyDenial> RecentDenials);

/// <summary>One rule: its position, module globs, version range, reason, and the line of the file it is on.</summary>
public sealed record ConsolePolicyRule(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("module")] string Module,
    [property: JsonPropertyName("versions")] string Versions,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("line")] int Line);

/// <summary>GET /api/sync: the feeds followed and the last bundles imported into the store.</summary>
/// <param name="Bundles">Newest first (ROOT/.warren/bundles.json, written by warren import).</param>
public sealed record ConsoleSync(
    [property: JsonPropertyName("feeds")] IReadOnlyList<ConsoleFeed> Feeds,
    [property: JsonPropertyName("bundles")] IReadOnlyList<Warren.Storage.BundleJournalEntry> Bundles);

/// <summary>A followed feed (credentials redacted) and where following it stands.</summary>
/// <param name="Patterns">The module path globs followed; null: every path.</param>
/// <param name="IntervalSeconds">Seconds between two polls.</param>
/// <param name="Cursor">The saved position (the last feed timestamp done).</param>
/// <param name="LagSeconds">How far the position was behind the feed's newest version at the last poll.</param>
/// <param name="LastPoll">When the last pass ended; null before the first.</param>
/// <param name="LastError">The last failure (of the feed, or of a version); null when the last pass had none.</param>
/// <param name="FailedVersions">Versions that failed in the last pass (tried again in the next).</param>
public sealed record ConsoleFeed(
    [property: JsonPropertyName("feed")] string Feed,
    [property: JsonPropertyName("patterns")] string? Patterns,
    [property: JsonPropertyName("intervalSeconds")] double IntervalSeconds,
    [property: JsonPropertyName("cursor")] string? Cursor,
    [property: JsonPropertyName("lagSeconds")] double LagSeconds,
    [property: JsonPropertyName("lastPoll")] DateTimeOffset? LastPoll,
    [property: JsonPropertyName("lastError")] string? LastError,
    [property: JsonPropertyName("failedVersions")] int FailedVersions);

/// <summary>A principal of the auth file, as the console lists it: never its token or hash.</summary>
public sealed record ConsoleToken(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("grants")] IReadOnlyList<string> Grants,
    [property: JsonPropertyName("admin")] bool Admin,
    [property: JsonPropertyName("expires")] DateTimeOffset? Expires,
    [property: JsonPropertyName("expired")] bool Expired,
    [property: JsonPropertyName("created")] DateTimeOffset? Created);

/// <summary>GET /api/admin/tokens.</summary>
/// <param name="Enabled">False without an auth file (access control off): then there are no tokens to manage.</param>
public sealed record ConsoleTokens(
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("tokens")] IReadOnlyList<ConsoleToken> Tokens);

/// <summary>POST /api/admin/tokens: a principal to create.</summary>
/// <param name="Grants">GOPRIVATE-style patterns of what it may read.</param>
/// <param name="Expires">"90d", "12h", "2w", "1y" or an ISO date; null: never.</param>
public sealed record TokenCreateRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("grants")] IReadOnlyList<string>? Grants,
    [property: JsonPropertyName("admin")] bool Admin,
    [property: JsonPropertyName("expires")] string? Expires);

/// <summary>The answer to a creation: the principal and its token, shown this once and never again.</summary>
public sealed record ConsoleTokenCreated(
    [property: JsonPropertyName("principal")] ConsoleToken Principal,
    [property: JsonPropertyName("token")] string Token);

/// <summary>GET /api/admin/audit.</summary>
/// <param name="Capacity">How many recent events are kept in memory (older ones are only in the log).</param>
/// <param name="Events">Newest first.</param>
public sealed record ConsoleAudit(
    [property: JsonPropertyName("capacity")] int Capacity,
    [property: JsonPropertyName("events")] IReadOnlyList<AuditEvent> Events);

/// <summary>GET /api/admin/config: the options in effect, every secret replaced by "***".</summary>
public sealed record ConsoleConfig(
    [property: JsonPropertyName("options")] JsonObject Options);
