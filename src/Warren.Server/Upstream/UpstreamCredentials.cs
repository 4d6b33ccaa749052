using System.Net.Http.Headers;
using System.Text;
using Warren.Fetch.Direct.Git;
using Warren.Protocol;

namespace Warren.Server.Upstream;

/// <summary>Credentials for upstream proxies, as the go command sends them (cmd/go/internal/web and auth): user:password
/// written in a configured upstream URL, else the first .netrc "machine" entry whose name equals the request's host name
/// (a "default" entry is never used). Only over https, unless the operator allows plain http
/// (<see cref="WarrenOptions.UpstreamCredentialsOverHttp"/>) for an upstream the operator configured; a proxy named by a
/// go-import "mod" tag gets .netrc credentials over https only. Every secret is registered with the redactor.</summary>
public sealed class UpstreamCredentials
{
    private readonly IReadOnlyList<NetrcEntry> _netrc;
    private readonly bool _overHttp;

    public UpstreamCredentials(IOptions<WarrenOptions> options, ProtocolSettings settings, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(redactor);
        var o = options.Value;
        Redactor = redactor;
        _overHttp = o.UpstreamCredentialsOverHttp;
        _netrc = Netrc.Load(o.Netrc ?? Netrc.DefaultPath());
        foreach (var e in _netrc)
        {
            redactor.Add(new GitCredential(e.Login, e.Password));
        }

        foreach (var spec in settings.Upstream)
        {
            if (Uri.TryCreate(spec.Url, UriKind.Absolute, out var uri))
            {
                redactor.Add(FromUserInfo(uri));
            }
        }
    }

    public SecretRedactor Redactor { get; }

    /// <summary>The user:password of a URL's user information (percent-decoded); null when it has no password.</summary>
    public static GitCredential? FromUserInfo(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var info = uri.UserInfo;
        var colon = info.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return null;
        }

        var password = Uri.UnescapeDataString(info[(colon + 1)..]);
        return password.Length == 0 ? null : new GitCredential(Uri.UnescapeDataString(info[..colon]), password);
    }

    /// <summary>Whether the .netrc has a machine entry for the host name.</summary>
    public bool HasNetrcEntry(string host) => Netrc.Find(_netrc, host) is not null;

    /// <summary>The Authorization header for a request to target: embedded (from the configured URL) when given, else
    /// .netrc by host name; null when nothing matches or the scheme must not carry credentials.</summary>
    public AuthenticationHeaderValue? For(Uri target, GitCredential? embedded, bool configured)
    {
        ArgumentNullException.ThrowIfNull(target);
        var secure = target.Scheme == Uri.UriSchemeHttps;
        if (!secure && !(target.Scheme == Uri.UriSchemeHttp && configured && _overHttp))
        {
            return null;
        }

        var credential = embedded;
        if (credential is null && Netrc.Find(_netrc, target.IdnHost) is { } n)
        {
            credential = new GitCredential(n.Login, n.Password);
        }

        return credential is null
            ? null
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.Username + ":" + credential.Password)));
    }
}
