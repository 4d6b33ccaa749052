using System.Globalization;
using Warren.Core.Modules;

namespace Warren.Core.Policy;

/// <summary>Reads and validates a policy document:
/// <code>
/// {
///   "deny":  [ { "module": "github.com/x/y", "versions": "&lt;v1.2.3", "reason": "CVE-2023-1111, upgrade" } ],
///   "allow": [ { "module": "github.com/corp/*,golang.org/x", "versions": "&gt;=v0.10.0" } ],
///   "denyVulnerable": { "enabled": true, "exceptions": [ "GO-2023-1234" ] },
///   "denyRetracted": true
/// }
/// </code>
/// Every problem is reported, one line each, as "line N: problem"; nothing is compiled unless there are none.</summary>
public static class PolicyParser
{
    private static readonly string[] TopKeys = ["deny", "allow", "denyVulnerable", "denyRetracted"];
    private static readonly string[] DenyKeys = ["module", "versions", "reason"];
    private static readonly string[] VulnerableKeys = ["enabled", "exceptions"];

    /// <summary>Parses a policy file's bytes (or, with section, the object at that ':'-separated path in it, such as
    /// "Warren:Policy" of appsettings.json).</summary>
    public static ModulePolicy? Parse(ReadOnlySpan<byte> utf8, string? section, out IReadOnlyList<string> problems)
    {
        var root = PolicyJson.Parse(utf8, out var problem);
        if (root is null)
        {
            problems = [problem!];
            return null;
        }

        if (section is not null)
        {
            var node = PolicyJson.Find(root, section);
            if (node is null)
            {
                problems = [$"line {root.Line}: no \"{section.Replace(':', '.')}\" object"];
                return null;
            }

            root = node;
        }

        return FromNode(root, out problems);
    }

    /// <summary>Validates and compiles a parsed policy object.</summary>
    public static ModulePolicy? FromNode(PolicyNode root, out IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(root);
        var found = new List<string>();
        problems = found;
        if (root.Kind != PolicyNodeKind.Object)
        {
            found.Add($"line {root.Line}: the policy must be a JSON object, not {root.Describe()}");
            return null;
        }

        List<PolicyRule> deny = [];
        List<PolicyRule>? allow = null;
        var denyVulnerable = false;
        List<string> exceptions = [];
        var denyRetracted = false;
        foreach (var member in root.Members)
        {
            switch (member.Name)
            {
                case "deny":
                    deny = Rules(member, PolicyRuleKind.Deny, found);
                    break;
                case "allow":
                    allow = Rules(member, PolicyRuleKind.Allow, found);
                    break;
                case "denyVulnerable":
                    denyVulnerable = Vulnerable(member.Value, exceptions, found);
                    break;
                case "denyRetracted":
                    denyRetracted = Flag(member.Value, "denyRetracted", found);
                    break;
                default:
                    found.Add(UnknownKey(member, TopKeys));
                    break;
            }
        }

        return found.Count > 0 ? null : new ModulePolicy(deny, allow, denyVulnerable, exceptions, denyRetracted);
    }

    private static List<PolicyRule> Rules(PolicyMember member, PolicyRuleKind kind, List<string> found)
    {
        var rules = new List<PolicyRule>();
        if (member.Value.Kind != PolicyNodeKind.Array)
        {
            found.Add($"line {member.Value.Line}: \"{member.Name}\" must be an array of rules, not {member.Value.Describe()}");
            return rules;
        }

        for (var i = 0; i < member.Value.Items.Count; i++)
        {
            var item = member.Value.Items[i];
            var where = string.Create(CultureInfo.InvariantCulture, $"{member.Name}[{i}]");
            if (item.Kind != PolicyNodeKind.Object)
            {
                found.Add($"line {item.Line}: {where} must be an object with \"module\"{(kind == PolicyRuleKind.Deny ? ", \"versions\" and \"reason\"" : " and \"versions\"")}, not {item.Describe()}");
                continue;
            }

            string? module = null;
            var versions = VersionRange.Any;
            string? reason = null;
            var ok = true;
            foreach (var field in item.Members)
            {
                switch (field.Name)
                {
                    case "module":
                        module = Text(field, where, found);
                        if (module is null)
                        {
                            ok = false;
                        }
                        else if (module.Trim().Length == 0 || !ModulePatterns.SplitGlobs(module.Trim()).Any())
                        {
                            found.Add($"line {field.Line}: {where}: empty module pattern");
                            ok = false;
                        }
                        else if (ModulePatterns.Validate(module.Trim()) is { } bad)
                        {
                            found.Add($"line {field.Line}: {where}: bad module glob: {bad}");
                            ok = false;
                        }

                        break;
                    case "versions":
                        var text = Text(field, where, found);
                        if (text is null)
                        {
                            ok = false;
                        }
                        else if (VersionRange.TryParse(text, out var rangeProblem) is { } range)
                        {
                            versions = range;
                        }
                        else
                        {
                            found.Add($"line {field.Line}: {where}: {rangeProblem}");
                            ok = false;
                        }

                        break;
                    case "reason":
                        reason = Text(field, where, found);
                        if (reason is null)
                        {
                            ok = false;
                        }
                        else if (reason.Trim().Length == 0)
                        {
                            found.Add($"line {field.Line}: {where}: empty reason (say why, it is shown to the developer)");
                            ok = false;
                        }
                        else if (reason.Contains('\n', StringComparison.Ordinal) || reason.Contains('\r', StringComparison.Ordinal))
                        {
                            found.Add($"line {field.Line}: {where}: the reason must be one line");
                            ok = false;
                        }

                        break;
                    default:
                        found.Add($"{UnknownKey(field, DenyKeys)} in {where}");
                        ok = false;
                        break;
                }
            }

            if (module is null && ok)
            {
                found.Add($"line {item.Line}: {where}: missing \"module\"");
                ok = false;
            }

            if (kind == PolicyRuleKind.Deny && reason is null && ok)
            {
                found.Add($"line {item.Line}: {where}: missing \"reason\" (say why, it is shown to the developer)");
                ok = false;
            }

            if (ok)
            {
                rules.Add(new PolicyRule(kind, i, module!.Trim(), versions, reason?.Trim(), item.Line));
            }
        }

        return rules;
    }

    private static bool Vulnerable(PolicyNode value, List<string> exceptions, List<string> found)
    {
        if (value.Kind == PolicyNodeKind.Boolean)
        {
            return value.Text == "true";
        }

        if (value.Kind != PolicyNodeKind.Object)
        {
            found.Add($"line {value.Line}: \"denyVulnerable\" must be an object {{\"enabled\": true, \"exceptions\": [\"GO-…\"]}} or a boolean, not {value.Describe()}");
            return false;
        }

        var enabled = false;
        var hasEnabled = false;
        foreach (var member in value.Members)
        {
            switch (member.Name)
            {
                case "enabled":
                    hasEnabled = true;
                    enabled = Flag(member.Value, "denyVulnerable.enabled", found);
                    break;
                case "exceptions":
                    if (member.Value.Kind != PolicyNodeKind.Array)
                    {
                        found.Add($"line {member.Value.Line}: \"denyVulnerable.exceptions\" must be an array of advisory IDs, not {member.Value.Describe()}");
                        break;
                    }

                    foreach (var item in member.Value.Items)
                    {
                        if (item.Kind != PolicyNodeKind.String || string.IsNullOrWhiteSpace(item.Text) || item.Text.Trim().Any(char.IsWhiteSpace))
                        {
                            found.Add($"line {item.Line}: \"denyVulnerable.exceptions\": want an advisory ID such as \"GO-2023-1234\" (or a CVE/GHSA alias), not {(item.Kind == PolicyNodeKind.String ? "\"" + item.Text + "\"" : item.Describe())}");
                        }
                        else
                        {
                            exceptions.Add(item.Text.Trim());
                        }
                    }

                    break;
                default:
                    found.Add($"{UnknownKey(member, VulnerableKeys)} in denyVulnerable");
                    break;
            }
        }

        if (!hasEnabled)
        {
            found.Add($"line {value.Line}: \"denyVulnerable\": missing \"enabled\" (true or false)");
        }

        return enabled;
    }

    private static bool Flag(PolicyNode value, string name, List<string> found)
    {
        if (value.Kind != PolicyNodeKind.Boolean)
        {
            found.Add($"line {value.Line}: \"{name}\" must be true or false, not {value.Describe()}");
            return false;
        }

        return value.Text == "true";
    }

    private static string? Text(PolicyMember field, string where, List<string> found)
    {
        if (field.Value.Kind != PolicyNodeKind.String)
        {
            found.Add($"line {field.Value.Line}: {where}: \"{field.Name}\" must be a string, not {field.Value.Describe()}");
            return null;
        }

        return field.Value.Text;
    }

    private static string UnknownKey(PolicyMember member, string[] known)
    {
        var near = known.FirstOrDefault(k => string.Equals(k, member.Name, StringComparison.OrdinalIgnoreCase));
        return $"line {member.Line}: unknown key \"{member.Name}\"" + (near is not null ? $" (did you mean \"{near}\"?)" : $" (known: {string.Join(", ", known)})");
    }
}
