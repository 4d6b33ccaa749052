namespace Warren.Core.Policy;

/// <summary>The one-line reasons a denied download answers with; the go command prints them under "server response:".</summary>
public static class PolicyMessages
{
    public const string Prefix = "denied by policy: ";

    /// <summary>A deny rule matched, or (rule null) allowlist mode found no allow rule for the version.</summary>
    public static string ForRule(PolicyVerdict verdict, string modulePath, string version) =>
        verdict.Rule is { Kind: PolicyRuleKind.Deny } rule
            ? $"{Prefix}{rule.Reason} ({modulePath} {version})"
            : $"{Prefix}{modulePath} {version} is not on the allow list";

    /// <summary>An advisory affects the version: "GO-2023-1234 (CVE-…) affects M V; fixed in V2".</summary>
    public static string ForVulnerability(string advisory, string modulePath, string version, string? fixedVersion) =>
        $"{Prefix}{advisory} affects {modulePath} {version}; " + (fixedVersion is null ? "no fixed version" : "fixed in " + fixedVersion);

    /// <summary>The module's latest go.mod retracts the version.</summary>
    public static string ForRetraction(string modulePath, string version, string latest, string rationale) =>
        $"{Prefix}{modulePath} {version} is retracted by its author (go.mod of {latest})" + (rationale.Length > 0 ? ": " + OneLine(rationale) : "");

    private static string OneLine(string text) => text.Replace('\r', ' ').Replace('\n', ' ').Trim();
}
