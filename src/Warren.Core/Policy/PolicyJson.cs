using System.Text;
using System.Text.Json;

namespace Warren.Core.Policy;

/// <summary>The kind of a <see cref="PolicyNode"/>.</summary>
public enum PolicyNodeKind
{
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
}

/// <summary>A JSON value that remembers the line it starts on, so that every problem in a policy names its line.</summary>
public sealed class PolicyNode
{
    public PolicyNode(PolicyNodeKind kind, int line)
    {
        Kind = kind;
        Line = line;
    }

    public PolicyNodeKind Kind { get; }

    /// <summary>1-based line of the value's first character.</summary>
    public int Line { get; }

    /// <summary>The text of a string, number or boolean ("true"/"false").</summary>
    public string? Text { get; init; }

    /// <summary>The members of an object, in order, each with the line of its name.</summary>
    public IReadOnlyList<PolicyMember> Members { get; init; } = [];

    /// <summary>The items of an array.</summary>
    public IReadOnlyList<PolicyNode> Items { get; init; } = [];

    /// <summary>"an object", "a string" … for messages.</summary>
    public string Describe() => Kind switch
    {
        PolicyNodeKind.Object => "an object",
        PolicyNodeKind.Array => "an array",
        PolicyNodeKind.String => "a string",
        PolicyNodeKind.Number => "a number",
        PolicyNodeKind.Boolean => "a boolean",
        _ => "null",
    };
}

/// <summary>One member of a JSON object: its name, the line of the name, its value.</summary>
public sealed record PolicyMember(string Name, int Line, PolicyNode Value);

/// <summary>Reads JSON into <see cref="PolicyNode"/>s with line numbers. Comments and trailing commas are accepted (a
/// policy file is edited by hand); duplicate member names are refused.</summary>
public static class PolicyJson
{
    /// <summary>At most this many bytes of policy (a file of 10 000 rules is far below it).</summary>
    public const int MaxBytes = 16 << 20;

    private const int MaxDepth = 32;

    /// <summary>The document's root, or null with the problem ("line N: …") when it is not well-formed JSON.</summary>
    public static PolicyNode? Parse(ReadOnlySpan<byte> utf8, out string? problem)
    {
        problem = null;
        if (utf8.Length > MaxBytes)
        {
            problem = $"line 1: the policy is larger than {MaxBytes} bytes";
            return null;
        }

        if (utf8.StartsWith("\xEF\xBB\xBF"u8))
        {
            utf8 = utf8[3..];
        }

        var lines = new LineIndex(utf8);
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            MaxDepth = MaxDepth,
        });
        try
        {
            if (!reader.Read())
            {
                problem = "line 1: the policy is empty (want a JSON object)";
                return null;
            }

            var root = ReadValue(ref reader, lines, out problem);
            if (root is not null && reader.Read())
            {
                problem = $"line {lines.LineOf(reader.TokenStartIndex)}: more than one JSON value";
                return null;
            }

            return problem is null ? root : null;
        }
        catch (JsonException ex)
        {
            problem = $"line {(ex.LineNumber ?? 0) + 1}: malformed JSON: {FirstSentence(ex.Message)}";
            return null;
        }
    }

    /// <summary>The member at a ':'-separated path of object names (e.g. "Warren:Policy", case-insensitive as
    /// configuration keys are), or null.</summary>
    public static PolicyNode? Find(PolicyNode root, string path)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(path);
        var node = root;
        foreach (var name in path.Split(':'))
        {
            if (node.Kind != PolicyNodeKind.Object)
            {
                return null;
            }

            PolicyNode? next = null;
            foreach (var member in node.Members)
            {
                if (string.Equals(member.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    next = member.Value;
                }
            }

            if (next is null)
            {
                return null;
            }

            node = next;
        }

        return node;
    }

    private static PolicyNode? ReadValue(ref Utf8JsonReader reader, LineIndex lines, out string? problem)
    {
        problem = null;
        var line = lines.LineOf(reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            {
                var members = new List<PolicyMember>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var nameLine = lines.LineOf(reader.TokenStartIndex);
                    var name = reader.GetString()!;
                    if (!seen.Add(name))
                    {
                        problem = $"line {nameLine}: duplicate key \"{name}\"";
                        return null;
                    }

                    reader.Read();
                    var value = ReadValue(ref reader, lines, out problem);
                    if (value is null)
                    {
                        return null;
                    }

                    members.Add(new PolicyMember(name, nameLine, value));
                }

                return new PolicyNode(PolicyNodeKind.Object, line) { Members = members };
            }

            case JsonTokenType.StartArray:
            {
                var items = new List<PolicyNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var item = ReadValue(ref reader, lines, out problem);
                    if (item is null)
                    {
                        return null;
                    }

                    items.Add(item);
                }

                return new PolicyNode(PolicyNodeKind.Array, line) { Items = items };
            }

            case JsonTokenType.String:
                return new PolicyNode(PolicyNodeKind.String, line) { Text = reader.GetString() };
            case JsonTokenType.Number:
                return new PolicyNode(PolicyNodeKind.Number, line) { Text = Encoding.UTF8.GetString(reader.ValueSpan) };
            case JsonTokenType.True:
                return new PolicyNode(PolicyNodeKind.Boolean, line) { Text = "true" };
            case JsonTokenType.False:
                return new PolicyNode(PolicyNodeKind.Boolean, line) { Text = "false" };
            case JsonTokenType.Null:
                return new PolicyNode(PolicyNodeKind.Null, line);
            default:
                problem = $"line {line}: unexpected {reader.TokenType}";
                return null;
        }
    }

    private static string FirstSentence(string message)
    {
        // System.Text.Json appends " LineNumber: N | BytePositionInLine: M." — the line is reported separately.
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var text = (cut > 0 ? message[..cut] : message).Trim();
        return text.Replace('\n', ' ').TrimEnd('.');
    }

    /// <summary>Byte offset → 1-based line number.</summary>
    private sealed class LineIndex
    {
        private readonly List<long> _starts = [0];

        public LineIndex(ReadOnlySpan<byte> utf8)
        {
            for (var i = 0; i < utf8.Length; i++)
            {
                if (utf8[i] == (byte)'\n')
                {
                    _starts.Add(i + 1);
                }
            }
        }

        public int LineOf(long offset)
        {
            var index = _starts.BinarySearch(offset);
            return (index >= 0 ? index : ~index - 1) + 1;
        }
    }
}
