using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Warren.Tools.Audit;

namespace Warren.Tools.Tests.Audit;

/// <summary>`warren audit` (the library) against a loopback GOPROXY and vulnerability database built by the test.</summary>
public sealed class AuditTests(AuditWorld world) : IClassFixture<AuditWorld>
{
    private static readonly HttpClient Http = ToolHttp.Shared.CreateClient(ToolHttp.Audit);

    private Task<AuditResult> AuditAsync(AuditLevel failOn, params string[] inputs) => AuditAsync(failOn, world.VulnDbUrl, inputs);

    private Task<AuditResult> AuditAsync(AuditLevel failOn, Uri? vulnDb, params string[] inputs) =>
        Auditor.AuditAsync(new AuditOptions(inputs, world.ProxyUrl) { VulnDb = vulnDb, FailOn = failOn, Jobs = 4 }, Http, CancellationToken.None);

    [Fact]
    public async Task Finds_vulnerabilities_retractions_deprecations_drift_and_updates_across_two_repositories()
    {
        var result = await AuditAsync(AuditLevel.Vuln, world.RepoA, world.RepoB);

        Assert.Empty(result.Errors);
        Assert.Equal(["alpha", "beta"], result.Repositories.Select(r => r.Name));
        Assert.Equal([Path.Combine(world.RepoB, "svc", "go.mod")], result.Repositories[1].GoModFiles);

        // The advisory on an imported package; its fix v1.2.0 is itself affected by another advisory, so the smallest
        // fixing upgrade is v1.2.1.
        var parse = Single(result, AuditKinds.Vuln, "alpha", AuditWorld.Vulnerable, AuditWorld.ParseAdvisory);
        Assert.Equal("v1.0.0", parse.Version);
        Assert.Equal(["CVE-2099-1111", "GHSA-aaaa-bbbb-cccc"], parse.Aliases);
        Assert.Equal("v1.2.0", parse.FixedVersion);
        Assert.True(parse.Imported);
        Assert.Equal([AuditWorld.Vulnerable + "/parse"], parse.ImportedPackages);
        Assert.Equal("v1.2.1", parse.SmallestFix);
        Assert.True(parse.FixWithinMajor);
        Assert.True(parse.Fails);
        Assert.Contains("affected package imported: yes", parse.Message, StringComparison.Ordinal);

        // Not imported (only test files, testdata, vendor and a nested module import it); the fix leaves major v0.
        var major = Single(result, AuditKinds.Vuln, "alpha", AuditWorld.MajorFix, AuditWorld.MajorAdvisory);
        Assert.False(major.Imported);
        Assert.Empty(major.ImportedPackages!);
        Assert.Equal("v1.0.0", major.FixedVersion);
        Assert.Equal("v1.0.0", major.SmallestFix);
        Assert.False(major.FixWithinMajor);
        Assert.Contains("affected package imported: no", major.Message, StringComparison.Ordinal);

        // A replaced module is audited at its replacement, and its packages are imported under the original path.
        var fork = Single(result, AuditKinds.Vuln, "alpha", AuditWorld.Fork, AuditWorld.ForkAdvisory);
        Assert.Equal("v1.0.0", fork.Version);
        Assert.True(fork.Imported);
        Assert.Equal([AuditWorld.Replaced + "/util"], fork.ImportedPackages);
        Assert.Equal("v1.0.1", fork.SmallestFix);

        // Nothing else is vulnerable: not v1.3.0 (B), not the withdrawn advisory, not the second advisory for v1.0.0.
        Assert.Equal(3, result.Findings.Count(f => f.Kind == AuditKinds.Vuln));
        Assert.DoesNotContain(result.Findings, f => f.Advisory is AuditWorld.WithdrawnAdvisory or AuditWorld.SecondAdvisory);
        Assert.DoesNotContain(result.Findings, f => f.Module == AuditWorld.Local);

        var retracted = Single(result, AuditKinds.Retracted, "alpha", AuditWorld.Retracted);
        Assert.Equal("v1.1.0", retracted.Version);
        Assert.Equal(AuditWorld.RetractionRationale, retracted.Rationale);
        Assert.Equal("v1.2.0", retracted.LatestWithinMajor);
        Assert.False(retracted.Fails);
        Assert.DoesNotContain(result.Findings, f => f.Kind == AuditKinds.Retracted && f.Repository == "beta");

        var deprecated = Single(result, AuditKinds.Deprecated, "alpha", AuditWorld.Deprecated);
        Assert.Equal(AuditWorld.DeprecationMessage, deprecated.Deprecation);

        // Drift: module × repository.
        Assert.Equal([AuditWorld.Retracted, AuditWorld.Vulnerable], result.Drift.Select(d => d.Module));
        Assert.Equal("v1.1.0", result.Drift[0].Versions["alpha"]);
        Assert.Equal("v1.0.0", result.Drift[0].Versions["beta"]);
        Assert.Equal("v1.3.0", result.Drift[1].Versions["beta"]);
        Assert.Equal(4, result.Findings.Count(f => f.Kind == AuditKinds.Drift));

        // Updates within the major version: never a pre-release of another major, never a retracted version.
        Assert.Equal("v1.3.0", Single(result, AuditKinds.Update, "alpha", AuditWorld.Vulnerable).LatestWithinMajor);
        Assert.Equal("v1.2.0", Single(result, AuditKinds.Update, "beta", AuditWorld.Retracted).LatestWithinMajor);
        Assert.DoesNotContain(result.Findings, f => f.Kind == AuditKinds.Update && f.Module == AuditWorld.MajorFix);
        Assert.DoesNotContain(result.Findings, f => f.Kind == AuditKinds.Update && f.Repository == "beta" && f.Module == AuditWorld.Vulnerable);

        // Locations: the require line of the go.mod.
        var text = File.ReadAllLines(Path.Combine(world.RepoA, "go.mod"));
        var location = parse.Location!;
        Assert.Equal(Path.Combine(world.RepoA, "go.mod"), location.File);
        Assert.Equal(AuditWorld.Vulnerable, text[location.Line - 1][(location.Column - 1)..(location.EndColumn - 1)]);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Each_module_is_looked_up_once_however_many_repositories_require_it()
    {
        var listBefore = world.Proxy.HitsFor(AuditWorld.Retracted + "/@v/list");
        var modBefore = world.Proxy.HitsFor(AuditWorld.Retracted + "/@v/v1.2.0.mod");

        var result = await AuditAsync(AuditLevel.Vuln, world.RepoA, world.RepoB, world.RepoD);

        Assert.Empty(result.Errors);
        Assert.Equal(1, world.Proxy.HitsFor(AuditWorld.Retracted + "/@v/list") - listBefore);
        Assert.Equal(1, world.Proxy.HitsFor(AuditWorld.Retracted + "/@v/v1.2.0.mod") - modBefore);
    }

    [Fact]
    public async Task Exit_codes_follow_fail_on()
    {
        // A and B: every kind of finding.
        foreach (var level in Enum.GetValues<AuditLevel>())
        {
            var all = await AuditAsync(level, world.RepoA, world.RepoB);
            Assert.True(all.ExitCode == (level == AuditLevel.None ? 0 : 1), $"{level}: exit {all.ExitCode}");
        }

        // Without the database: retracted is the worst.
        Assert.Equal(0, (await AuditAsync(AuditLevel.Vuln, (Uri?)null, world.RepoA, world.RepoB)).ExitCode);
        Assert.Equal(1, (await AuditAsync(AuditLevel.Retracted, (Uri?)null, world.RepoA, world.RepoB)).ExitCode);

        // A deprecated module only.
        Assert.Equal(0, (await AuditAsync(AuditLevel.Retracted, world.RepoC)).ExitCode);
        Assert.Equal(1, (await AuditAsync(AuditLevel.Deprecated, world.RepoC)).ExitCode);
        Assert.Equal(1, (await AuditAsync(AuditLevel.Drift, world.RepoC)).ExitCode);

        // Drift only (B and D pin the retracted module at two versions that are not retracted).
        var drift = await AuditAsync(AuditLevel.Deprecated, world.RepoB, world.RepoD);
        Assert.Equal(0, drift.ExitCode);
        Assert.Single(drift.Drift);
        Assert.Equal(1, (await AuditAsync(AuditLevel.Drift, world.RepoB, world.RepoD)).ExitCode);
        Assert.Equal(0, (await AuditAsync(AuditLevel.None, world.RepoB, world.RepoD)).ExitCode);
    }

    [Fact]
    public async Task Errors_exit_2()
    {
        // An input that does not exist.
        var missing = await AuditAsync(AuditLevel.None, world.RepoA, Path.Combine(world.Root, "nowhere"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains(missing.Errors, e => e.Contains("nowhere", StringComparison.Ordinal));

        // A proxy that does not answer.
        var dead = await Auditor.AuditAsync(new AuditOptions([world.RepoC], new Uri($"http://127.0.0.1:{Loopback.FreePort()}/")) { FailOn = AuditLevel.None }, Http, CancellationToken.None);
        Assert.Equal(2, dead.ExitCode);
        Assert.Contains(dead.Errors, e => e.Contains("127.0.0.1", StringComparison.Ordinal));

        // A database without its index, and a module the proxy does not know.
        var noIndex = await AuditAsync(AuditLevel.None, new Uri(world.ProxyUrl, "novuln/"), world.RepoC);
        Assert.Equal(2, noIndex.ExitCode);
        Assert.Contains(noIndex.Errors, e => e.Contains("index/modules.json", StringComparison.Ordinal));

        var unknown = Path.Combine(world.Root, "repos", "unknown");
        Directory.CreateDirectory(unknown);
        await File.WriteAllTextAsync(Path.Combine(unknown, "go.mod"), "module example.test/unknown\n\ngo 1.19\n\nrequire example.test/nosuch v1.0.0\n");
        var notFound = await AuditAsync(AuditLevel.None, unknown);
        Assert.Equal(2, notFound.ExitCode);
        Assert.Contains(notFound.Errors, e => e.Contains("example.test/nosuch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_file_url_database_and_proxy_give_the_same_findings()
    {
        var http = await AuditAsync(AuditLevel.Vuln, world.RepoA, world.RepoB);
        var files = await Auditor.AuditAsync(new AuditOptions([world.RepoA, world.RepoB], new Uri(world.ProxyDir + "/"))
        {
            VulnDb = new Uri(world.VulnDir + "/"),
        }, Http, CancellationToken.None);

        Assert.Empty(files.Errors);
        Assert.Equal(
            JsonSerializer.Serialize(http.Findings.Select(f => f with { Versions = null })),
            JsonSerializer.Serialize(files.Findings.Select(f => f with { Versions = null })));
    }

    [Fact]
    public async Task Json_lists_findings_drift_and_the_precision_note()
    {
        var result = await AuditAsync(AuditLevel.Vuln, world.RepoA, world.RepoB);
        using var doc = JsonDocument.Parse(AuditOutput.ToJson(result));
        var root = doc.RootElement;

        Assert.Equal(1, root.GetProperty("exitCode").GetInt32());
        Assert.Equal("vuln", root.GetProperty("failOn").GetString());
        Assert.Contains("govulncheck", root.GetProperty("note").GetString(), StringComparison.Ordinal);
        var vuln = root.GetProperty("findings").EnumerateArray().Single(f => f.TryGetProperty("advisory", out var a) && a.GetString() == AuditWorld.ParseAdvisory);
        Assert.True(vuln.GetProperty("imported").GetBoolean());
        Assert.Equal("v1.2.1", vuln.GetProperty("smallestFix").GetString());
        Assert.True(vuln.GetProperty("fixWithinMajor").GetBoolean());
        Assert.Equal(2, root.GetProperty("drift").GetArrayLength());
    }

    [Fact]
    public async Task Sarif_validates_against_the_2_1_0_schema_with_go_mod_locations()
    {
        var result = await AuditAsync(AuditLevel.Retracted, world.RepoA, world.RepoB);
        var sarif = AuditOutput.ToSarif(result);

        var evaluation = Validate(sarif);
        Assert.True(evaluation.IsValid, Describe(evaluation));

        var run = JsonNode.Parse(sarif)!["runs"]![0]!;
        var rules = run["tool"]!["driver"]!["rules"]!.AsArray().Select(r => (string)r!["id"]!).ToList();
        Assert.Equal(rules.Distinct().Count(), rules.Count);
        Assert.Contains("vuln/" + AuditWorld.ParseAdvisory, rules);
        Assert.Contains("vuln/" + AuditWorld.MajorAdvisory, rules);
        Assert.Contains("retracted", rules);
        Assert.Contains("deprecated", rules);
        Assert.Contains("drift", rules);

        var results = run["results"]!.AsArray();
        Assert.Equal(result.Findings.Count, results.Count);
        var vuln = results.Single(r => (string)r!["ruleId"]! == "vuln/" + AuditWorld.ParseAdvisory)!;
        Assert.Equal("error", (string)vuln["level"]!);
        Assert.Equal(rules.IndexOf("vuln/" + AuditWorld.ParseAdvisory), (int)vuln["ruleIndex"]!);
        var physical = vuln["locations"]![0]!["physicalLocation"]!;
        Assert.Equal("go.mod", (string)physical["artifactLocation"]!["uri"]!);
        var baseId = (string)physical["artifactLocation"]!["uriBaseId"]!;
        Assert.Equal(new Uri(world.RepoA + "/").AbsoluteUri, (string)run["originalUriBaseIds"]![baseId]!["uri"]!);
        var line = File.ReadAllLines(Path.Combine(world.RepoA, "go.mod"))[(int)physical["region"]!["startLine"]! - 1];
        Assert.StartsWith(AuditWorld.Vulnerable + " v1.0.0", line[((int)physical["region"]!["startColumn"]! - 1)..], StringComparison.Ordinal);
        Assert.Equal("error", (string)results.Single(r => (string)r!["ruleId"]! == "retracted")!["level"]!);
        Assert.Equal("warning", (string)results.First(r => (string)r!["ruleId"]! == "deprecated")!["level"]!);

        // B's result points into its workspace module.
        var beta = results.First(r => (string)r!["properties"]!["repository"]! == "beta")!;
        Assert.Equal("svc/go.mod", (string)beta["locations"]![0]!["physicalLocation"]!["artifactLocation"]!["uri"]!);

        // The validator does reject what the schema forbids.
        var broken = JsonNode.Parse(sarif)!;
        broken["runs"]![0]!["results"]![0]!["locations"]![0]!["physicalLocation"]!["region"]!["startLine"] = 0;
        Assert.False(Validate(broken.ToJsonString()).IsValid);
        var errorsToo = AuditOutput.ToSarif(await AuditAsync(AuditLevel.Vuln, world.RepoA, Path.Combine(world.Root, "nowhere")));
        Assert.True(Validate(errorsToo).IsValid);
    }

    /// <summary>The OASIS SARIF 2.1.0 schema (shipped with the tests) is written for JSON Schema draft 4; the validator
    /// speaks draft 6 and later. The schema uses no keyword whose meaning changed after draft 4 (exclusiveMinimum and
    /// exclusiveMaximum do not occur), so only the dialect is changed (and the top-level draft-4 id, unused by its local references, is dropped).</summary>
    private static readonly Lazy<JsonSchema> SarifSchema = new(() =>
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Audit", "sarif-schema-2.1.0.json"));
        Assert.DoesNotContain("exclusiveM", text, StringComparison.Ordinal);
        var node = JsonNode.Parse(text)!.AsObject();
        node["$schema"] = "http://json-schema.org/draft-07/schema#";
        node.Remove("id");
        return JsonSchema.FromText(node.ToJsonString());
    });

    private static EvaluationResults Validate(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return SarifSchema.Value.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
    }

    private static string Describe(EvaluationResults results) =>
        string.Join("\n", (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")).Take(20));

    private static AuditFinding Single(AuditResult result, string kind, string repository, string module, string? advisory = null) =>
        Assert.Single(result.Findings, f => f.Kind == kind && f.Repository == repository && f.Module == module && (advisory is null || f.Advisory == advisory));
}
