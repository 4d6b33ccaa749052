using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Warren.Core.Limits;

namespace Warren.Protocol.GoProxy;

/// <summary>Settings of a <see cref="GoProxyClient"/>, fixed for its life.</summary>
public sealed record GoProxyClientOptions
{
    /// <summary>The limit for one whole request, body included (infinite by default).</summary>
    public TimeSpan RequestTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>The handler's connect timeout, for messages only.</summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary>Removes secrets from every reason (user information of URLs is always removed).</summary>
    public Func<string, string>? Redact { get; init; }

    /// <summary>The message of an outbound-policy refusal found in an exception's chain, or null when it is none.</summary>
    public Func<Exception, string?>? FindRefusal { get; init; }

    /// <summary>Limits concurrent requests (null: no limit).</summary>
    public ConcurrencyGate? Gate { get; init; }

    /// <summary>Headers sent with every request (e.g. a loop-detection header).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>Tries per request when the answer is a 429 or a 5xx or there is none (1: no retry); retries happen
    /// before any of the body is read, so nothing is written twice.</summary>
    public int Attempts { get; init; } = 1;

    /// <summary>The pause before the first retry, growing linearly.</summary>
    public TimeSpan RetryPause { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>One GET's own settings.</summary>
/// <param name="Authorization">Sent with this request only; dropped when the response redirects (so it never reaches another host).</param>
/// <param name="Configured">True for a proxy or database the operator configured: the first line of an error body is
/// part of the reason (in the GOPROXY protocol a 404/410 body explains itself), and a refusal by the outbound policy is
/// a failure. False for a discovered origin (a go-import "mod" tag): its text is never echoed, and a refusal answers
/// like a missing module, as an unreachable origin does for the go command.</param>
/// <param name="BodyStarting">Called once a success's body is about to be copied, with its declared size (null when
/// none was declared or the body is encoded): a caller may show the destination to readers from then on.</param>
public sealed record GoProxyRequest(AuthenticationHeaderValue? Authorization = null, bool Configured = true, Action<long?>? BodyStarting = null)
{
    public static readonly GoProxyRequest Default = new();
}

/// <summary>The GOPROXY protocol client (https://go.dev/ref/mod#goproxy-protocol): $base/$module/@v/list,
/// @v/$version.info/.mod/.zip and /@latest, with escaped paths and versions, bodies streamed under a size limit, and
/// every HTTP status or network error turned into an expected outcome (<see cref="ProxyFetchResult"/>), never an
/// exception; only cancellation by the caller throws. The HttpClient comes from the caller (an IHttpClientFactory).</summary>
public sealed class GoProxyClient
{
    private const int ReasonBytes = 1024;

    private readonly HttpClient _http;
    private readonly GoProxyClientOptions _options;

    public GoProxyClient(HttpClient http, GoProxyClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _options = options ?? new GoProxyClientOptions();
    }

    public GoProxyClientOptions Options => _options;

    /// <summary>The version list of a module (@v/list).</summary>
    public Task<ProxyFetchBytes> ListAsync(Uri proxy, string modulePath, CancellationToken cancellationToken, GoProxyRequest? request = null) =>
        GetBytesAsync(Join(proxy, GoProxyPaths.List(modulePath)), GoProxyPaths.MaxMetadata, cancellationToken, request);

    /// <summary>The @latest answer of a module.</summary>
    public Task<ProxyFetchBytes> LatestAsync(Uri proxy, string modulePath, CancellationToken cancellationToken, GoProxyRequest? request = null) =>
        GetBytesAsync(Join(proxy, GoProxyPaths.Latest(modulePath)), GoProxyPaths.MaxMetadata, cancellationToken, request);

    /// <summary>The .info of a module version.</summary>
    public Task<ProxyFetchBytes> InfoAsync(Uri proxy, string modulePath, string version, CancellationToken cancellationToken, GoProxyRequest? request = null) =>
        GetBytesAsync(Join(proxy, GoProxyPaths.VersionFile(modulePath, version, ".info")), GoProxyPaths.MaxMetadata, cancellationToken, request);

    /// <summary>The go.mod of a module version (at most the go command's limit).</summary>
    public Task<ProxyFetchBytes> ModAsync(Uri proxy, string modulePath, string version, CancellationToken cancellationToken, GoProxyRequest? request = null) =>
        GetBytesAsync(Join(proxy, GoProxyPaths.VersionFile(modulePath, version, ".mod")), GoProxyPaths.MaxGoMod, cancellationToken, request);

    /// <summary>Streams the zip of a module version into destination (at most maxBytes).</summary>
    public Task<ProxyFetchResult> ZipAsync(Uri proxy, string modulePath, string version, Stream destination, long maxBytes, CancellationToken cancellationToken,
        GoProxyRequest? request = null) =>
        GetAsync(Join(proxy, GoProxyPaths.VersionFile(modulePath, version, ".zip")), destination, maxBytes, cancellationToken, request);

    /// <summary>proxy joined with a relative path (proxy's own path kept).</summary>
    public static Uri Join(Uri proxy, string relative)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        return new Uri(proxy.AbsoluteUri.TrimEnd('/') + "/" + relative.TrimStart('/'));
    }

    /// <summary>GETs url into memory (at most maxBytes).</summary>
    public async Task<ProxyFetchBytes> GetBytesAsync(Uri url, long maxBytes, CancellationToken cancellationToken, GoProxyRequest? request = null)
    {
        using var buffer = new MemoryStream();
        var result = await GetAsync(url, buffer, maxBytes, cancellationToken, request).ConfigureAwait(false);
        return new ProxyFetchBytes(result, result.IsOk ? buffer.ToArray() : null);
    }

    /// <summary>GETs url and streams a successful (2xx) body into destination, at most maxBytes.</summary>
    /// <exception cref="OperationCanceledException">cancellationToken was cancelled.</exception>
    public async Task<ProxyFetchResult> GetAsync(Uri url, Stream destination, long maxBytes, CancellationToken cancellationToken, GoProxyRequest? request = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(destination);
        var result = await GetCoreAsync(url, destination, maxBytes, request ?? GoProxyRequest.Default, cancellationToken).ConfigureAwait(false);
        return result.IsOk || _options.Redact is not { } redact ? result : result with { Reason = redact(result.Reason) };
    }

    private async Task<ProxyFetchResult> GetCoreAsync(Uri url, Stream destination, long maxBytes, GoProxyRequest request, CancellationToken cancellationToken)
    {
        var time = _options.Time;
        var start = time.GetTimestamp();
        using var slot = _options.Gate is { } gate ? await gate.EnterAsync(cancellationToken).ConfigureAwait(false) : null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = _options.RequestTimeout == Timeout.InfiniteTimeSpan ? null : time.CreateTimer(
            static state => ((CancellationTokenSource)state!).Cancel(), timeout, _options.RequestTimeout, Timeout.InfiniteTimeSpan);
        var token = timeout.Token;
        var shown = Redact(url);
        ProxyFetchResult Fail(ProxyFailure failure, string reason, int? status = null, string? cause = null) =>
            new(ProxyFetchStatus.Failed, failure, status, reason, 0, time.GetElapsedTime(start), cause);
        try
        {
            using var response = await SendAsync(url, request, token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is 404 or 410)
            {
                var reason = request.Configured ? await ReadReasonAsync(response, token).ConfigureAwait(false) : $"{shown}: {status} {response.ReasonPhrase}";
                return new ProxyFetchResult(ProxyFetchStatus.NotFound, ProxyFailure.Status, status,
                    reason.Length > 0 ? reason : $"{status} {response.ReasonPhrase}", 0, time.GetElapsedTime(start));
            }

            if (!response.IsSuccessStatusCode)
            {
                var reason = request.Configured ? await ReadReasonAsync(response, token).ConfigureAwait(false) : "";
                return Fail(ProxyFailure.Status, $"{shown}: {status} {response.ReasonPhrase}" + (reason.Length > 0 ? ": " + reason : ""), status);
            }

            var declared = response.Content.Headers.ContentLength;
            var encoded = response.Content.Headers.ContentEncoding.Count > 0;
            if (declared > maxBytes)
            {
                return Fail(ProxyFailure.TooLarge, $"{shown}: response of {declared} bytes exceeds the limit of {maxBytes} bytes", status);
            }

            request.BodyStarting?.Invoke(encoded ? null : declared);
            long written = 0;
            var buffer = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
                int n;
                while ((n = await body.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
                {
                    written += n;
                    if (written > maxBytes)
                    {
                        return Fail(ProxyFailure.TooLarge, $"{shown}: response exceeds the limit of {maxBytes} bytes", status);
                    }

                    await destination.WriteAsync(buffer.AsMemory(0, n), token).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (declared is { } length && !encoded && length != written)
            {
                return Fail(ProxyFailure.Truncated, $"{shown}: truncated response: got {written} of {length} bytes", status);
            }

            return new ProxyFetchResult(ProxyFetchStatus.Ok, ProxyFailure.None, status, "", written, time.GetElapsedTime(start));
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Either our own limit for the whole request, or the handler's connect timeout.
            if (timeout.IsCancellationRequested)
            {
                return Fail(ProxyFailure.Timeout, $"{shown}: timed out after {_options.RequestTimeout.TotalSeconds:0.#}s");
            }

            // With a connect timeout configured (and the client's own timeout infinite) it is the handler's; else
            // the HttpClient's timeout.
            return ex.InnerException is not TimeoutException ? Fail(ProxyFailure.Timeout, $"{shown}: request cancelled: {OneLine(ex)}")
                : _options.ConnectTimeout is { } connect ? Fail(ProxyFailure.ConnectTimeout, $"{shown}: connecting timed out after {connect.TotalSeconds:0.#}s")
                : Fail(ProxyFailure.Timeout, $"{shown}: timed out");
        }
        catch (HttpRequestException ex) when (_options.FindRefusal?.Invoke(ex) is { } refusal)
        {
            return request.Configured
                ? Fail(ProxyFailure.Refused, $"{shown}: {refusal}")
                : new ProxyFetchResult(ProxyFetchStatus.NotFound, ProxyFailure.Refused, null, $"{shown}: {refusal}", 0, time.GetElapsedTime(start));
        }
        catch (HttpRequestException ex)
        {
            var connectTimeout = ex.HttpRequestError == HttpRequestError.ConnectionError && ex.InnerException is TimeoutException;
            return Fail(connectTimeout ? ProxyFailure.ConnectTimeout : ProxyFailure.Network, $"{shown}: {OneLine(ex)}", cause: Classify(ex));
        }
        catch (IOException ex)
        {
            return Fail(ProxyFailure.Read, $"{shown}: reading response: {OneLine(ex)}");
        }
    }

    /// <summary>Sends the request; a 429, a 5xx or no answer is tried again while attempts remain.</summary>
    private async Task<HttpResponseMessage> SendAsync(Uri url, GoProxyRequest request, CancellationToken token)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, url);
            foreach (var (name, value) in _options.Headers)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }

            message.Headers.Authorization = request.Authorization;
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (attempt < _options.Attempts && _options.FindRefusal?.Invoke(ex) is null)
            {
                await Task.Delay(_options.RetryPause * attempt, _options.Time, token).ConfigureAwait(false);
                continue;
            }

            var transient = response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;
            if (!transient || attempt >= _options.Attempts)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(_options.RetryPause * attempt, _options.Time, token).ConfigureAwait(false);
        }
    }

    private static async Task<string> ReadReasonAsync(HttpResponseMessage response, CancellationToken token)
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            var buffer = new byte[ReasonBytes];
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

    /// <summary>A URL as shown in messages and logs: no user information, no query.</summary>
    public static string Redact(Uri uri) => WithoutUserInfo(uri).GetLeftPart(UriPartial.Path);

    /// <summary>The URL without its user information (the same URL when it has none).</summary>
    public static Uri WithoutUserInfo(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return string.IsNullOrEmpty(uri.UserInfo) ? uri : new UriBuilder(uri) { UserName = "", Password = "" }.Uri;
    }

    /// <summary>The first non-empty line, without control characters, at most 300 characters.</summary>
    public static string FirstLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
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

    /// <summary>An exception's message and its inner one's, on one line.</summary>
    public static string OneLine(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var message = ex.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) && inner.Message != ex.Message
            ? ex.Message.TrimEnd('.') + ": " + inner.Message
            : ex.Message;
        return FirstLine(message);
    }

    /// <summary>The class of a network error as people diagnose it: "DNS lookup failed", "connection refused (…)".</summary>
    public static string Classify(HttpRequestException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        SocketException? socket = null;
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is SocketException s)
            {
                socket = s;
                break;
            }
        }

        var kind = e.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "DNS lookup failed",
            HttpRequestError.SecureConnectionError => "TLS handshake failed",
            HttpRequestError.ProxyTunnelError => "outbound proxy tunnel failed",
            HttpRequestError.ConnectionError when socket?.SocketErrorCode == SocketError.ConnectionRefused => "connection refused",
            HttpRequestError.ConnectionError => "connection failed",
            _ => "request failed",
        };
        var detail = socket?.Message ?? e.InnerException?.Message ?? e.Message;
        return detail.Equals(kind, StringComparison.OrdinalIgnoreCase) ? kind : $"{kind} ({detail})";
    }
}
