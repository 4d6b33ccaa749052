using System.Globalization;
using System.Net.Sockets;
using Warren.Fetch.Direct.Git;

namespace Warren.Fetch.Direct.Egress;

/// <summary>What git may do for one remote: refused, or allowed with these configuration entries for the invocation.</summary>
/// <param name="Refusal">Why the remote is refused (or cannot be resolved); null when git may run.</param>
/// <param name="Config">git -c entries, given through GIT_CONFIG_COUNT/KEY/VALUE: http.followRedirects=false always,
/// and http.curloptResolve pinning the host to the addresses that were checked.</param>
public sealed record GitEgressDecision(EgressRefusal? Refusal, IReadOnlyList<KeyValuePair<string, string>> Config);

/// <summary>The outbound policy for git. For http(s) remotes the host is resolved, every address checked, and git is
/// pinned to the allowed ones with http.curloptResolve (so git's own resolution cannot differ from what was checked);
/// when an outbound proxy carries the request, the proxy resolves the name and only the name is checked. ssh:// and
/// git:// remotes are resolved and every address must be allowed (git resolves again itself; an operator who needs
/// them for internal hosts allows those explicitly). Redirects are never followed (http.followRedirects=false).
/// file:// remotes touch no network.</summary>
public sealed class GitEgress
{
    private readonly EgressPolicy _policy;
    private readonly Func<GitRemoteUrl, bool> _proxied;

    /// <param name="policy">The policy.</param>
    /// <param name="proxied">Whether git reaches this remote through an HTTP proxy (which then resolves the name).</param>
    public GitEgress(EgressPolicy policy, Func<GitRemoteUrl, bool>? proxied = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _policy = policy;
        _proxied = proxied ?? (_ => false);
    }

    public EgressPolicy Policy => _policy;

    /// <summary>The decision for a remote git will contact (after url.insteadOf rewriting).</summary>
    public async Task<GitEgressDecision> DecideAsync(GitRemoteUrl remote, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var config = new List<KeyValuePair<string, string>> { new("http.followRedirects", "false") };
        if (remote.Scheme == "file")
        {
            return new GitEgressDecision(null, config);
        }

        var port = PortOf(remote);
        if (port is null)
        {
            return new GitEgressDecision(new EgressRefusal(remote.Host, 0, null, "unsupported", $"git: repository URL scheme {remote.Scheme} is not allowed by the egress policy"), config);
        }

        if (remote.Scheme is "http" or "https" && _proxied(remote))
        {
            return new GitEgressDecision(_policy.CheckName(remote.Host, port.Value), config);
        }

        // ssh and git:// cannot be pinned to the checked addresses: every address the name has must be allowed.
        var pinnable = remote.Scheme is "http" or "https";
        var (allowed, refusal) = await _policy.ResolveAsync(remote.Host, port.Value, cancellationToken, requireAll: !pinnable).ConfigureAwait(false);
        if (refusal is not null)
        {
            return new GitEgressDecision(refusal, config);
        }

        if (pinnable && EgressAddress.ParseLiteral(remote.Host) is null)
        {
            var list = string.Join(',', allowed.Select(a => a.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + a + "]" : a.ToString()));
            config.Add(new("http.curloptResolve", $"{remote.Host}:{port.Value.ToString(CultureInfo.InvariantCulture)}:{list}"));
        }

        return new GitEgressDecision(null, config);
    }

    /// <summary>Appends config entries to an environment after any GIT_CONFIG_COUNT entries it (or this process) has.</summary>
    public static void AddConfig(IDictionary<string, string> environment, IEnumerable<KeyValuePair<string, string>> entries)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(entries);
        var countText = environment.TryGetValue("GIT_CONFIG_COUNT", out var c) ? c : Environment.GetEnvironmentVariable("GIT_CONFIG_COUNT");
        var n = int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        foreach (var (key, value) in entries)
        {
            environment[$"GIT_CONFIG_KEY_{n}"] = key;
            environment[$"GIT_CONFIG_VALUE_{n}"] = value;
            n++;
        }

        environment["GIT_CONFIG_COUNT"] = n.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The port git connects to: the URL's, else the scheme's default; null for schemes without a network port.</summary>
    public static int? PortOf(GitRemoteUrl remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var authority = remote.Authority;
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            authority = authority[(at + 1)..];
        }

        var close = authority.LastIndexOf(']');
        var colon = authority.LastIndexOf(':');
        if (colon > close && int.TryParse(authority.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536)
        {
            return port;
        }

        return remote.Scheme switch
        {
            "https" => 443,
            "http" => 80,
            "ssh" => 22,
            "git" => 9418,
            _ => null,
        };
    }
}
