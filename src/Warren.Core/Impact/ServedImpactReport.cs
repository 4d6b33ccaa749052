using System.Text.Json.Serialization;

namespace Warren.Core.Impact;

/// <summary>Who is affected: every version a proxy served within a period that an advisory of its vulnerability
/// database affects, with the clients that downloaded it. The JSON of GET /admin/impact.</summary>
/// <param name="Since">The first UTC day counted.</param>
/// <param name="GeneratedAt">When the report was made.</param>
/// <param name="DatabaseAvailable">False when the proxy has no vulnerability database (loaded): then nothing can be found.</param>
/// <param name="Versions">Affected versions, by module path then semantic version.</param>
public sealed record ServedImpactReport(
    [property: JsonPropertyName("since")] DateOnly Since,
    [property: JsonPropertyName("generatedAt")] DateTimeOffset GeneratedAt,
    [property: JsonPropertyName("databaseAvailable")] bool DatabaseAvailable,
    [property: JsonPropertyName("versions")] IReadOnlyList<AffectedServedVersion> Versions);

/// <summary>One served version with the advisories affecting it and who downloaded it.</summary>
public sealed record AffectedServedVersion(
    [property: JsonPropertyName("module")] string Module,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("advisories")] IReadOnlyList<ImpactAdvisory> Advisories,
    [property: JsonPropertyName("clients")] IReadOnlyList<ImpactClient> Clients);

/// <summary>An advisory as the report names it: ID, aliases (CVE, GHSA), summary and the smallest fixed version above
/// the affected one (null when no fix is known).</summary>
public sealed record ImpactAdvisory(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string> Aliases,
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("fixed")] string? Fixed);

/// <summary>A client (token name, or "anonymous") that downloaded a version: how often, when last, from which nodes.</summary>
public sealed record ImpactClient(
    [property: JsonPropertyName("client")] string Client,
    [property: JsonPropertyName("downloads")] long Downloads,
    [property: JsonPropertyName("lastDownload")] DateTimeOffset LastDownload,
    [property: JsonPropertyName("nodes")] IReadOnlyList<string> Nodes);
