using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using Warren.Fetch.Direct.Git;
using Warren.Server.Configuration;

namespace Warren.Server.Upstream;

/// <summary>Streams one upstream GET into a file with size limits, timeouts and precise outcomes.</summary>
public sealed class HttpDownloader
{
    /// <summary>Header Warren adds to every upstream request; a request that carries our own id has looped back.</summary>
    public const string ViaHeader = "Warren-Via";

    private readonly HttpClient _client;
    private readonly WarrenOptions _options;
    private readonly SecretRedactor _redactor;
    private readonly Warren.Core.Limits.ConcurrencyGate? _fetches;

    /// <param name="fetches">The process-wide limit on concurrent outbound fetches (null: none).</param>
    public HttpDownloader(HttpClient client, IOptions<WarrenOptions> options, InstanceIdentity identity, SecretRedactor? redactor = null,
        Warren.Core.Limits.ConcurrencyGate? fetches = null)
    {
        _client = client;
        _fetches = fetches;
        _options = options.Value;
        _redactor = redactor ?? new SecretRedactor();
        InstanceId = identity.Id;
    }

    public string InstanceId { get; }

    /// <summary>A URL as shown in messages and logs: no user information, no query.</summary>
    public static string Redact(Uri uri) =>
        string.IsNullOrEmpty(uri.UserInfo) ? uri.GetLeftPart(UriPartial.Path) : new UriBuilder(uri) { UserName = "", Password = "" }.Uri.GetLeftPart(UriPartial.Path);

    /// <summary>Text bound for a message, a log line or an error body without user information, tokens or known secrets.</summary>
    public string Redact(string text) => _redactor.Redact(text);

    /// <summary>GETs uri into destinationPath. authorization, when given, goes with this request only: it is dropped when
    /// the response redirects (so it never reaches another host).</summary>
    /// <param name="configured">True for a configured upstream proxy or checksum database: the first line of an error
    /// body may be shown to clients (in the GOPROXY protocol a 404/410 body explains itself), and a refusal by the
    /// egress policy (a cross-host redirect, --egress-deny) is a failure (502). False for a discovered origin (a
    /// go-import "mod" tag): its text is never echoed (the status and a classification are enough), and a refusal
    /// answers like a missing module (404), as an unreachable origin does for the go command.</param>
    public async Task<FetchOutcome> DownloadAsync(Uri uri, string source, string destinationPath, long maxBytes, CancellationToken cancellationToken,
        AuthenticationHeaderValue? authorization = null, bool configured = true)
    {
        var outcome = await DownloadCoreAsync(uri, source, destinationPath, maxBytes, authorization, configured, cancellationToken).ConfigureAwait(false);
        return outcome.IsOk ? outcome : outcome with { Reason = _redactor.Redact(outcome.Reason) };
    }

    private async Task<FetchOutcome> DownloadCoreAsync(Uri uri, string source, string destinationPath, long maxBytes, AuthenticationHeaderValue? authorization,
        bool configured, CancellationToken cancellationToken)
    {
        using var slot = _fetches is { } gate ? await gate.EnterAsync(cancellationToken).ConfigureAwait(false) : null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.UpstreamTimeout);
        var token = timeout.Token;
        var shown = Redact(uri);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation(ViaHeader, InstanceId);
            request.Headers.Authorization = authorization;
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is 404 or 410)
            {
                var reason = configured ? await ReadReasonAsync(response, token).ConfigureAwait(false) : $"{shown}: {status} {response.ReasonPhrase}";
                return FetchOutcome.NotFound(source, reason.Length > 0 ? reason : $"{status} {response.ReasonPhrase}", gone: status == 410);
            }

            if (!response.IsSuccessStatusCode)
            {
                var reason = configured ? await ReadReasonAsync(response, token).ConfigureAwait(false) : "";
                var text = $"{shown}: {status} {response.ReasonPhrase}" + (reason.Length > 0 ? ": " + reason : "");
                return FetchOutcome.Failed(source, text, timedOut: status == 504);
            }

            var declared = response.Content.Headers.ContentLength;
            var encoded = response.Content.Headers.ContentEncoding.Count > 0;
            if (declared > maxBytes)
            {
                return FetchOutcome.Failed(source, $"{shown}: response of {declared} bytes exceeds the limit of {maxBytes} bytes");
            }

            long written = 0;
            var buffer = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
                await using var file = new FileStream(destinationPath, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                int n;
                while ((n = await body.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
                {
                    written += n;
                    if (written > maxBytes)
                    {
                        return FetchOutcome.Failed(source, $"{shown}: response exceeds the limit of {maxBytes} bytes");
                    }

                    await file.WriteAsync(buffer.AsMemory(0, n), token).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (declared is { } length && !encoded && length != written)
            {
                return FetchOutcome.Failed(source, $"{shown}: truncated response: got {written} of {length} bytes");
            }

            return FetchOutcome.Ok(source, written);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Either our own limit for the whole request, or the handler's connect timeout.
            var what = timeout.IsCancellationRequested
                ? $"timed out after {_options.UpstreamTimeout.TotalSeconds:0.#}s"
                : ex.InnerException is TimeoutException
                    ? $"connecting timed out after {_options.ConnectTimeout.TotalSeconds:0.#}s"
                    : "request cancelled: " + OneLine(ex);
            return FetchOutcome.Failed(source, $"{shown}: {what}", timedOut: true);
        }
        catch (HttpRequestException ex) when (Warren.Fetch.Direct.Egress.EgressDeniedException.Find(ex) is { } refusal)
        {
            return configured
                ? FetchOutcome.Failed(source, $"{shown}: {refusal.Message}")
                : FetchOutcome.NotFound(source, $"{shown}: {refusal.Message}");
        }
        catch (HttpRequestException ex)
        {
            return FetchOutcome.Failed(source, $"{shown}: {OneLine(ex)}", timedOut: ex.HttpRequestError == HttpRequestError.ConnectionError && ex.InnerException is TimeoutException);
        }
        catch (IOException ex)
        {
            return FetchOutcome.Failed(source, $"{shown}: reading response: {OneLine(ex)}");
        }
    }

    private static async Task<string> ReadReasonAsync(HttpResponseMessage response, CancellationToken token)
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            var buffer = new byte[1024];
            var total = 0;
            int n;
            while (total < buffer.Length && (n = await body.ReadAsync(buffer.AsMemory(total), token).ConfigureAwait(false)) > 0)
            {
                total += n;
            }

            return FirstLine(Encoding.UTF8.GetString(buffer, 0, total));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return "";
        }
    }

    /// <summary>The first non-empty line, without control characters, at most 300 characters.</summary>
    public static string FirstLine(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var sb = new StringBuilder(Math.Min(line.Length, 300));
            foreach (var c in line)
            {
                if (sb.Length >= 300)
                {
                    break;
                }

                sb.Append(char.IsControl(c) ? ' ' : c);
            }

            return sb.ToString();
        }

        return "";
    }

    public static string OneLine(Exception ex)
    {
        var message = ex.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) && inner.Message != ex.Message
            ? ex.Message.TrimEnd('.') + ": " + inner.Message
            : ex.Message;
        return FirstLine(message);
    }

    /// <summary>Builds the shared upstream HttpClient: pooled connections, connect timeout, standard proxy variables;
    /// with a policy, every connection and redirect hop passes it (and only same-host redirects are followed).</summary>
    public static HttpClient CreateClient(WarrenOptions options, Warren.Fetch.Direct.Egress.EgressPolicy? egress = null)
    {
        var handler = new SocketsHttpHandler
        {
            Proxy = options.OutboundProxy is { Length: > 0 } proxy ? new OutboundProxy(new Uri(proxy), options.OutboundProxyBypass ?? "") : null,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = 64,
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 5,
        };
        return egress is null
            ? new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan }
            : new HttpClient(Warren.Fetch.Direct.Egress.EgressHttpHandler.Create(egress, handler)) { Timeout = Timeout.InfiniteTimeSpan };
    }
}

/// <summary>An explicit outbound proxy with NO_PROXY-style bypass entries ("host", ".domain", "host:port", "*").</summary>
public sealed class OutboundProxy(Uri proxy, string bypass) : IWebProxy
{
    private readonly string[] _bypass = bypass.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public ICredentials? Credentials { get; set; }

    public Uri GetProxy(Uri destination) => proxy;

    public bool IsBypassed(Uri host)
    {
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
}

/// <summary>This process's identity, for loop detection.</summary>
public sealed class InstanceIdentity
{
    public string Id { get; } = Guid.NewGuid().ToString("N");
}
