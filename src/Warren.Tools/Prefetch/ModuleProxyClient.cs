using System.Buffers;
using System.Net;
using Warren.Core.Modules;

namespace Warren.Tools.Prefetch;

/// <summary>A GOPROXY request that did not succeed: the HTTP status (null when there was no answer) and the reason.</summary>
public sealed class ProxyFetchException : Exception
{
    public ProxyFetchException()
    {
    }

    public ProxyFetchException(string message)
        : base(message)
    {
    }

    public ProxyFetchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ProxyFetchException(string message, HttpStatusCode? status)
        : base(message)
    {
        Status = status;
    }

    public HttpStatusCode? Status { get; }
}

/// <summary>GETs of the GOPROXY protocol's /@v/ files from one proxy, streamed.</summary>
public sealed class ModuleProxyClient : IDisposable
{
    /// <summary>A go.mod larger than this is refused (the go command's limit).</summary>
    private const long MaxGoMod = ModuleZip.MaxGoMod;

    private readonly HttpClient _http;
    private readonly string _base;

    public ModuleProxyClient(string proxyUrl, HttpMessageHandler? handler = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(proxyUrl);
        _base = proxyUrl.TrimEnd('/');
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = TimeSpan.FromMinutes(10);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("warren-prefetch");
    }

    public string BaseUrl => _base;

    /// <summary>Tries per request when the proxy fails transiently (3).</summary>
    public int Attempts { get; init; } = 3;

    /// <summary>The pause before the first retry, doubled before the second (250 ms).</summary>
    public TimeSpan RetryPause { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The URL of path/@v/version + suffix (".info", ".mod", ".zip"), with the path and version escaped.</summary>
    /// <exception cref="ProxyFetchException">The path or version cannot be escaped.</exception>
    public string Url(ModuleKey module, string suffix)
    {
        if (!ModulePath.TryEscapePath(module.Path, out var path, out var pathError))
        {
            throw new ProxyFetchException("invalid module path: " + pathError);
        }

        if (!ModulePath.TryEscapeVersion(module.Version, out var version, out var versionError))
        {
            throw new ProxyFetchException(versionError ?? "invalid version");
        }

        return $"{_base}/{path}/@v/{version}{suffix}";
    }

    /// <summary>The go.mod of a module version (small, so held in memory).</summary>
    public async Task<byte[]> GetGoModAsync(ModuleKey module, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await CopyAsync(module, ".mod", buffer, MaxGoMod, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>Streams the body of path/@v/version+suffix into destination; returns the number of bytes.</summary>
    /// <exception cref="ProxyFetchException">Not a 200 answer, a network failure, or more than limit bytes.</exception>
    public async Task<long> CopyAsync(ModuleKey module, string suffix, Stream destination, long limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var url = Url(module, suffix);
        try
        {
            using var response = await GetWithRetriesAsync(url, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new ProxyFetchException($"GET {url}: {(int)response.StatusCode} {response.ReasonPhrase}", response.StatusCode);
            }

            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var buffer = ArrayPool<byte>.Shared.Rent(81920);
                try
                {
                    long total = 0;
                    int n;
                    while ((n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        total += n;
                        if (total > limit)
                        {
                            throw new ProxyFetchException($"GET {url}: body larger than {limit} bytes");
                        }

                        await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    }

                    return total;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (HttpRequestException e)
        {
            throw new ProxyFetchException($"GET {url}: {e.HttpRequestError}: {e.InnerException?.Message ?? e.Message}", e);
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProxyFetchException($"GET {url}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProxyFetchException($"GET {url}: timed out", e);
        }
    }

    /// <summary>The response headers of a GET; a connection failure, a 429 or a 5xx answer is tried again (before any
    /// of the body was read, so nothing is written twice) after a short pause, up to <see cref="Attempts"/> times.</summary>
    private async Task<HttpResponseMessage> GetWithRetriesAsync(string url, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (attempt < Attempts)
            {
                await Task.Delay(RetryPause * attempt, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var transient = response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;
            if (!transient || attempt >= Attempts)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(RetryPause * attempt, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _http.Dispose();
}
