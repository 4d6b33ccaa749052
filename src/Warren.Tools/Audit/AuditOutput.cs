using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Spectre.Console;
using Warren.Tools.Reporting;

namespace Warren.Tools.Audit;

/// <summary>The three renderings of an audit: text (a table on a terminal, one line per finding elsewhere), JSON and
/// SARIF 2.1.0.</summary>
public static class AuditOutput
{
    /// <summary>The check of a lookup or input error in the text report.</summary>
    public const string ErrorCheck = "error";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static async Task WriteAsync(AuditResult result, AuditFormat format, TextWriter output, ReportStyle style)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        switch (format)
        {
            case AuditFormat.Json:
                await output.WriteLineAsync(ToJson(result)).ConfigureAwait(false);
                break;
            case AuditFormat.Sarif:
                await output.WriteLineAsync(ToSarif(result)).ConfigureAwait(false);
                break;
            default:
                WriteText(result, output, style);
                break;
        }
    }

    /// <summary>
    /// The findings as a report (<see cref="Report"/>): on a terminal a table (then the drift table, module ×
    /// repository), elsewhere one line per finding: VERDICT KIND MODULE@VERSION EVIDENCE FIX, tab-separated, where
    /// VERDICT is FAIL at or above --fail-on, WARN below it and PASS for available updates; errors are FAIL lines of kind
    /// "error". Then the summary and the precision note.
    /// </summary>
    public static void WriteText(AuditResult result, TextWriter output, ReportStyle style)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(style);
        ToReport(result).Write(output, style);
        if (style.Terminal && result.Drift.Count > 0)
        {
            var console = style.CreateConsole(output);
            var table = new Table().Border(TableBorder.Rounded).Title("drift: module × repository");
            table.AddColumn(new TableColumn("module").NoWrap());
            var names = result.Repositories.Select(r => r.Name).Where(n => result.Drift.Any(d => d.Versions.ContainsKey(n))).ToList();
            foreach (var name in names)
            {
                table.AddColumn(new TableColumn(Markup.Escape(name)).NoWrap());
            }

            foreach (var row in result.Drift)
            {
                table.AddRow([new Text(row.Module), .. names.Select(n => new Text(row.Versions.TryGetValue(n, out var v) ? v : "-"))]);
            }

            console.Write(table);
        }

        output.WriteLine(Summary(result));
        if (result.VulnDb is not null)
        {
            output.WriteLine("note: " + AuditResult.PrecisionNote);
        }
    }

    /// <summary>The findings as report lines (subject module@version, evidence prefixed with the repository).</summary>
    public static Report ToReport(AuditResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var lines = new List<Finding>();
        lines.AddRange(result.Errors.Select(e => new Finding(ErrorCheck, Verdict.Fail, e)));
        foreach (var f in result.Findings)
        {
            var verdict = f.Fails ? Verdict.Fail : f.Kind == AuditKinds.Update ? Verdict.Pass : Verdict.Warn;
            var check = f.Advisory is null ? f.Kind : f.Kind + "." + f.Advisory;
            lines.Add(new Finding(check, verdict, $"{f.Repository}: {f.Message}", Fix(f), $"{f.Module}@{f.Version}"));
        }

        return new Report("audit", lines);
    }

    private static string? Fix(AuditFinding f) => f.Kind switch
    {
        AuditKinds.Vuln when f.SmallestFix is not null => $"go get {f.Module}@{f.SmallestFix}",
        AuditKinds.Vuln => f.FixedVersion is null ? "no fix published: remove the dependency or accept the risk" : $"wait for {f.FixedVersion} on the proxy",
        AuditKinds.Retracted when f.LatestWithinMajor is not null => $"go get {f.Module}@{f.LatestWithinMajor}",
        AuditKinds.Retracted => "move to a version that is not retracted",
        AuditKinds.Deprecated => "replace the module as its deprecation message says",
        AuditKinds.Drift => "align the repositories on one version",
        AuditKinds.Update => $"go get {f.Module}@{f.LatestWithinMajor}",
        _ => null,
    };

    private static string Summary(AuditResult result)
    {
        int Count(string kind) => result.Findings.Count(f => f.Kind == kind);
        var vulns = result.Findings.Where(f => f.Kind == AuditKinds.Vuln).ToList();
        var failOn = result.FailOn.ToString().ToLowerInvariant();
        return $"audit: {result.Repositories.Count} repositories, {result.Repositories.Sum(r => r.Requirements)} requirements; "
            + $"{vulns.Count} vulnerable ({vulns.Count(v => v.Imported == true)} imported), {Count(AuditKinds.Retracted)} retracted, "
            + $"{Count(AuditKinds.Deprecated)} deprecated, {result.Drift.Count} drifting modules, {Count(AuditKinds.Update)} updates; "
            + $"{result.Errors.Count} errors; --fail-on {failOn}: exit {result.ExitCode}"
            + (result.VulnDb is null ? "; vulnerabilities not checked (--vulndb off)" : "");
    }

    /// <summary>{"command", "failOn", "exitCode", "note", "vulnDb", "repositories", "findings", "drift", "errors"}.</summary>
    public static string ToJson(AuditResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return JsonSerializer.Serialize(new
        {
            command = "audit",
            failOn = result.FailOn,
            exitCode = result.ExitCode,
            note = AuditResult.PrecisionNote,
            vulnDb = result.VulnDb,
            repositories = result.Repositories,
            findings = result.Findings,
            drift = result.Drift,
            errors = result.Errors,
        }, Json);
    }

    /// <summary>
    /// A SARIF 2.1.0 log with one run: a rule per kind of finding (one per advisory for vulnerabilities), a result per
    /// finding located at the require line of the go.mod (relative to the repository, whose directory is the uriBaseId
    /// REPOn), level error at or above --fail-on, warning below, note for updates; errors are tool execution notifications.
    /// </summary>
    public static string ToSarif(AuditResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var rules = new JsonArray();
        var ruleIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        int Rule(AuditFinding f)
        {
            var id = RuleId(f);
            if (ruleIndex.TryGetValue(id, out var index))
            {
                return index;
            }

            var (name, description) = f.Kind switch
            {
                AuditKinds.Vuln => ("VulnerableModuleVersion", f.Summary is { Length: > 0 } s ? s : "A known vulnerability affects this module version."),
                AuditKinds.Retracted => ("RetractedVersion", "The module's author retracted this version (a retract directive in the latest go.mod)."),
                AuditKinds.Deprecated => ("DeprecatedModule", "The module is deprecated (a Deprecated: comment in its latest go.mod)."),
                AuditKinds.Drift => ("VersionDrift", "The same module is required at different versions across the audited repositories."),
                _ => ("UpdateAvailable", "A higher version with the same major version is available."),
            };
            var rule = new JsonObject
            {
                ["id"] = id,
                ["name"] = name,
                ["shortDescription"] = new JsonObject { ["text"] = f.Advisory is null ? description : $"{f.Advisory}: {description}" },
                ["fullDescription"] = new JsonObject { ["text"] = f.Kind == AuditKinds.Vuln ? description + " " + AuditResult.PrecisionNote : description },
                ["defaultConfiguration"] = new JsonObject
                {
                    ["level"] = f.Kind == AuditKinds.Update ? "note" : AuditKinds.LevelOf(f.Kind) >= result.FailOn && result.FailOn != AuditLevel.None ? "error" : "warning",
                },
                ["properties"] = new JsonObject { ["tags"] = new JsonArray("dependencies", f.Kind) },
            };
            if (f.Advisory is not null)
            {
                rule["helpUri"] = "https://pkg.go.dev/vuln/" + Uri.EscapeDataString(f.Advisory);
                rule["help"] = new JsonObject { ["text"] = $"See https://pkg.go.dev/vuln/{f.Advisory}; aliases: {string.Join(", ", f.Aliases ?? [])}." };
            }

            rules.Add(rule);
            ruleIndex[id] = rules.Count - 1;
            return rules.Count - 1;
        }

        var baseIds = new JsonObject();
        var baseIdOf = new Dictionary<string, (string Id, string Root)>(StringComparer.Ordinal);
        for (var i = 0; i < result.Repositories.Count; i++)
        {
            var repository = result.Repositories[i];
            var id = "REPO" + i.ToString(CultureInfo.InvariantCulture);
            baseIdOf[repository.Name] = (id, repository.Path);
            baseIds[id] = new JsonObject
            {
                ["uri"] = new Uri(repository.Path.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar).AbsoluteUri,
                ["description"] = new JsonObject { ["text"] = "repository " + repository.Name },
            };
        }

        var results = new JsonArray();
        foreach (var f in result.Findings)
        {
            var index = Rule(f);
            var item = new JsonObject
            {
                ["ruleId"] = RuleId(f),
                ["ruleIndex"] = index,
                ["level"] = f.Fails ? "error" : f.Kind == AuditKinds.Update ? "note" : "warning",
                ["message"] = new JsonObject { ["text"] = $"{f.Module}@{f.Version} in {f.Repository}: {f.Message}" },
                ["partialFingerprints"] = new JsonObject { ["warrenAudit/v1"] = $"{f.Repository}:{f.Kind}:{f.Advisory}:{f.Module}@{f.Version}" },
                ["properties"] = JsonSerializer.SerializeToNode(f, Json),
            };
            if (f.Location is { } location && baseIdOf.TryGetValue(f.Repository, out var baseId))
            {
                var relative = Path.GetRelativePath(baseId.Root, location.File).Replace(Path.DirectorySeparatorChar, '/');
                item["locations"] = new JsonArray(new JsonObject
                {
                    ["physicalLocation"] = new JsonObject
                    {
                        ["artifactLocation"] = new JsonObject
                        {
                            ["uri"] = string.Join('/', relative.Split('/').Select(Uri.EscapeDataString)),
                            ["uriBaseId"] = baseId.Id,
                        },
                        ["region"] = new JsonObject
                        {
                            ["startLine"] = location.Line,
                            ["startColumn"] = location.Column,
                            ["endLine"] = location.Line,
                            ["endColumn"] = location.EndColumn,
                        },
                    },
                });
            }

            results.Add(item);
        }

        var notifications = new JsonArray();
        foreach (var error in result.Errors)
        {
            notifications.Add(new JsonObject { ["level"] = "error", ["message"] = new JsonObject { ["text"] = error } });
        }

        var log = new JsonObject
        {
            ["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json",
            ["version"] = "2.1.0",
            ["runs"] = new JsonArray(new JsonObject
            {
                ["tool"] = new JsonObject
                {
                    ["driver"] = new JsonObject
                    {
                        ["name"] = "warren audit",
                        ["rules"] = rules,
                    },
                },
                ["invocations"] = new JsonArray(new JsonObject
                {
                    ["executionSuccessful"] = result.Errors.Count == 0,
                    ["exitCode"] = result.ExitCode,
                    ["toolExecutionNotifications"] = notifications,
                }),
                ["originalUriBaseIds"] = baseIds,
                ["results"] = results,
                ["properties"] = new JsonObject { ["note"] = AuditResult.PrecisionNote, ["failOn"] = result.FailOn.ToString().ToLowerInvariant() },
            }),
        };
        return log.ToJsonString(Json);
    }

    private static string RuleId(AuditFinding f) => f.Advisory is null ? f.Kind : f.Kind + "/" + f.Advisory;
}
