using System.Net;
using System.Net.Http.Headers;
using Warren.Fetch.Direct.Git;
using Warren.Protocol.GoProxy;

namespace Warren.Server.Upstream;

/// <summary>Streams one upstream GET into a file through the <see cref="GoProxyClient"/>: size limits, timeouts, the
/// process-wide limit on outbound fetches, loop detection, redaction, and outcomes in the server's terms.</summary>
public sealed class HttpDownloader
{
    /// <summary>Header Warren adds to every upstream request; a request that carries our own id has looped back.</summary>
    public const string ViaHeader = "Warren-Via";

    /// <summary>The name of the upstream client in the <see cref="IHttpClientFactory"/>.</summary>
    public const string ClientName = "warren-upstream";

    private readonly SecretRedactor _redactor;
    private readonly GoProxyClient _client;

    /// <param name="fetches">The process-wide limit on concurrent outbound fetches (null: none).</param>
    public HttpDownloader(HttpClient client, IOptions<WarrenOptions> options, InstanceIdentity identity, SecretRedactor? redactor = null,
        Warren.Core.Limits.ConcurrencyGate? fetches = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(identity);
        var o = options.Value;
        _redactor = redactor ?? new SecretRedactor();
        InstanceId = identity.Id;
        _client = new GoProxyClient(client, new GoProxyClientOptions
        {
            RequestTimeout = o.UpstreamTimeout,
            ConnectTimeout = o.ConnectTimeout,
            Redact = _redactor.Redact,
            FindRefusal = ex => Warren.Fetch.Direct.Egress.EgressDeniedException.Find(ex)?.Message,
            Gate = fetches,
            Headers = [new(ViaHeader, InstanceId)],
        });
    }

    public string InstanceId { get; }

    /// <summary>The protocol client every upstream GET goes through.</summary>
    public GoProxyClient Client => _client;

    /// <summary>A URL as shown in messages and logs: no user information, no query.</summary>
    public static string Redact(Uri uri) => GoProxyClient.Redact(uri);

    /// <summary>Text bound for a message, a log line or an error body without user information, tokens or known secrets.</summary>
    public string Redact(string text) => _redactor.Redact(text);

    /// <summary>GETs uri into destinationPath (left absent unless the answer is a success). authorization, when given,
    /// goes with this request only: it is dropped when the response redirects (so it never reaches another host).</summary>
    /// <param name="configured">See <see cref="GoProxyRequest.Configured"/>: true for a configured upstream proxy or
    /// checksum database; false for a discovered origin, whose refusal by the egress policy answers like a missing module.</param>
    /// <param name="stage">When given, the body is shown to readers as it is appended (see <see cref="Ingest.LiveStages"/>);
    /// the stage ends when the file is complete or abandoned.</param>
    public async Task<FetchOutcome> DownloadAsync(Uri uri, string source, string destinationPath, long maxBytes, CancellationToken cancellationToken,
        AuthenticationHeaderValue? authorization = null, bool configured = true, Ingest.LiveStage? stage = null)
    {
        ProxyFetchResult? result = null;
        try
        {
            // Unbuffered: what a write returned from is in the file, where a stage's readers look for it.
            var file = new FileStream(destinationPath, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                result = await _client.GetAsync(uri, stage?.Wrap(file) ?? file, maxBytes, cancellationToken,
                    new GoProxyRequest(authorization, configured, stage is null ? null : stage.Start)).ConfigureAwait(false);
                if (result.IsOk)
                {
                    // The disk writes the download while it is checked, before the commit's fsync waits for it.
                    Warren.Storage.Writeback.Start(file.SafeFileHandle);
                }
            }
        }
        finally
        {
            stage?.End(result is { IsOk: true });
            if (result is not { IsOk: true })
            {
                File.Delete(destinationPath);
            }
        }

        return ToOutcome(result, source);
    }

    /// <summary>A protocol result in the server's terms: a failure is marked as a timeout when it was one.</summary>
    public static FetchOutcome ToOutcome(ProxyFetchResult result, string source)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Status switch
        {
            ProxyFetchStatus.Ok => FetchOutcome.Ok(source, result.Bytes),
            ProxyFetchStatus.NotFound => FetchOutcome.NotFound(source, result.Reason, gone: result.HttpStatus == 410),
            _ => FetchOutcome.Failed(source, result.Reason, timedOut: result.IsTimeout) with { SourceDown = IsDown(result) },
        };
    }

    /// <summary>Whether a failed GET says the server is down: no connection, no answer in time, a 5xx, a body cut short.</summary>
    public static bool IsDown(ProxyFetchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Failure switch
        {
            ProxyFailure.Timeout or ProxyFailure.ConnectTimeout or ProxyFailure.Network or ProxyFailure.Truncated => true,
            ProxyFailure.Status => result.HttpStatus >= 500,
            _ => false,
        };
    }

    /// <summary>The first non-empty line, without control characters, at most 300 characters.</summary>
    public static string FirstLine(string text) => GoProxyClient.FirstLine(text);

    public static string OneLine(Exception ex) => GoProxyClient.OneLine(ex);

    /// <summary>The primary handler of the upstream client: pooled connections, connect timeout, the configured
    /// outbound proxy (else the proxy variables read once at start-up into <see cref="WarrenOptions.EnvironmentProxies"/>;
    /// without either, no proxy: the process environment is not consulted again); with a policy, every connection and
    /// redirect hop passes it (and only same-host redirects are followed). Registered with the factory, never used to
    /// build a client here.</summary>
    public static HttpMessageHandler CreateHandler(WarrenOptions options, Warren.Fetch.Direct.Egress.EgressPolicy? egress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var proxy = OutboundProxy.For(options);
        var handler = new SocketsHttpHandler
        {
            UseProxy = proxy is not null,
            Proxy = proxy,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = 64,
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 5,
        };
        return egress is null ? handler : Warren.Fetch.Direct.Egress.EgressHttpHandler.Create(egress, handler);
    }
}

/// <summary>An outbound proxy with NO_PROXY-style bypass entries ("host", ".domain", "host:port", "*"): an explicit one for
/// every scheme, or the proxies of the environment (one for http, one for https).</summary>
public sealed class OutboundProxy : IWebProxy
{
    private readonly Uri? _http;
    private readonly Uri? _https;
    private readonly string[] _bypass;

    /// <summary>An explicit proxy for every destination.</summary>
    public OutboundProxy(Uri proxy, string bypass)
        : this(proxy ?? throw new ArgumentNullException(nameof(proxy)), proxy, bypass)
    {
    }

    private OutboundProxy(Uri? http, Uri? https, string bypass)
    {
        ArgumentNullException.ThrowIfNull(bypass);
        _http = http;
        _https = https;
        _bypass = bypass.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The proxy of Warren's outbound HTTP requests: <see cref="WarrenOptions.OutboundProxy"/>, else the proxy
    /// variables of the options (<see cref="FromEnvironment"/>); bypassed as <see cref="WarrenOptions.OutboundProxyBypass"/>
    /// says, else NO_PROXY. Null: no proxy.</summary>
    public static OutboundProxy? For(WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.OutboundProxy is { Length: > 0 } configured
            ? new OutboundProxy(new Uri(configured), options.OutboundProxyBypass ?? "")
            : FromEnvironment(options.EnvironmentProxies, options.OutboundProxyBypass);
    }

    /// <summary>The proxies of the environment as read once at start-up: HTTP_PROXY for http, HTTPS_PROXY for https,
    /// ALL_PROXY for a scheme without its own ("host:port" meaning http://host:port), a user and password in a proxy
    /// URL as its credentials; bypass (null: NO_PROXY) lists the exceptions. Null when no proxy is set.</summary>
    public static OutboundProxy? FromEnvironment(ProxyEnvironment environment, string? bypass = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var all = ParseEnvironmentProxy(environment.AllProxy);
        var http = ParseEnvironmentProxy(environment.HttpProxy) ?? all;
        var https = ParseEnvironmentProxy(environment.HttpsProxy) ?? all;
        if (http is null && https is null)
        {
            return null;
        }

        // The handler is given the proxies without user information, and the credentials apart.
        return new OutboundProxy(WithoutUserInfo(http), WithoutUserInfo(https), bypass ?? environment.NoProxy ?? "")
        {
            Credentials = http?.UserInfo is { Length: > 0 } || https?.UserInfo is { Length: > 0 } ? new UserInfoCredentials(http, https) : null,
        };
    }

    public ICredentials? Credentials { get; set; }

    public Uri? GetProxy(Uri destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return ProxyOf(destination);
    }

    public bool IsBypassed(Uri host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (ProxyOf(host) is null)
        {
            return true;
        }

        foreach (var entry in _bypass)
        {
            if (entry == "*")
            {
                return true;
            }

            var name = entry.TrimStart('.');
            var port = -1;
            var colon = name.LastIndexOf(':');
            if (colon > 0 && int.TryParse(name.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out var p))
            {
                (name, port) = (name[..colon], p);
            }

            if ((port < 0 || port == host.Port) &&
                (string.Equals(host.Host, name, StringComparison.OrdinalIgnoreCase) || host.Host.EndsWith("." + name, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private Uri? ProxyOf(Uri destination) => destination.Scheme == Uri.UriSchemeHttps ? _https : _http;

    /// <summary>A proxy variable's value as a URL (http:// when it names no scheme); null when unset or not a proxy URL.</summary>
    private static Uri? ParseEnvironmentProxy(string? value) =>
        value is { Length: > 0 }
        && Uri.TryCreate(value.Contains("://", StringComparison.Ordinal) ? value : "http://" + value, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https" or "socks4" or "socks4a" or "socks5"
            ? uri
            : null;

    private static Uri? WithoutUserInfo(Uri? uri) => uri is null ? null : GoProxyClient.WithoutUserInfo(uri);

    /// <summary>The user and password written in the proxy URLs, given to the proxy they belong to only.</summary>
    private sealed class UserInfoCredentials(Uri? http, Uri? https) : ICredentials
    {
        public NetworkCredential? GetCredential(Uri uri, string authType) =>
            uri is null ? null
            : https is not null && uri.Equals(https) ? FromUserInfo(https)
            : http is not null && uri.Equals(http) ? FromUserInfo(http)
            : null;

        private static NetworkCredential? FromUserInfo(Uri proxy)
        {
            if (proxy.UserInfo.Length == 0)
            {
                return null;
            }

            var colon = proxy.UserInfo.IndexOf(':', StringComparison.Ordinal);
            return colon < 0
                ? new NetworkCredential(Uri.UnescapeDataString(proxy.UserInfo), "")
                : new NetworkCredential(Uri.UnescapeDataString(proxy.UserInfo[..colon]), Uri.UnescapeDataString(proxy.UserInfo[(colon + 1)..]));
        }
    }
}

/// <summary>This process's identity, for loop detection.</summary>
public sealed class InstanceIdentity
{
    public string Id { get; } = Guid.NewGuid().ToString("N");
}
