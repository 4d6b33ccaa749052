using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Warren.Tools.Explain;

/// <summary>One error as the go command printed it: a head line and the indented lines that continue it (server
/// responses, the downloaded and recorded hashes of a checksum mismatch, git's output).</summary>
/// <param name="Head">The first line, trimmed.</param>
/// <param name="Continuation">The indented lines that follow, trimmed.</param>
public sealed record LogEntry(string Head, IReadOnlyList<string> Continuation)
{
    /// <summary>Head and continuation lines, newline-separated (what the classification rules look at).</summary>
    public string Text => Continuation.Count == 0 ? Head : Head + "\n" + string.Join('\n', Continuation);

    /// <summary>The entry on one line: the head, then the continuation lines.</summary>
    public string OneLine => Continuation.Count == 0 ? Head : Head + " " + string.Join(' ', Continuation);
}

/// <summary>One object of a `go mod download -json` (or `go list -m -json`) stream that carries an error.</summary>
/// <param name="Path">The module path.</param>
/// <param name="Version">The version or query (may be empty).</param>
/// <param name="Error">The error text.</param>
public sealed record JsonModuleError(string Path, string Version, string Error)
{
    /// <summary>path@version, or the path alone without a version.</summary>
    public string Subject => Version.Length == 0 ? Path : Path + "@" + Version;
}

/// <summary>A build log split into what <see cref="LogExplainer"/> classifies: the go command's error entries, the
/// modules that reported an Error in a -json stream, and whether the log itself records a failed exit. Docker BuildKit
/// prefixes ("#12 3.456 "), classic builder status lines ("Step 5/9 :", " ---> "), CI timestamps and ANSI colours are
/// removed first.</summary>
public sealed partial class BuildLog
{
    private BuildLog(IReadOnlyList<LogEntry> entries, IReadOnlyList<JsonModuleError> jsonErrors, int jsonObjects, bool failureMarker)
    {
        Entries = entries;
        JsonErrors = jsonErrors;
        JsonObjects = jsonObjects;
        HasFailureMarker = failureMarker;
    }

    /// <summary>The text outside JSON objects, grouped into a head line and its indented continuation lines.</summary>
    public IReadOnlyList<LogEntry> Entries { get; }

    /// <summary>The JSON objects with an "Error" field, in log order.</summary>
    public IReadOnlyList<JsonModuleError> JsonErrors { get; }

    /// <summary>How many JSON objects the log held.</summary>
    public int JsonObjects { get; }

    /// <summary>True when the log says a command exited non-zero ("exit code: 1", "returned a non-zero code",
    /// "exit status 1" on its own line, "Process completed with exit code 1").</summary>
    public bool HasFailureMarker { get; }

    /// <summary>Splits a log.</summary>
    public static BuildLog Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new List<string>();
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            if (StripPrefix(raw) is { } line)
            {
                lines.Add(line);
            }
        }

        var entries = new List<LogEntry>();
        var jsonErrors = new List<JsonModuleError>();
        int jsonObjects = 0;
        bool marker = false;
        string? head = null;
        var continuation = new List<string>();

        void Flush()
        {
            if (head is not null)
            {
                entries.Add(new LogEntry(head, continuation.ToArray()));
            }

            head = null;
            continuation.Clear();
        }

        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (TryReadJsonObject(lines, i, out var end, out var element))
            {
                Flush();
                jsonObjects++;
                if (ModuleError(element) is { } error)
                {
                    jsonErrors.Add(error);
                }

                i = end;
                continue;
            }

            if (line.Trim().Length == 0)
            {
                Flush();
                continue;
            }

            marker |= IsFailureMarker(line);
            if (head is not null && (line[0] == '\t' || line[0] == ' '))
            {
                continuation.Add(line.Trim());
                continue;
            }

            Flush();
            head = line.Trim();
        }

        Flush();
        return new BuildLog(entries, jsonErrors, jsonObjects, marker);
    }

    /// <summary>The line without a BuildKit or CI prefix; null for lines that are the builder's own status, not the
    /// output of the command that ran.</summary>
    internal static string? StripPrefix(string raw)
    {
        var line = Ansi().Replace(raw, "");
        line = Timestamp().Replace(line, "");
        var buildKit = BuildKitPrefix().Match(line);
        if (buildKit.Success)
        {
            if (!buildKit.Groups["time"].Success)
            {
                // "#8 [builder 3/5] RUN …", "#8 DONE 1.2s", "#8 ERROR: process … exit code: 1": status, but the
                // ERROR line records the failure.
                var status = line[buildKit.Length..];
                return status.StartsWith("ERROR", StringComparison.Ordinal) ? status : null;
            }

            return line[buildKit.Length..];
        }

        if (ClassicStatus().IsMatch(line))
        {
            return null;
        }

        return line;
    }

    private static bool IsFailureMarker(string line)
    {
        var t = line.Trim();
        var exit = ExitMarker().Match(t);
        return (exit.Success && exit.Groups["code"].Value != "0")
            || t.Contains("returned a non-zero code", StringComparison.Ordinal);
    }

    /// <summary>A JSON object starting at lines[start]: either "{" alone on its line up to the next "}" alone (the
    /// go command's indented output), or a whole object on one line.</summary>
    private static bool TryReadJsonObject(List<string> lines, int start, out int end, out JsonElement element)
    {
        end = start;
        element = default;
        var first = lines[start].TrimEnd();
        if (first.Length == 0 || first[0] != '{')
        {
            return false;
        }

        var sb = new StringBuilder();
        if (first == "{")
        {
            int i = start;
            for (; i < lines.Count; i++)
            {
                sb.Append(lines[i]).Append('\n');
                if (i > start && lines[i].TrimEnd() == "}")
                {
                    break;
                }
            }

            if (i == lines.Count)
            {
                return false;
            }

            end = i;
        }
        else if (first[^1] == '}')
        {
            sb.Append(first);
        }
        else
        {
            return false;
        }

        try
        {
            using var doc = JsonDocument.Parse(sb.ToString());
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            element = doc.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static JsonModuleError? ModuleError(JsonElement o)
    {
        if (!o.TryGetProperty("Error", out var error))
        {
            return null;
        }

        var text = error.ValueKind switch
        {
            JsonValueKind.String => error.GetString(),
            JsonValueKind.Object when error.TryGetProperty("Err", out var err) && err.ValueKind == JsonValueKind.String => err.GetString(),
            _ => null,
        };
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        static string Str(JsonElement o, string name) =>
            o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";

        return new JsonModuleError(Str(o, "Path"), Str(o, "Version"), text);
    }

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial Regex Ansi();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ")]
    private static partial Regex Timestamp();

    [GeneratedRegex(@"^#\d+ (?<time>\d+\.\d+(?: |$))?")]
    private static partial Regex BuildKitPrefix();

    [GeneratedRegex(@"^(Step \d+/\d+ : | ---> |Removing intermediate container |Successfully built |Successfully tagged |Sending build context )")]
    private static partial Regex ClassicStatus();

    [GeneratedRegex(@"(^exit status (?<code>\d+)$|exit code:? (?<code>\d+)\b)")]
    private static partial Regex ExitMarker();
}
