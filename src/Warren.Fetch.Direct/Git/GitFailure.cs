using System.Text;
using System.Text.RegularExpressions;

namespace Warren.Fetch.Direct.Git;

/// <summary>Removes secrets from text bound for messages and logs: URL user information, Authorization values, token-like
/// query parameters (access_token=, token=, ...) and every known secret (also percent-encoded and inside a
/// basic-authentication value). <see cref="RedactText"/> does the first three for components that know no secrets.</summary>
public sealed partial class SecretRedactor
{
    private readonly List<string> _secrets = [];
    private readonly Lock _gate = new();

    /// <summary>Registers a secret; strings shorter than 4 characters are not registered (they would mangle ordinary text).</summary>
    public void Add(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length < 4)
        {
            return;
        }

        lock (_gate)
        {
            foreach (var form in new[] { secret, Uri.EscapeDataString(secret) })
            {
                if (!_secrets.Contains(form, StringComparer.Ordinal))
                {
                    _secrets.Add(form);
                }
            }

            // Longest first, so a secret containing another is removed whole.
            _secrets.Sort((a, b) => b.Length.CompareTo(a.Length));
        }
    }

    public void Add(GitCredential? credential)
    {
        if (credential is null)
        {
            return;
        }

        Add(credential.Password);
        Add(Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.Username + ":" + credential.Password)));
    }

    /// <summary>URL user information, Authorization header values and token-like query parameters become "***".</summary>
    public static string RedactText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = UserInfo().Replace(text, "$1***@");
        text = AuthorizationHeader().Replace(text, "$1 ***");
        return TokenParameter().Replace(text, "$1***");
    }

    public string Redact(string text)
    {
        text = RedactText(text);
        lock (_gate)
        {
            foreach (var s in _secrets)
            {
                text = text.Replace(s, "***", StringComparison.Ordinal);
            }
        }

        return text;
    }

    // Greedy up to the last '@' before the path: a password may hold an unescaped '@'. Stops at ',' and '|', the
    // separators of a GOPROXY list, so the next entry's host stays visible.
    [GeneratedRegex(@"([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s'"",|]+@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfo();

    [GeneratedRegex(@"(?i)(authorization:\s*(?:basic|bearer|token))\s+\S+", RegexOptions.CultureInvariant)]
    private static partial Regex AuthorizationHeader();

    [GeneratedRegex(@"(?i)([?&;](?:access_token|private_token|token|auth|password|passwd|pwd|secret|api_key|apikey|key|sig|signature|x-amz-signature|x-amz-credential)=)[^&#\s'""]+", RegexOptions.CultureInvariant)]
    private static partial Regex TokenParameter();
}

/// <summary>Turns a failed git network operation into a one-line <see cref="DirectResult"/>, the way the go command
/// reports them: refused or missing credentials and missing repositories are "not found"; unreachable hosts are
/// infrastructure failures; time limits are timeouts.</summary>
public static class GitFailure
{
    private static readonly string[] AuthSigns =
    [
        "authentication failed", "could not read username", "could not read password", "terminal prompts disabled",
        "returned error: 401", "returned error: 403", "http 401", "http 403", "401 unauthorized", "403 forbidden",
        "invalid username or password", "invalid credentials", "permission denied (publickey", "access denied",
    ];

    private static readonly string[] TimeoutSigns = ["timed out", "timeout was reached"];

    private static readonly string[] NetworkSigns =
    [
        "could not resolve host", "could not resolve proxy", "connection refused", "failed to connect", "couldn't connect",
        "network is unreachable", "no route to host", "connection reset", "empty reply from server", "ssl", "tls",
        "certificate", "host key verification failed", "proxy", "returned error: 5", "recv failure", "send failure",
        "unexpected disconnect", "the remote end hung up",
    ];

    private static readonly string[] NotFoundSigns =
    [
        "repository not found", "not found", "returned error: 404", "returned error: 410", "does not appear to be a git repository",
        "no such repository", "does not exist",
    ];

    /// <summary>Classifies a finished, failed run. operation is e.g. "git fetch https://host/repo" (already without
    /// secrets).</summary>
    public static DirectResult Classify(string operation, GitRun run, TimeSpan timeout, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(redactor);
        if (run.TimedOut)
        {
            return DirectResult.TimedOut($"{operation}: timed out after {Describe(timeout)}");
        }

        var stderr = run.Stderr ?? "";
        var lower = stderr.ToLowerInvariant();
        var detail = redactor.Redact(LastError(stderr));
        if (AuthSigns.Any(lower.Contains))
        {
            return DirectResult.NotFound($"{operation}: authentication failed (no credentials or credentials refused)");
        }

        if (TimeoutSigns.Any(lower.Contains))
        {
            return DirectResult.TimedOut($"{operation}: {detail}");
        }

        if (NetworkSigns.Any(lower.Contains))
        {
            return DirectResult.Failed($"{operation}: {detail}");
        }

        if (NotFoundSigns.Any(lower.Contains))
        {
            return DirectResult.NotFound($"{operation}: repository not found");
        }

        return DirectResult.Failed($"{operation}: exit status {run.ExitCode}{(detail.Length > 0 ? ": " + detail : "")}");
    }

    /// <summary>The most telling stderr line (the last "fatal:"/"error:" line, else the last line), one line, bounded.</summary>
    internal static string LastError(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = lines.LastOrDefault(l => l.StartsWith("fatal:", StringComparison.Ordinal) || l.StartsWith("error:", StringComparison.Ordinal))
            ?? lines.LastOrDefault() ?? "";
        foreach (var prefix in new[] { "fatal: ", "error: " })
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                line = line[prefix.Length..];
            }
        }

        line = new string(line.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    internal static string Describe(TimeSpan t) =>
        t.TotalMinutes >= 1 && t.Seconds == 0 ? $"{(int)t.TotalMinutes}m" : t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.#}s" : $"{t.TotalMilliseconds:0}ms";
}
