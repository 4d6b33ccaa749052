using System.Net;

namespace Warren.Fetch.Direct.Egress;

/// <summary>Applies the outbound policy to every request and redirect hop of an HttpClient: the host asked for is
/// checked before sending (IP literals and denied names refused at once, which also covers the host an outbound proxy
/// is asked for), and redirects are followed by hand, only to the same host (and port, or from http to https on the
/// same host), at most 10, never from https to http. A cross-host redirect is not followed: the request fails with an
/// <see cref="EgressDeniedException"/>. The inner SocketsHttpHandler must have AllowAutoRedirect off and
/// <see cref="EgressPolicy.ConnectAsync"/> as its ConnectCallback, which checks every resolved address.</summary>
public sealed class EgressHttpHandler : DelegatingHandler
{
    /// <summary>The go command's limit (net/http's default).</summary>
    public const int MaxRedirects = 10;

    private readonly EgressPolicy _policy;

    public EgressHttpHandler(EgressPolicy policy, HttpMessageHandler inner)
        : base(inner)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _policy = policy;
    }

    /// <summary>A SocketsHttpHandler with the policy's connect callback and no automatic redirects, wrapped in this handler.</summary>
    public static EgressHttpHandler Create(EgressPolicy policy, SocketsHttpHandler inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        inner.AllowAutoRedirect = false;
        inner.ConnectCallback = policy.ConnectAsync;
        return new EgressHttpHandler(policy, inner);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var current = request;
        for (var hop = 0; ; hop++)
        {
            var uri = current.RequestUri ?? throw new InvalidOperationException("request without a URI");
            if (_policy.CheckName(uri.IdnHost, uri.Port) is { } refused)
            {
                throw new EgressDeniedException(refused);
            }

            var response = await base.SendAsync(current, cancellationToken).ConfigureAwait(false);
            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location)
            {
                return response;
            }

            var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
            response.Dispose();
            if (next.Scheme is not ("http" or "https"))
            {
                throw new HttpRequestException($"redirect to unsupported scheme {next.Scheme} not followed");
            }

            if (!SameHost(uri, next))
            {
                throw new EgressDeniedException(_policy.RedirectRefused(uri, next));
            }

            if (uri.Scheme == "https" && next.Scheme != "https")
            {
                throw new HttpRequestException("redirected from secure URL to insecure URL");
            }

            if (hop + 1 >= MaxRedirects)
            {
                throw new HttpRequestException($"stopped after {MaxRedirects} redirects");
            }

            var method = response.StatusCode == HttpStatusCode.SeeOther || (current.Method == HttpMethod.Post && (int)response.StatusCode is 301 or 302)
                ? HttpMethod.Get : current.Method;
            var following = new HttpRequestMessage(method, next) { Version = current.Version, VersionPolicy = current.VersionPolicy };
            foreach (var header in current.Headers)
            {
                if (!string.Equals(header.Key, "Authorization", StringComparison.OrdinalIgnoreCase))
                {
                    following.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
            }

            if (!ReferenceEquals(current, request))
            {
                current.Dispose();
            }

            current = following;
        }
    }

    private static bool IsRedirect(HttpStatusCode code) => (int)code is 301 or 302 or 303 or 307 or 308;

    /// <summary>Same host, and the same port or http upgraded to https.</summary>
    internal static bool SameHost(Uri from, Uri to) =>
        string.Equals(from.IdnHost, to.IdnHost, StringComparison.OrdinalIgnoreCase)
        && (from.Port == to.Port || (from.Scheme == "http" && to.Scheme == "https" && to.IsDefaultPort));
}
