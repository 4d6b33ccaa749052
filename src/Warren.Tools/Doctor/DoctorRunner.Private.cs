using Warren.Fetch.Direct.Git;
using Warren.Tools.Reporting;

namespace Warren.Tools.Doctor;

public sealed partial class DoctorRunner
{
    private static readonly string[] KnownGitHosts = ["github.com", "gitlab.com", "bitbucket.org"];

    /// <summary>The repository a module path lives in as the go command guesses it without discovery: the first three
    /// elements on the big hosts, up to a ".git" element when there is one, else the path without a /vN suffix.</summary>
    internal static string RepositoryUrl(string modulePath)
    {
        var parts = modulePath.Split('/');
        if (KnownGitHosts.Contains(parts[0]) && parts.Length >= 3)
        {
            return "https://" + string.Join('/', parts.Take(3));
        }

        var git = Array.FindIndex(parts, p => p.EndsWith(".git", StringComparison.Ordinal));
        if (git > 0)
        {
            return "https://" + string.Join('/', parts.Take(git + 1));
        }

        if (parts.Length > 1 && parts[^1].Length > 1 && parts[^1][0] == 'v' && parts[^1][1..].All(char.IsAsciiDigit))
        {
            parts = parts[..^1];
        }

        return "https://" + string.Join('/', parts);
    }

    /// <summary>Applies url.&lt;base&gt;.insteadOf rules (the longest matching prefix wins, as in git).</summary>
    internal static string ApplyInsteadOf(string url, IEnumerable<(string Base, string InsteadOf)> rules)
    {
        var best = rules.Where(r => url.StartsWith(r.InsteadOf, StringComparison.Ordinal)).OrderByDescending(r => r.InsteadOf.Length).FirstOrDefault();
        return best.Base is null ? url : best.Base + url[best.InsteadOf.Length..];
    }

    private Dictionary<string, string?> GitEnvironment()
    {
        var env = new Dictionary<string, string?>(_options.Environment, StringComparer.Ordinal)
        {
            ["GIT_TERMINAL_PROMPT"] = "0",
            ["GCM_INTERACTIVE"] = "never",
            ["LC_ALL"] = "C",
        };
        if (!env.ContainsKey("GIT_SSH_COMMAND"))
        {
            env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
        }

        return env;
    }

    private async Task<List<(string Base, string InsteadOf)>> InsteadOfRulesAsync(CancellationToken cancellationToken)
    {
        var rules = new List<(string, string)>();
        try
        {
            var (code, stdout, _, _) = await Run.ProcessAsync(_options.Git, ["config", "--get-regexp", @"^url\..*\.insteadof$"], GitEnvironment(),
                _options.ModuleDir, _options.Timeout, _time, cancellationToken).ConfigureAwait(false);
            if (code != 0)
            {
                return rules;
            }

            foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space < 0)
                {
                    continue;
                }

                var key = line[..space];
                const string Suffix = ".insteadof";
                if (key.StartsWith("url.", StringComparison.Ordinal) && key.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase))
                {
                    rules.Add((key[4..^Suffix.Length], line[(space + 1)..].Trim()));
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No git: reported by the ls-remote step.
        }

        return rules;
    }

    private async Task CheckPrivateAccessAsync(List<Finding> findings, List<Resolution> privateOnes, CancellationToken cancellationToken)
    {
        if (privateOnes.Count == 0)
        {
            return;
        }

        var rules = await InsteadOfRulesAsync(cancellationToken).ConfigureAwait(false);
        var netrcPath = Netrc.DefaultPath(k => _options.Environment.GetValueOrDefault(k), _options.Environment.GetValueOrDefault("HOME"));
        var netrc = Netrc.Load(netrcPath);
        var netrcChecked = false;
        foreach (var group in privateOnes.GroupBy(r => RepositoryUrl(r.Path)))
        {
            var url = group.Key;
            var subject = string.Join(", ", group.Select(r => $"{r.Path}@{r.Version}"));
            var actual = ApplyInsteadOf(url, rules);
            var rewritten = actual == url ? "" : $" (insteadOf → {actual})";
            var notes = new List<string>();
            var isSsh = actual.StartsWith("ssh://", StringComparison.Ordinal) || (!actual.Contains("://", StringComparison.Ordinal) && actual.Contains(':', StringComparison.Ordinal));
            string host;
            if (isSsh)
            {
                host = GitRemoteUrl.TryParse(actual)?.Host ?? actual;
                var home = _options.Environment.GetValueOrDefault("HOME") ?? "";
                var keys = Directory.Exists(Path.Combine(home, ".ssh")) ? Directory.GetFiles(Path.Combine(home, ".ssh"), "id_*") : [];
                if (_options.Environment.GetValueOrDefault("SSH_AUTH_SOCK") is { Length: > 0 })
                {
                    notes.Add("ssh agent present (SSH_AUTH_SOCK)");
                }
                else if (keys.Length > 0)
                {
                    notes.Add($"ssh key {Path.GetFileName(keys[0])}");
                }
                else
                {
                    notes.Add("no ssh agent (SSH_AUTH_SOCK) and no ~/.ssh/id_* key");
                    findings.Add(new Finding("module.private-access", Verdict.Warn, $"{actual} is an ssh URL but no ssh agent or key is present",
                        "ssh-add your key (or create one and register it with the host)", subject));
                }
            }
            else
            {
                host = Uri.TryCreate(actual, UriKind.Absolute, out var u) ? u.Host : actual;
                if (u?.UserInfo.Length > 0)
                {
                    notes.Add("credentials in the URL");
                }
                else if (Netrc.Find(netrc, host) is not null)
                {
                    notes.Add($"{netrcPath} has machine {host}");
                }
                else
                {
                    notes.Add($"no machine {host} in {netrcPath ?? ".netrc"}");
                }

                if (!netrcChecked && netrcPath is not null && File.Exists(netrcPath) && !OperatingSystem.IsWindows())
                {
                    netrcChecked = true;
                    var mode = File.GetUnixFileMode(netrcPath);
                    if ((mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
                    {
                        findings.Add(new Finding("module.netrc", Verdict.Warn, $"{netrcPath} is readable by others (mode {Convert.ToString((int)mode, 8)}): its passwords are exposed",
                            $"chmod 600 {netrcPath}", netrcPath));
                    }
                }
            }

            var start = _time.GetTimestamp();
            (int Code, string Stdout, string Stderr, bool TimedOut) result;
            try
            {
                result = await Run.ProcessAsync(_options.Git, ["ls-remote", url], GitEnvironment(), _options.ModuleDir, _options.Timeout, _time, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                findings.Add(new Finding("module.private-access", Verdict.Fail, $"cannot run git: {e.Message}", "install git: private modules are fetched with it", subject));
                return;
            }

            var latency = Ms(_time.GetElapsedTime(start));
            if (result.Code == 0)
            {
                findings.Add(new Finding("module.private-access", Verdict.Pass,
                    $"git ls-remote {url}{rewritten} succeeded in {latency}; {string.Join(", ", notes)}", null, subject));
                continue;
            }

            var error = result.TimedOut
                ? $"timed out after {_options.Timeout.TotalSeconds:0.#} s"
                : string.Join(" | ", result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3));
            var fix = isSsh
                ? $"load a key the host accepts (ssh-add), or use https: git config --global url.\"https://{host}/\".insteadOf \"git@{host}:\""
                : $"add to {netrcPath ?? "~/.netrc"} (chmod 600): machine {host} login <user> password <token>; or git config --global url.\"https://<user>:<token>@{host}/\".insteadOf \"https://{host}/\"";
            findings.Add(new Finding("module.private-access", Verdict.Fail,
                $"git ls-remote {url}{rewritten} failed: {error}; {string.Join(", ", notes)}", fix, subject));
        }
    }
}
