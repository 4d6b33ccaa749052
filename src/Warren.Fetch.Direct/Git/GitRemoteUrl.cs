using System.Text.RegularExpressions;

namespace Warren.Fetch.Direct.Git;

/// <summary>A repository URL split the way git splits it for credential matching: scheme, authority (host[:port], the
/// value git sends as "host=" to a credential helper), host name, path. User information is taken out: a password in a
/// URL would otherwise end up in git's command line, in the mirror's config and in error messages.</summary>
public sealed partial record GitRemoteUrl
{
    private GitRemoteUrl(string scheme, string? user, string authority, string host, string path, GitCredential? embedded) =>
        (Scheme, User, Authority, Host, Path, EmbeddedCredential) = (scheme, user, authority, host, path, embedded);

    /// <summary>Lower-case scheme ("https", "ssh"); "ssh" for scp-like "user@host:path".</summary>
    public string Scheme { get; }

    /// <summary>The user name kept in the URL (ssh only: "git" in ssh://git@host/x); never a password.</summary>
    public string? User { get; }

    /// <summary>host[:port] exactly as written, what git's credential protocol calls "host".</summary>
    public string Authority { get; }

    /// <summary>The host name without port or brackets (what Go's netrc lookup compares with "machine").</summary>
    public string Host { get; }

    public string Path { get; }

    /// <summary>user:password given in an http(s) URL, removed from <see cref="Url"/>.</summary>
    public GitCredential? EmbeddedCredential { get; }

    /// <summary>The URL without secrets, as given to git and shown in messages.</summary>
    public string Url => Scheme == "ssh" && IsScpLike
        ? $"{(User is null ? "" : User + "@")}{Authority}:{Path}"
        : $"{Scheme}://{(User is null ? "" : User + "@")}{Authority}{Path}";

    private bool IsScpLike { get; init; }

    public override string ToString() => Url;

    /// <summary>Parses scheme://[userinfo@]host[:port]/path or scp-like [user@]host:path; null when it is neither.</summary>
    public static GitRemoteUrl? TryParse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        url = url.Trim();
        if (url.Length == 0 || url.Any(char.IsControl) || url.Contains(' ', StringComparison.Ordinal))
        {
            return null;
        }

        var m = SchemeUrl().Match(url);
        if (m.Success)
        {
            var scheme = m.Groups["scheme"].Value.ToLowerInvariant();
            if (scheme == "git+ssh" || scheme == "ssh+git")
            {
                scheme = "ssh";
            }

            var authority = m.Groups["authority"].Value;
            var path = m.Groups["path"].Value;
            string? userInfo = null;
            var at = authority.LastIndexOf('@');
            if (at >= 0)
            {
                userInfo = authority[..at];
                authority = authority[(at + 1)..];
            }

            if (authority.Length == 0 && scheme != "file")
            {
                return null;
            }

            var host = HostOf(authority);
            string? user = null;
            GitCredential? embedded = null;
            if (userInfo is not null)
            {
                var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
                var name = Uri.UnescapeDataString(colon >= 0 ? userInfo[..colon] : userInfo);
                var password = colon >= 0 ? Uri.UnescapeDataString(userInfo[(colon + 1)..]) : null;
                if (scheme is "http" or "https")
                {
                    if (!string.IsNullOrEmpty(password))
                    {
                        embedded = new GitCredential(name, password);
                    }
                }
                else if (name.Length > 0)
                {
                    user = Uri.EscapeDataString(name);
                }
            }

            return new GitRemoteUrl(scheme, user, authority, host, path, embedded);
        }

        m = ScpLike().Match(url);
        if (m.Success)
        {
            var authority = m.Groups["host"].Value;
            var user = m.Groups["user"].Success && m.Groups["user"].Value.Length > 0 ? m.Groups["user"].Value : null;
            return new GitRemoteUrl("ssh", user, authority, HostOf(authority), m.Groups["path"].Value, null) { IsScpLike = true };
        }

        return null;
    }

    private static string HostOf(string authority)
    {
        if (authority.StartsWith('['))
        {
            var end = authority.IndexOf(']', StringComparison.Ordinal);
            return end > 0 ? authority[1..end] : authority;
        }

        var colon = authority.LastIndexOf(':');
        return colon >= 0 ? authority[..colon] : authority;
    }

    [GeneratedRegex(@"^(?<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?<authority>[^/?#]*)(?<path>[^?#]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemeUrl();

    // git's rule: "host:path" is scp-like when there is no slash before the first colon.
    [GeneratedRegex(@"^(?:(?<user>[^@/:]+)@)?(?<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]):(?<path>[^/][^\s]*|/[^\s]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ScpLike();
}
