using System.Text;
using Warren.Core.Modules;
using Warren.Core.Policy;

namespace Warren.Core.Tests.Policy;

public sealed class PolicyParserTests
{
    private static ModulePolicy Parse(string json)
    {
        var policy = PolicyParser.Parse(Encoding.UTF8.GetBytes(json), null, out var problems);
        Assert.True(policy is not null, string.Join("\n", problems));
        return policy!;
    }

    private static IReadOnlyList<string> Problems(string json, string? section = null)
    {
        var policy = PolicyParser.Parse(Encoding.UTF8.GetBytes(json), section, out var problems);
        Assert.Null(policy);
        Assert.NotEmpty(problems);
        return problems;
    }

    [Theory]
    [InlineData("<v1.2.3", "v1.2.2", true)]
    [InlineData("<v1.2.3", "v1.2.3", false)]
    [InlineData("<v1.2.3", "v1.2.3-rc.1", true)]
    [InlineData("<v1.2.3", "v1.2.3-0.20230101000000-abcdefabcdef", true)]
    [InlineData(">=v2.0.0 <v2.1.4", "v2.0.0", true)]
    [InlineData(">=v2.0.0 <v2.1.4", "v2.1.3", true)]
    [InlineData(">=v2.0.0 <v2.1.4", "v2.1.4", false)]
    [InlineData(">=v2.0.0 <v2.1.4", "v1.9.9", false)]
    [InlineData(">= v2.0.0 <= v2.1.4", "v2.1.4", true)]
    [InlineData("v1.2.3", "v1.2.3", true)]
    [InlineData("=v1.2.3", "v1.2.4", false)]
    [InlineData(">v2.0.0", "v2.0.1+incompatible", true)]
    [InlineData("*", "v0.0.1", true)]
    [InlineData("", "v9.0.0", true)]
    public void Version_ranges_hold_what_they_say(string range, string version, bool expected)
    {
        var parsed = VersionRange.TryParse(range, out var problem);
        Assert.True(parsed is not null, problem);
        Assert.Equal(expected, parsed!.Contains(version));
    }

    [Theory]
    [InlineData("<1.2.3", "not a semantic version")]
    [InlineData("<", "has no version")]
    [InlineData(">=v2.0.0 <v1.0.0", "no version satisfies it")]
    [InlineData(">v1.0.0 <v1.0.0", "no version satisfies it")]
    [InlineData("v1.2.3 <v2.0.0", "exact version cannot be combined")]
    [InlineData("~v1.2.3", "not a semantic version")]
    public void Bad_ranges_are_refused_with_the_reason(string range, string reason)
    {
        Assert.Null(VersionRange.TryParse(range, out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_with_its_line()
    {
        var problems = Problems("""
            {
              "deny": [
                { "module": "github.com/x/[y", "versions": "<v1.2.3", "reason": "bad glob" },
                { "module": "github.com/x/y", "versions": "<1.2.3", "reason": "bad range" },
                { "module": "github.com/x/y", "versions": "<v1.2.3" },
                { "module": "github.com/x/y", "reason": "r", "version": "v1.0.0" }
              ],
              "denyRetracted": "yes",
              "denyVulnerable": { "enabled": true, "exceptions": [ "GO-2023-0001", "" ] },
              "alow": []
            }
            """);
        Assert.Contains(problems, p => p.StartsWith("line 3: deny[0]: bad module glob", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("line 4: deny[1]: bad version range", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("line 5: deny[2]: missing \"reason\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("line 6: unknown key \"version\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("line 8: \"denyRetracted\" must be true or false", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("line 9: \"denyVulnerable.exceptions\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("line 10: unknown key \"alow\"", StringComparison.Ordinal));
        Assert.Equal(7, problems.Count);
    }

    [Fact]
    public void Malformed_json_names_its_line()
    {
        var problems = Problems("{\n  \"deny\": [\n    { \"module\": \"a\" \"reason\": \"b\" }\n  ]\n}\n");
        Assert.Single(problems);
        Assert.StartsWith("line 3: malformed JSON", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("line 1: duplicate key", Problems("{ \"deny\": [], \"deny\": [] }")[0], StringComparison.Ordinal);
        Assert.StartsWith("line 1: the policy must be a JSON object", Problems("[]")[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_section_of_a_larger_file_is_found_and_keeps_the_file_lines()
    {
        var json = "{\n \"Logging\": {},\n \"Warren\": {\n  \"Listen\": \"x\",\n  \"Policy\": {\n   \"denyRetracted\": 3\n  }\n }\n}";
        Assert.Equal("line 6: \"denyRetracted\" must be true or false, not a number", Problems(json, "Warren:Policy")[0]);
        var policy = PolicyParser.Parse(Encoding.UTF8.GetBytes(json.Replace("3", "true", StringComparison.Ordinal)), "Warren:Policy", out _);
        Assert.True(policy!.DenyRetracted);
        Assert.Contains("no \"Warren.Policy\" object", Problems("{}", "Warren:Policy")[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Deny_rules_match_by_glob_and_range_and_the_first_in_file_order_wins()
    {
        var policy = Parse("""
            {
              // comments are allowed
              "deny": [
                { "module": "github.com/x/y", "versions": "<v1.2.3", "reason": "first" },
                { "module": "github.com/x/*", "versions": "<v1.5.0", "reason": "second" },
                { "module": "example.com/a,example.com/b/", "reason": "third" },
              ],
            }
            """);
        Assert.Equal("first", policy.EvaluateRules("github.com/x/y", "v1.2.0").Rule!.Reason);
        Assert.Equal("second", policy.EvaluateRules("github.com/x/y", "v1.4.0").Rule!.Reason);
        Assert.Equal("second", policy.EvaluateRules("github.com/x/z/v2", "v1.0.0").Rule!.Reason);
        Assert.False(policy.EvaluateRules("github.com/x/y", "v1.5.0").Denied);
        Assert.Equal("third", policy.EvaluateRules("example.com/a/sub", "v9.0.0").Rule!.Reason);
        Assert.Equal("third", policy.EvaluateRules("example.com/b", "v0.1.0").Rule!.Reason);
        Assert.False(policy.EvaluateRules("example.com/c", "v0.1.0").Denied);
        Assert.False(policy.EvaluateRules("github.com", "v0.1.0").Denied);
        Assert.Equal("denied by policy: first (github.com/x/y v1.2.0)",
            PolicyMessages.ForRule(policy.EvaluateRules("github.com/x/y", "v1.2.0"), "github.com/x/y", "v1.2.0"));
    }

    [Fact]
    public void Allowlist_mode_denies_what_no_allow_rule_matches_and_deny_rules_still_win()
    {
        var policy = Parse("""
            { "allow": [ { "module": "example.com/good", "versions": ">=v1.1.0" }, { "module": "golang.org/x" } ],
              "deny": [ { "module": "golang.org/x/net", "versions": "v0.1.0", "reason": "broken" } ] }
            """);
        Assert.False(policy.EvaluateRules("example.com/good", "v1.1.0").Denied);
        Assert.Equal(PolicyRuleKind.Allow, policy.EvaluateRules("example.com/good", "v1.1.0").Kind);
        var old = policy.EvaluateRules("example.com/good", "v1.0.0");
        Assert.True(old.Denied);
        Assert.Equal("denied by policy: example.com/good v1.0.0 is not on the allow list", PolicyMessages.ForRule(old, "example.com/good", "v1.0.0"));
        Assert.True(policy.EvaluateRules("example.com/other", "v1.1.0").Denied);
        Assert.False(policy.EvaluateRules("golang.org/x/text", "v0.3.0").Denied);
        Assert.Equal(PolicyRuleKind.Deny, policy.EvaluateRules("golang.org/x/net", "v0.1.0").Kind);
        Assert.True(Parse("{ \"allow\": [] }").EvaluateRules("a.b/c", "v1.0.0").Denied);
    }

    [Fact]
    public void Vulnerability_exceptions_match_ids_and_aliases()
    {
        var policy = Parse("""{ "denyVulnerable": { "enabled": true, "exceptions": [ "GO-2023-0001", "CVE-2023-9999" ] }, "denyRetracted": true }""");
        Assert.True(policy.DenyVulnerable);
        Assert.True(policy.DenyRetracted);
        Assert.True(policy.IsExcepted("GO-2023-0001", []));
        Assert.True(policy.IsExcepted("GO-2023-0002", ["GHSA-xxxx", "CVE-2023-9999"]));
        Assert.False(policy.IsExcepted("GO-2023-0003", ["CVE-2023-0003"]));
        Assert.False(Parse("""{ "denyVulnerable": false }""").DenyVulnerable);
        Assert.True(Parse("{}").IsEmpty);
    }

    [Fact]
    public void A_thousand_rules_compile_and_match_like_a_linear_scan()
    {
        var rules = string.Join(",\n", Enumerable.Range(0, 1000).Select(i =>
            i % 10 == 0
                ? $$"""{ "module": "example.com/wild{{i}}/*", "versions": "<v1.{{i}}.0", "reason": "r{{i}}" }"""
                : $$"""{ "module": "example.com/m{{i}}", "versions": ">=v1.0.0 <v1.{{i}}.0", "reason": "r{{i}}" }"""));
        var policy = Parse("{ \"deny\": [\n" + rules + "\n] }");
        Assert.Equal(1000, policy.DenyRules.Count);
        foreach (var (module, version) in new[] { ("example.com/m5", "v1.4.0"), ("example.com/m5", "v1.5.0"), ("example.com/wild30/x", "v1.29.9"),
                     ("example.com/wild30/x", "v1.30.0"), ("example.com/m999/sub", "v1.998.0"), ("example.com/none", "v1.0.0") })
        {
            var expected = policy.DenyRules.FirstOrDefault(r => ModulePatterns.MatchPrefixPatterns(r.Module, module) && r.Versions.Contains(version));
            Assert.Equal(expected, policy.EvaluateRules(module, version).Rule);
        }
    }

    [Fact]
    public void Wildcard_globs_of_every_shape_match_like_a_linear_scan()
    {
        // Wildcards in the first element or later, classes, escapes, '?', comma lists mixing literal and wildcard globs,
        // and rules that overlap so that the rule order decides.
        string[] globs =
        [
            "github.com/org-*/lib", "*.corp.example", "github.com/*/mux", "golang.org/x/legacy-*", "git?ub.com/x",
            "github.com/[a-m]*/y", "example.com/a\\*b/*", "gitlab.example/team,bitbucket.example/team/*", "github.com/x/*",
            "*/x/y", "github.com/org-1/lib", "gopkg.in/*.v[0-9]", "*", "github.com/org-*/*",
        ];
        var rules = string.Join(",\n", globs.Select((g, i) =>
            $$"""{ "module": "{{g.Replace("\\", "\\\\", StringComparison.Ordinal)}}", "versions": "{{(i % 3 == 0 ? "<v1.5.0" : i % 3 == 1 ? ">=v1.2.0 <v2.0.0" : "v1.0.0")}}", "reason": "r{{i}}" }"""));
        var policy = Parse("{ \"deny\": [\n" + rules + "\n] }");
        string[] modules =
        [
            "github.com/org-1/lib", "github.com/org-22/lib/v2", "github.com/org-1/other", "api.corp.example", "api.corp.example/sub",
            "corp.example", "github.com/gorilla/mux", "github.com/a/b/mux", "golang.org/x/legacy-net", "golang.org/x/net",
            "gitXub.com/x/y", "github.com/x/y", "github.com/b/y", "github.com/z/y", "example.com/a*b/c", "example.com/aXb/c",
            "gitlab.example/team/p", "bitbucket.example/team/p", "bitbucket.example/team", "gopkg.in/yaml.v3", "gopkg.in/yaml.vX",
            "rsc.io/quote",
        ];
        foreach (var module in modules)
        {
            foreach (var version in new[] { "v0.1.0", "v1.0.0", "v1.3.0", "v1.6.0", "v2.1.0" })
            {
                var expected = policy.DenyRules.FirstOrDefault(r => ModulePatterns.MatchPrefixPatterns(r.Module, module) && r.Versions.Contains(version));
                Assert.True(expected == policy.EvaluateRules(module, version).Rule, $"{module}@{version}: want {expected?.Reason ?? "none"}");
            }
        }

        // Without the catch-all "*", some of these are allowed: the index must not invent matches either.
        var narrow = Parse("{ \"deny\": [\n" + string.Join(",\n", rules.Split(",\n").Where(r => !r.Contains("\"*\"", StringComparison.Ordinal))) + "\n] }");
        Assert.False(narrow.EvaluateRules("rsc.io/quote", "v1.0.0").Denied);
        Assert.Equal("r1", narrow.EvaluateRules("api.corp.example/sub", "v1.3.0").Rule!.Reason);
        Assert.Equal("r6", narrow.EvaluateRules("example.com/a*b/c", "v1.0.0").Rule!.Reason);
        Assert.False(narrow.EvaluateRules("example.com/aXb/c", "v1.0.0").Denied);
    }

    [Fact]
    public void Retractions_cover_single_versions_and_intervals()
    {
        var mod = "module example.com/r\n\ngo 1.19\n\nretract (\n\t// Published too early.\n\tv1.0.0\n\t[v1.1.0, v1.1.5] // Broken build.\n)\n"u8;
        var retractions = Retractions.FromGoMod("v1.2.0", mod);
        Assert.Equal("Published too early.", retractions.Find("v1.0.0")!.Rationale);
        Assert.Equal("Broken build.", retractions.Find("v1.1.3")!.Rationale);
        Assert.Null(retractions.Find("v1.1.6"));
        Assert.Null(retractions.Find("v1.2.0"));
        Assert.Contains("is retracted by its author (go.mod of v1.2.0): Broken build.",
            PolicyMessages.ForRetraction("example.com/r", "v1.1.3", "v1.2.0", retractions.Find("v1.1.3")!.Rationale), StringComparison.Ordinal);
        Assert.Empty(Retractions.FromGoMod("v1.0.0", "not a go.mod {"u8).Retracts);
    }
}
