using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Warren.Fetch.Direct.Git;

namespace Warren.Server.ConsoleData;

/// <summary>The options in effect as JSON, every secret replaced by "***": values of secret-named settings (git
/// credentials, passwords, tokens, keys, headers) whole, and in every other string the URL user information,
/// Authorization values, token-like query parameters, connection-string passwords and every secret the
/// <see cref="SecretRedactor"/> knows.</summary>
public sealed partial class ConsoleConfigView(IOptions<WarrenOptions> options, SecretRedactor redactor)
{
    public const string Redacted = "***";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public ConsoleConfig Current()
    {
        var node = JsonSerializer.SerializeToNode(options.Value, Json)?.AsObject() ?? [];
        Redact(node, secret: false);
        return new ConsoleConfig(node);
    }

    private void Redact(JsonNode? node, bool secret)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj.ToList())
                {
                    var isSecret = secret || SecretName().IsMatch(name);
                    if (child is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                    {
                        obj[name] = isSecret ? Redacted : Text(value.GetValue<string>());
                    }
                    else
                    {
                        Redact(child, isSecret);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                    {
                        array[i] = secret ? Redacted : Text(value.GetValue<string>());
                    }
                    else
                    {
                        Redact(array[i], secret);
                    }
                }

                break;
        }
    }

    private string Text(string text) => ConnectionStringPassword().Replace(redactor.Redact(text), "$1=" + Redacted);

    [GeneratedRegex("(?i)(credential|password|passwd|secret|token|apikey|api_key|privatekey|header)", RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"(?i)\b(password|pwd|secret|access_?key|secret_?key)\s*=[^;\s]*", RegexOptions.CultureInvariant)]
    private static partial Regex ConnectionStringPassword();
}
