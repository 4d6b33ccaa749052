using System.Text.RegularExpressions;
using Warren.Tools.Reporting;

namespace Warren.Tools.Explain;

/// <summary>The classification ids of <see cref="LogExplainer"/> (the Check of its findings).</summary>
public static class ExplainIds
{
    public const string NetTimeout = "net.timeout";
    public const string NetDns = "net.dns";
    public const string NetTls = "net.tls";
    public const string NetRefused = "net.refused";
    public const string Auth = "auth";
    public const string NotFound = "notfound";
    public const string Gone = "gone";
    public const string UnknownRevision = "version.unknown-revision";
    public const string InvalidVersion = "version.invalid";
    public const string ProxyError = "proxy.error";
    public const string ChecksumMismatch = "checksum.mismatch";
    public const string SumDbUnreachable = "sumdb.unreachable";
    public const string SumDbPrivatePath = "sumdb.private-path";
    public const string DiskFull = "disk.full";
    public const string GoSumMissing = "gosum.missing";
    public const string MissingRequirement = "gomod.missing-requirement";
    public const string FalseSuccess = "false-success";
    public const string Unknown = "unknown";
    public const string FailedWithoutCause = "exit.unexplained";
}

/// <summary>`warren explain`: classifies every failure in the output of go mod download (-json), go build, go get or a
/// Docker build log running them, each with its cause and a concrete fix.</summary>
public static partial class LogExplainer
{
    /// <summary>Explains a log.</summary>
    /// <param name="text">The log.</param>
    /// <param name="exitCode">The exit code of the command that printed it, when known. A -json stream with Error
    /// fields and exit code 0 (or, without an exit code, a log that records no failed exit) is a false success.</param>
    public static Report Explain(string text, int? exitCode = null)
    {
        var log = BuildLog.Parse(text);
        var findings = new List<Finding>();
        bool checksumSeen = false;
        foreach (var entry in log.Entries)
        {
            if (Classify(entry) is { } finding)
            {
                checksumSeen |= finding.Check == ExplainIds.ChecksumMismatch;
                findings.Add(finding);
            }
        }

        // "SECURITY ERROR" alone (the explanation paragraph of a mismatch whose first lines were cut off).
        if (!checksumSeen && log.Entries.FirstOrDefault(e => e.Head.StartsWith("SECURITY ERROR", StringComparison.Ordinal)) is { } security)
        {
            findings.Add(new Finding(ExplainIds.ChecksumMismatch, Verdict.Fail, security.Head, Fixes.Checksum(null)));
        }

        foreach (var error in log.JsonErrors)
        {
            var entry = ToEntry(error.Error);
            var finding = Classify(entry, unknownAlways: true)!;
            findings.Add(finding with { Subject = error.Path.Length > 0 ? error.Subject : finding.Subject });
        }

        bool exitedZero = exitCode is { } code ? code == 0 : !log.HasFailureMarker;
        if (exitedZero)
        {
            foreach (var error in log.JsonErrors)
            {
                var evidence = ToEntry(error.Error).OneLine;
                findings.Add(new Finding(ExplainIds.FalseSuccess, Verdict.Fail, evidence,
                    $"the command exited 0 although {error.Subject} failed: stop swallowing the exit code (`|| true` in a Dockerfile RUN, a script without `set -e`) and fail the build on JSON objects with an Error field",
                    error.Subject));
            }
        }

        if (exitCode is { } failed && failed != 0 && findings.Count == 0)
        {
            findings.Add(new Finding(ExplainIds.FailedWithoutCause, Verdict.Warn, $"the command exited {failed} but the log shows no failure warren explain recognises",
                "read the complete output (stderr too: `2>&1`); in Docker use --progress=plain to see every line"));
        }

        return new Report("explain", findings.Distinct().ToList());
    }

    private static LogEntry ToEntry(string error)
    {
        var lines = error.ReplaceLineEndings("\n").Split('\n').Where(l => l.Trim().Length > 0).ToList();
        return new LogEntry(lines[0].Trim(), lines.Skip(1).Select(l => l.Trim()).ToArray());
    }

    /// <summary>The finding for one error entry; null for lines that are not errors (progress, explanations). With
    /// unknownAlways, an unrecognised entry is an "unknown" warning even when it does not look like a go error.</summary>
    internal static Finding? Classify(LogEntry entry, bool unknownAlways = false)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var text = entry.Text;
        var evidence = entry.OneLine;
        var subject = Subject(text);
        var host = Host(text);

        Finding Fail(string id, string fix) => new(id, Verdict.Fail, evidence, fix, subject);

        if (Has(text, "no space left on device"))
        {
            return Fail(ExplainIds.DiskFull, Fixes.DiskFull);
        }

        if (Has(text, "checksum mismatch"))
        {
            return Fail(ExplainIds.ChecksumMismatch, Fixes.Checksum(subject));
        }

        if (Has(text, "missing go.sum entry") || Has(text, "updates to go.sum needed"))
        {
            return Fail(ExplainIds.GoSumMissing, Fixes.GoSumMissing(text, subject));
        }

        if (Has(text, "no required module provides package") || (Has(text, "cannot find module providing package") && Has(text, "import lookup disabled")))
        {
            var package = ProvidesPackage().Match(text) is { Success: true } p ? p.Groups["package"].Value : null;
            return Fail(ExplainIds.MissingRequirement, Fixes.MissingRequirement(package)) with { Subject = subject ?? package };
        }

        if (IsSumDbLookup(text))
        {
            var db = SumDbHost(text) ?? "the checksum database";
            if (Network(text) is not null || ServerError().IsMatch(text))
            {
                return Fail(ExplainIds.SumDbUnreachable, Fixes.SumDbUnreachable(db, Network(text)));
            }

            if (Has(text, "404 Not Found") || Has(text, "410 Gone") || Has(text, "not found:") || Has(text, "invalid version")
                || Has(text, "could not read Username") || Has(text, "terminal prompts disabled"))
            {
                return Fail(ExplainIds.SumDbPrivatePath, Fixes.PrivatePath(subject, db));
            }
        }

        if (Network(text) is { } network)
        {
            bool plainHttp = Has(text, "first record does not look like a TLS handshake") || Has(text, "server gave HTTP response to HTTPS client");
            return Fail(network, plainHttp ? Fixes.PlainHttp(host) : Fixes.Network(network, host));
        }

        if (Has(text, "401 Unauthorized") || Has(text, "403 Forbidden") || Has(text, "terminal prompts disabled")
            || Has(text, "could not read Username") || Has(text, "could not read Password") || Has(text, "Authentication failed")
            || Has(text, "Permission denied (publickey)"))
        {
            return Fail(ExplainIds.Auth, Fixes.Auth(host));
        }

        if (ServerError().Match(text) is { Success: true } status)
        {
            return Fail(ExplainIds.ProxyError, Fixes.ProxyError(host, status.Groups["code"].Value));
        }

        if (Has(text, "unknown revision") || (Has(text, "invalid version") && (Has(text, "404 Not Found") || Has(text, "410 Gone") || Has(text, "not found"))))
        {
            return Fail(ExplainIds.UnknownRevision, Fixes.UnknownRevision(subject));
        }

        if (Has(text, "no matching versions for query") || Has(text, "invalid version") || Has(text, "malformed module path"))
        {
            return Fail(ExplainIds.InvalidVersion, Fixes.InvalidVersion(subject));
        }

        if (Has(text, "410 Gone"))
        {
            return Fail(ExplainIds.Gone, Fixes.Gone(subject, host));
        }

        if (Has(text, "404 Not Found") || Has(text, "server response: not found:"))
        {
            return Fail(ExplainIds.NotFound, Fixes.NotFound(subject, host));
        }

        if (Has(text, "invalid response from proxy"))
        {
            return Fail(ExplainIds.ProxyError, Fixes.ProxyError(host, "response"));
        }

        if (unknownAlways || LooksLikeGoError(entry.Head))
        {
            return new Finding(ExplainIds.Unknown, Verdict.Warn, evidence, "not a failure warren explain recognises: read the full go output around this line", subject);
        }

        return null;
    }

    private static bool Has(string text, string s) => text.Contains(s, StringComparison.Ordinal);

    /// <summary>The network failure id, or null.</summary>
    private static string? Network(string text)
    {
        if (Has(text, "connection refused") || Has(text, "connection reset by peer") || Has(text, "Connection refused"))
        {
            return ExplainIds.NetRefused;
        }

        if (Has(text, "no such host") || Has(text, "server misbehaving") || Has(text, "Could not resolve host")
            || Has(text, "Temporary failure in name resolution"))
        {
            return ExplainIds.NetDns;
        }

        if (Has(text, "i/o timeout") || Has(text, "Client.Timeout exceeded") || Has(text, "context deadline exceeded")
            || Has(text, "TLS handshake timeout") || Has(text, "connection timed out") || Has(text, "Operation timed out"))
        {
            return ExplainIds.NetTimeout;
        }

        if (Has(text, "x509: ") || Has(text, "tls: ") || Has(text, "SSL certificate problem") || Has(text, "server gave HTTP response to HTTPS client"))
        {
            return ExplainIds.NetTls;
        }

        return null;
    }

    /// <summary>A failure while asking the checksum database about a module (modfetch's checkSumDB: "verifying
    /// module: …", "verifying go.mod: …"; or a URL of the database's lookup endpoint).</summary>
    private static bool IsSumDbLookup(string text) =>
        Has(text, "verifying module:") || Has(text, "verifying go.mod:") || Has(text, "/lookup/")
        || Has(text, "could not verify") || Has(text, "sum.golang.org");

    private static bool LooksLikeGoError(string head)
    {
        if (!head.StartsWith("go: ", StringComparison.Ordinal))
        {
            return head.StartsWith("verifying ", StringComparison.Ordinal);
        }

        var rest = head.AsSpan(4);
        foreach (var progress in ProgressWords)
        {
            if (rest.StartsWith(progress, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static readonly string[] ProgressWords =
        ["downloading ", "finding ", "found ", "added ", "upgraded ", "downgraded ", "removed ", "extracting ", "to add module requirements"];

    /// <summary>The module@version (or module@query) the error is about; a "module PATH:" without a version; null.</summary>
    internal static string? Subject(string text)
    {
        string? fallback = null;
        foreach (Match m in ModuleAtVersion().Matches(text))
        {
            var path = m.Groups["path"].Value;
            var version = m.Groups["version"].Value;
            if (!path.Split('/')[0].Contains('.', StringComparison.Ordinal))
            {
                continue;
            }

            if (SemVerLike().IsMatch(version))
            {
                return path + "@" + version;
            }

            fallback ??= path + "@" + version;
        }

        if (fallback is not null)
        {
            return fallback;
        }

        return ModuleColon().Match(text) is { Success: true } module ? module.Groups["path"].Value : null;
    }

    /// <summary>host[:port] of the first URL or dial target in the text.</summary>
    internal static string? Host(string text)
    {
        if (Url().Match(text) is { Success: true } url)
        {
            return url.Groups["host"].Value;
        }

        if (Dial().Match(text) is { Success: true } dial)
        {
            return dial.Groups["host"].Value;
        }

        return null;
    }

    /// <summary>The checksum database's host: the host of a URL ending in /lookup/…, else sum.golang.org when named.</summary>
    private static string? SumDbHost(string text)
    {
        if (LookupUrl().Match(text) is { Success: true } m)
        {
            return m.Groups["host"].Value;
        }

        return Has(text, "sum.golang.org") ? "sum.golang.org" : null;
    }

    [GeneratedRegex(@"(?<![\w.@/~-])(?<path>[A-Za-z0-9][\w.~-]*(?:/[\w.~+-]+)*)@(?<version>[\w.+~-]*[\w+~-])(?:/go\.mod)?(?=[:\s""')]|$)")]
    private static partial Regex ModuleAtVersion();

    [GeneratedRegex(@"(?:no required module provides|cannot find module providing) package (?<package>[^\s;:]+)")]
    private static partial Regex ProvidesPackage();

    [GeneratedRegex(@"^v\d+\.\d+\.\d+")]
    private static partial Regex SemVerLike();

    [GeneratedRegex(@"\bmodule (?<path>[A-Za-z0-9][\w.~-]*\.[\w.~-]*(?:/[\w.~+-]+)*):")]
    private static partial Regex ModuleColon();

    [GeneratedRegex(@"https?://(?<host>[^/\s""':]+(?::\d+)?)")]
    private static partial Regex Url();

    [GeneratedRegex(@"https?://(?<host>[^/\s""']+)[^\s""']*/lookup/")]
    private static partial Regex LookupUrl();

    [GeneratedRegex(@"dial tcp (?:lookup )?(?<host>[^\s:]+(?::\d+)?)")]
    private static partial Regex Dial();

    [GeneratedRegex(@":\s(?<code>5\d\d) [A-Z]")]
    private static partial Regex ServerError();
}
