using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace Warren.Server.Policy;

/// <summary>An inline policy given through configuration other than appsettings.json, such as environment variables
/// (WARREN_POLICY__DENY__0__MODULE=…, or Warren__Policy__deny__0__module=…), as a policy document: configuration keys
/// are case-insensitive, so the policy's own key names are restored; children numbered 0, 1, … become arrays, and "true" or
/// "false" become booleans where the policy takes a flag. Anything else is kept as it is, for the parser to report.</summary>
public static class PolicyConfiguration
{
    private static readonly string[] KnownKeys = ["deny", "allow", "denyVulnerable", "denyRetracted", "module", "versions", "reason", "enabled", "exceptions"];
    private static readonly string[] Flags = ["denyRetracted", "denyVulnerable", "enabled"];

    /// <summary>The section as an indented JSON document (one member a line, so problems name a line of it).</summary>
    public static string ToJson(IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return Convert(section, null).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonNode Convert(IConfigurationSection section, string? name)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            var value = section.Value ?? "";
            return name is not null && Flags.Contains(name, StringComparer.Ordinal) && bool.TryParse(value, out var flag)
                ? JsonValue.Create(flag)
                : JsonValue.Create(value);
        }

        var indices = children.Select(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1).ToList();
        if (indices.All(i => i >= 0) && indices.Order().SequenceEqual(Enumerable.Range(0, indices.Count)))
        {
            var array = new JsonArray();
            foreach (var child in children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)))
            {
                array.Add(Convert(child, null));
            }

            return array;
        }

        var obj = new JsonObject();
        foreach (var child in children)
        {
            var key = KnownKeys.FirstOrDefault(k => string.Equals(k, child.Key, StringComparison.OrdinalIgnoreCase)) ?? child.Key;
            obj[key] = Convert(child, key);
        }

        return obj;
    }
}
