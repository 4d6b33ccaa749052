using System.Text.Json.Serialization;

namespace Warren.Tools.Audit;

/// <summary>How serious a kind of finding is, for --fail-on: a finding fails the audit when its level is at or above
/// the chosen one (vuln &gt; retracted &gt; deprecated &gt; drift); none never fails. Updates are information only.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AuditLevel>))]
public enum AuditLevel
{
    None = 0,
    Drift = 1,
    Deprecated = 2,
    Retracted = 3,
    Vuln = 4,
}

/// <summary>The output formats of `warren audit`.</summary>
public enum AuditFormat
{
    Text,
    Json,
    Sarif,
}

/// <summary>The kinds of finding, as they appear in every format.</summary>
public static class AuditKinds
{
    public const string Vuln = "vuln";
    public const string Retracted = "retracted";
    public const string Deprecated = "deprecated";
    public const string Drift = "drift";
    public const string Update = "update";

    /// <summary>The --fail-on level of a kind (updates: none, they never fail an audit).</summary>
    public static AuditLevel LevelOf(string kind) => kind switch
    {
        Vuln => AuditLevel.Vuln,
        Retracted => AuditLevel.Retracted,
        Deprecated => AuditLevel.Deprecated,
        Drift => AuditLevel.Drift,
        _ => AuditLevel.None,
    };

    public static bool TryParseLevel(string text, out AuditLevel level)
    {
        switch (text)
        {
            case "vuln": level = AuditLevel.Vuln; return true;
            case "retracted": level = AuditLevel.Retracted; return true;
            case "deprecated": level = AuditLevel.Deprecated; return true;
            case "drift": level = AuditLevel.Drift; return true;
            case "none": level = AuditLevel.None; return true;
            default: level = AuditLevel.None; return false;
        }
    }
}

/// <summary>Where a requirement is written: the go.mod file and the 1-based line and column of its module path.</summary>
public sealed record AuditLocation(string File, int Line, int Column, int EndColumn);

/// <summary>One finding of an audit about one module version in one repository.</summary>
/// <param name="Kind">vuln, retracted, deprecated, drift or update (<see cref="AuditKinds"/>).</param>
/// <param name="Repository">The name of the repository (as listed in <see cref="AuditResult.Repositories"/>).</param>
/// <param name="Module">The module path in the build list (after replace directives).</param>
/// <param name="Version">The version in the build list.</param>
/// <param name="Message">One line for people.</param>
public sealed record AuditFinding(string Kind, string Repository, string Module, string Version, string Message)
{
    /// <summary>True when the finding is at or above --fail-on (it makes the exit code 1).</summary>
    public bool Fails { get; init; }

    public AuditLocation? Location { get; init; }

    /// <summary>vuln: the advisory ID (GO-YYYY-NNNN).</summary>
    public string? Advisory { get; init; }

    /// <summary>vuln: CVE and GHSA identifiers.</summary>
    public IReadOnlyList<string>? Aliases { get; init; }

    /// <summary>vuln: the advisory's summary.</summary>
    public string? Summary { get; init; }

    /// <summary>vuln: the version the advisory names as fixing the version in use (null: no fix published).</summary>
    public string? FixedVersion { get; init; }

    /// <summary>vuln: the packages of the module the advisory names (empty: the whole module).</summary>
    public IReadOnlyList<string>? AffectedPackages { get; init; }

    /// <summary>vuln: whether the repository's own Go files import an affected package (package level, not call level).</summary>
    public bool? Imported { get; init; }

    /// <summary>vuln: the affected packages the repository imports.</summary>
    public IReadOnlyList<string>? ImportedPackages { get; init; }

    /// <summary>vuln: the lowest version in the module's version list at or above the fix that no advisory affects and
    /// that is not retracted (null: none is listed yet).</summary>
    public string? SmallestFix { get; init; }

    /// <summary>vuln: whether <see cref="SmallestFix"/> has the same major version as the version in use.</summary>
    public bool? FixWithinMajor { get; init; }

    /// <summary>retracted: the rationale comment of the retract directive ("" when there is none).</summary>
    public string? Rationale { get; init; }

    /// <summary>deprecated: the deprecation message.</summary>
    public string? Deprecation { get; init; }

    /// <summary>drift: the version of this module in each repository that requires it.</summary>
    public IReadOnlyDictionary<string, string>? Versions { get; init; }

    /// <summary>update (and others when known): the highest version with the same major version, not retracted.</summary>
    public string? LatestWithinMajor { get; init; }
}

/// <summary>One audited repository: a module, or the modules of a go.work.</summary>
/// <param name="Name">A short unique name (the directory's name, numbered when two are alike).</param>
/// <param name="Path">The directory.</param>
/// <param name="GoModFiles">The go.mod files read.</param>
/// <param name="Requirements">How many modules of its build list were audited.</param>
public sealed record AuditRepositorySummary(string Name, string Path, IReadOnlyList<string> GoModFiles, int Requirements);

/// <summary>A module at different versions across the repositories: one row of the drift table.</summary>
public sealed record AuditDrift(string Module, IReadOnlyDictionary<string, string> Versions);

/// <summary>Everything an audit found.</summary>
public sealed record AuditResult(
    IReadOnlyList<AuditRepositorySummary> Repositories,
    IReadOnlyList<AuditFinding> Findings,
    IReadOnlyList<AuditDrift> Drift,
    IReadOnlyList<string> Errors,
    AuditLevel FailOn,
    string? VulnDb)
{
    /// <summary>What every format says about the precision of the vulnerability findings.</summary>
    public const string PrecisionNote = "vulnerability findings are package-level: a finding means an affected package is in the build list "
        + "(and, when imported=yes, imported by the repository's own Go files); govulncheck adds call-graph precision (whether an affected "
        + "function is reachable).";

    /// <summary>2 when anything could not be read or looked up, 1 when a finding is at or above --fail-on, else 0.</summary>
    public int ExitCode => Errors.Count > 0 ? AuditExitCodes.Error : Findings.Any(f => f.Fails) ? AuditExitCodes.Findings : AuditExitCodes.Ok;
}

/// <summary>The exit codes of `warren audit`.</summary>
public static class AuditExitCodes
{
    public const int Ok = 0;
    public const int Findings = 1;
    public const int Error = 2;
}
