using System.Globalization;
using Warren.Fetch.Direct.Egress;

namespace Warren.Fetch.Direct.Git;

/// <summary>The one way Warren runs git against the network (mirror clones and fetches, the ".git"-suffix scheme probe
/// of discovery, ls-remote checks) and the environment every git child gets:
/// <list type="bullet">
/// <item>an empty private HOME (mode 700) with XDG_CONFIG_HOME inside it, GIT_CONFIG_GLOBAL set to the operator's file or
/// an empty one, GIT_CONFIG_NOSYSTEM=1: the user's ~/.gitconfig (credential helpers, insteadOf) and ~/.netrc (which
/// libcurl would read, "default" entry included) are never seen;</item>
/// <item>inherited variables that inject configuration or prompts (GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT,
/// GIT_ASKPASS, ...) removed;</item>
/// <item>the proxy variables (http_proxy, https_proxy, no_proxy, either case) only as the options give them, never
/// inherited;</item>
/// <item>GIT_ALLOW_PROTOCOL, ssh in BatchMode, no terminal prompts;</item>
/// <item>credentials (from the URL, per host, or Warren's own .netrc parser, whose "default" entry is never used) handed
/// over only through Warren's credential helper, in the environment of that one invocation, over https (plain http only
/// when <see cref="GitNetworkOptions.AllowCredentialsOverHttp"/>).</item>
/// </list></summary>
public sealed class HardenedGit
{
    /// <summary>The empty global configuration written into the private home when the operator gives none.</summary>
    public const string EmptyConfigName = ".gitconfig";

    // Run by git through the shell with " get", " store" or " erase" appended. It reads git's request (protocol=, host=,
    // ...) up to the empty line and answers only a "get" for the expected protocol and host, from the environment.
    private const string CredentialHelper =
        "!f() { test \"$1\" = get || return 0; p=; h=; " +
        "while IFS= read -r l && test -n \"$l\"; do case \"$l\" in protocol=*) p=\"${l#protocol=}\";; host=*) h=\"${l#host=}\";; esac; done; " +
        "test \"$p\" = \"$WARREN_GIT_CREDENTIAL_PROTOCOL\" && test \"$h\" = \"$WARREN_GIT_CREDENTIAL_HOST\" || return 0; " +
        "printf 'username=%s\\npassword=%s\\n' \"$WARREN_GIT_CREDENTIAL_USERNAME\" \"$WARREN_GIT_CREDENTIAL_PASSWORD\"; }; f";

    /// <summary>Variables of Warren's own environment git children never inherit: they would add configuration
    /// (credential helpers, insteadOf), ask for passwords, or point git at another repository or netrc file. The proxy
    /// variables (both spellings) are removed too: git's proxies are only those of the options, set again in
    /// <see cref="BaseEnvironment"/>.</summary>
    private static readonly string[] Scrubbed =
    [
        "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_CONFIG", "GIT_CONFIG_SYSTEM", "GIT_ASKPASS", "SSH_ASKPASS",
        "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_NAMESPACE", "NETRC", "CURL_HOME",
        "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
    ];

    private static readonly Lazy<string> ProcessHome = new(() => Directory.CreateTempSubdirectory("warren-git-home-").FullName);

    private readonly Dictionary<string, GitCredential> _credentials;
    private readonly IReadOnlyList<NetrcEntry> _netrc;
    private readonly Dictionary<string, string> _baseEnvironment;

    /// <param name="options">Credentials, configuration, proxies and schemes.</param>
    /// <param name="runner">Runs git; null creates one whose own <see cref="GitRunner.Environment"/> is the hardened one
    /// (so local git commands run through it are hardened too).</param>
    /// <param name="redactor">Where the secrets are registered (shared with other components' messages); null makes one.</param>
    public HardenedGit(GitNetworkOptions options, GitRunner? runner = null, SecretRedactor? redactor = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Redactor = redactor ?? new SecretRedactor();
        Home = options.PrivateHome is { } home ? PrepareHome(home, empty: true) : PrepareHome(ProcessHome.Value, empty: false);

        _credentials = new Dictionary<string, GitCredential>(options.Credentials, StringComparer.OrdinalIgnoreCase);
        foreach (var c in _credentials.Values)
        {
            Redactor.Add(c);
        }

        _netrc = options.UseNetrc ? Netrc.Load(options.NetrcPath ?? Netrc.DefaultPath()) : [];
        foreach (var e in _netrc)
        {
            Redactor.Add(new GitCredential(e.Login, e.Password));
        }

        _baseEnvironment = BuildBaseEnvironment(options, Home);
        if (runner is null)
        {
            runner = new GitRunner();
            foreach (var (k, v) in _baseEnvironment)
            {
                runner.Environment[k] = v;
            }
        }

        foreach (var k in Scrubbed)
        {
            runner.RemovedEnvironment.Add(k);
        }

        Runner = runner;
        Egress = options.EgressPolicy is { } policy ? new GitEgress(policy, IsProxied) : null;
    }

    /// <summary>The outbound policy git obeys (null: none configured; redirects are still refused).</summary>
    public GitEgress? Egress { get; }

    /// <summary>Whether the policy lets git contact effective, and the configuration that pins it there
    /// (http.curloptResolve, http.followRedirects=false).</summary>
    public async Task<GitEgressDecision> DecideEgressAsync(GitRemoteUrl effective, CancellationToken cancellationToken) =>
        Egress is { } egress
            ? await egress.DecideAsync(effective, cancellationToken).ConfigureAwait(false)
            : new GitEgressDecision(null, [new("http.followRedirects", "false")]);

    /// <summary>A refusal of the policy as a result: unresolvable hosts fail, refused destinations are "not found" (the go
    /// command reports an unreachable origin in direct mode as not existing).</summary>
    public static DirectResult Refused(string what, EgressRefusal refused)
    {
        ArgumentNullException.ThrowIfNull(refused);
        var text = $"{what}: {refused.Message}";
        return refused.Kind == "unresolvable" ? DirectResult.Failed(text) : DirectResult.NotFound(text);
    }

    /// <summary>Whether git reaches an http(s) remote through a proxy (from the proxy settings of the options, the only
    /// ones git is given).</summary>
    private bool IsProxied(GitRemoteUrl remote)
    {
        var proxy = remote.Scheme == "https" ? Options.HttpsProxy : Options.HttpProxy;
        if (string.IsNullOrEmpty(proxy))
        {
            return false;
        }

        return !NoProxyList.Matches(Options.NoProxy ?? "", remote.Host, GitEgress.PortOf(remote) ?? 0);
    }

    public GitNetworkOptions Options { get; }

    /// <summary>The runner (its inherited-variable removals set).</summary>
    public GitRunner Runner { get; }

    /// <summary>Removes URL user information, tokens and every known secret from text bound for messages and logs.</summary>
    public SecretRedactor Redactor { get; }

    /// <summary>The private HOME of git children.</summary>
    public string Home { get; }

    /// <summary>The environment of every git child (a copy).</summary>
    public Dictionary<string, string> BaseEnvironment => new(_baseEnvironment, StringComparer.Ordinal);

    /// <summary>Runs a git command that needs no credentials (local commands, ls-remote --get-url) in the hardened
    /// environment; gitDir null runs it in the private home, outside any repository.</summary>
    public Task<GitRun> RunLocalAsync(string? gitDir, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken) =>
        Runner.RunAsync(gitDir is null ? Home : null, gitDir is null ? args : ["--git-dir=" + gitDir, .. args], timeout, cancellationToken,
            extraEnvironment: _baseEnvironment);

    /// <summary>Runs a git network command (ls-remote, fetch) with the credential for effective (null: none).</summary>
    /// <param name="config">More configuration for this invocation (the egress decision's pinning), before the credential helper.</param>
    public Task<GitRun> RunNetworkAsync(string? gitDir, GitRemoteUrl effective, GitCredential? credential, IReadOnlyList<string> args, TimeSpan timeout,
        CancellationToken cancellationToken, IReadOnlyList<KeyValuePair<string, string>>? config = null)
    {
        ArgumentNullException.ThrowIfNull(effective);
        return Runner.RunAsync(gitDir is null ? Home : null, gitDir is null ? args : ["--git-dir=" + gitDir, .. args], timeout, cancellationToken,
            extraEnvironment: NetworkEnvironment(effective, credential, config));
    }

    /// <summary>The URL git really contacts for remote (a remote name in gitDir, or a URL), after url.&lt;base&gt;.insteadOf of
    /// the operator's configuration; null when git cannot say.</summary>
    public async Task<GitRemoteUrl?> EffectiveUrlAsync(string? gitDir, string remote, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var run = await RunLocalAsync(gitDir, ["ls-remote", "--get-url", remote], timeout, cancellationToken).ConfigureAwait(false);
        return run.Ok ? GitRemoteUrl.TryParse(run.StdoutText.Trim()) : null;
    }

    /// <summary>Whether a scheme is allowed (GIT_ALLOW_PROTOCOL).</summary>
    public bool IsAllowedScheme(string scheme) => Options.AllowedSchemes.Contains(scheme, StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether credentials may be sent to a URL of this scheme: https, and http only when allowed.</summary>
    public bool MaySendCredentials(GitRemoteUrl effective)
    {
        ArgumentNullException.ThrowIfNull(effective);
        return effective.Scheme == "https" || (effective.Scheme == "http" && Options.AllowCredentialsOverHttp);
    }

    /// <summary>The credential for the URL git contacts: the one written in the requested URL (same authority only), then
    /// per host:port, per host, then the first .netrc "machine" entry for the host name (never "default"); null when the
    /// scheme must not carry credentials.</summary>
    public GitCredential? ResolveCredential(GitRemoteUrl effective, GitRemoteUrl? requested = null, GitCredential? embedded = null)
    {
        ArgumentNullException.ThrowIfNull(effective);
        if (!MaySendCredentials(effective))
        {
            return null;
        }

        embedded ??= requested?.EmbeddedCredential;
        if (embedded is not null && requested is not null && string.Equals(effective.Authority, requested.Authority, StringComparison.OrdinalIgnoreCase))
        {
            return embedded;
        }

        if (_credentials.TryGetValue(effective.Authority, out var byAuthority))
        {
            return byAuthority;
        }

        if (_credentials.TryGetValue(effective.Host, out var byHost))
        {
            return byHost;
        }

        return Netrc.Find(_netrc, effective.Host) is { } n ? new GitCredential(n.Login, n.Password) : null;
    }

    /// <summary>A credential git cannot be given through the helper protocol (a line break or NUL in it).</summary>
    public static bool IsUnusable(GitCredential? credential) =>
        credential is not null && (HasBreak(credential.Username) || HasBreak(credential.Password));

    /// <summary>The environment of one network invocation: the hardened base, plus, with a credential, an empty
    /// credential.helper (no other helper sees the secret) followed by Warren's helper, which answers only for
    /// effective's protocol and host, so a redirect elsewhere gets nothing.</summary>
    public Dictionary<string, string> NetworkEnvironment(GitRemoteUrl effective, GitCredential? credential, IReadOnlyList<KeyValuePair<string, string>>? config = null)
    {
        ArgumentNullException.ThrowIfNull(effective);
        var env = BaseEnvironment;
        var entries = new List<KeyValuePair<string, string>>(config ?? []);
        if (credential is not null)
        {
            entries.Add(new("credential.helper", ""));
            entries.Add(new("credential.helper", CredentialHelper));
            env["WARREN_GIT_CREDENTIAL_PROTOCOL"] = effective.Scheme;
            env["WARREN_GIT_CREDENTIAL_HOST"] = effective.Authority;
            env["WARREN_GIT_CREDENTIAL_USERNAME"] = credential.Username;
            env["WARREN_GIT_CREDENTIAL_PASSWORD"] = credential.Password;
        }

        // Appended after any GIT_CONFIG_KEY_n/VALUE_n entries of the base environment (the inherited ones are removed).
        if (entries.Count > 0)
        {
            GitEgress.AddConfig(env, entries);
        }

        return env;
    }

    /// <summary>`git ls-remote URL [patterns]` through the hardened environment (the ".git"-suffix probe, origin checks):
    /// the URL's scheme must be allowed before and after insteadOf; credential, when given, is used instead of the
    /// configured ones (still only where credentials may go). Failures are classified like mirror operations.</summary>
    public async Task<(DirectResult Result, GitRun? Run)> LsRemoteAsync(string url, TimeSpan timeout, CancellationToken cancellationToken,
        GitCredential? credential = null, IReadOnlyList<string>? patterns = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        var parsed = url.StartsWith('-') ? null : GitRemoteUrl.TryParse(url);
        if (parsed is null)
        {
            return (DirectResult.NotFound($"git: invalid repository URL {Redactor.Redact(url)}"), null);
        }

        Redactor.Add(parsed.EmbeddedCredential);
        Redactor.Add(credential);
        if (!IsAllowedScheme(parsed.Scheme))
        {
            return (DirectResult.NotFound($"git: repository URL scheme {parsed.Scheme} is not allowed: {parsed.Url}"), null);
        }

        var effective = await EffectiveUrlAsync(null, parsed.Url, timeout, cancellationToken).ConfigureAwait(false) ?? parsed;
        if (!IsAllowedScheme(effective.Scheme))
        {
            return (DirectResult.NotFound($"git ls-remote {parsed.Url}: rewritten to a URL whose scheme ({effective.Scheme}) is not allowed"), null);
        }

        var use = credential is not null ? (MaySendCredentials(effective) ? credential : null) : ResolveCredential(effective, parsed);
        if (IsUnusable(use))
        {
            return (DirectResult.Failed($"git ls-remote {parsed.Url}: the credential for {effective.Authority} contains a line break"), null);
        }

        var egress = await DecideEgressAsync(effective, cancellationToken).ConfigureAwait(false);
        if (egress.Refusal is { } refused)
        {
            return (Refused($"git ls-remote {parsed.Url}", refused), null);
        }

        var config = new List<KeyValuePair<string, string>>(egress.Config);
        if (credential is not null && use is null)
        {
            // The caller's credential may not go there, and no configured helper may answer in its place.
            config.Add(new("credential.helper", ""));
        }

        var run = await RunNetworkAsync(null, effective, use, ["ls-remote", parsed.Url, .. patterns ?? []], timeout, cancellationToken, config).ConfigureAwait(false);
        return run.Ok ? (DirectResult.Success, run) : (GitFailure.Classify($"git ls-remote {parsed.Url}", run, timeout, Redactor), run);
    }

    private static bool HasBreak(string s) => s.AsSpan().IndexOfAny('\n', '\r', '\0') >= 0;

    /// <summary>Creates the home (mode 700), emptied when asked, with an empty global configuration file.</summary>
    private static string PrepareHome(string home, bool empty)
    {
        home = Path.GetFullPath(home);
        if (empty && Directory.Exists(home))
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(home))
            {
                try
                {
                    if (Directory.Exists(entry) && !File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint))
                    {
                        Directory.Delete(entry, recursive: true);
                    }
                    else
                    {
                        File.Delete(entry);
                    }
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(home);
        }
        else
        {
            Directory.CreateDirectory(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var config = Path.Combine(home, EmptyConfigName);
        if (!File.Exists(config) || new FileInfo(config).Length != 0)
        {
            File.WriteAllBytes(config, []);
        }

        return home;
    }

    private static Dictionary<string, string> BuildBaseEnvironment(GitNetworkOptions options, string home)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["GIT_ALLOW_PROTOCOL"] = string.Join(':', options.AllowedSchemes),
            ["HOME"] = home,
            ["XDG_CONFIG_HOME"] = Path.Combine(home, ".config"),
            ["GIT_CONFIG_GLOBAL"] = options.GitConfigGlobal ?? Path.Combine(home, EmptyConfigName),

            // Repository discovery never climbs out of the private home into a repository around the store.
            ["GIT_CEILING_DIRECTORIES"] = Path.GetDirectoryName(home) ?? home,
            ["GIT_TERMINAL_PROMPT"] = "0",
        };
        if (options.IgnoreSystemGitConfig)
        {
            env["GIT_CONFIG_NOSYSTEM"] = "1";
        }

        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("GIT_SSH")) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("GIT_SSH_COMMAND")))
        {
            // As the go command does: never wait for a password or host-key question.
            env["GIT_SSH_COMMAND"] = "ssh -o ControlMaster=no -o BatchMode=yes";
        }

        // Only the proxies of the options, in both spellings (libcurl reads only the lower-case http_proxy); the
        // inherited variables are removed (Scrubbed), so null means no proxy.
        SetProxy(env, "http_proxy", options.HttpProxy);
        SetProxy(env, "https_proxy", options.HttpsProxy);
        SetProxy(env, "no_proxy", options.NoProxy);
        return env;
    }

    private static void SetProxy(Dictionary<string, string> env, string lower, string? configured)
    {
        if (configured is not null)
        {
            env[lower] = configured;
            env[lower.ToUpperInvariant()] = configured;
        }
    }
}
