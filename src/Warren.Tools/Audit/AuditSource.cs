using Warren.Protocol.GoProxy;

namespace Warren.Tools.Audit;

/// <summary>The answer to one GET: a body, "not found" (404/410, or no such file), or a failure with a one-line reason.</summary>
internal readonly record struct SourceAnswer(byte[]? Body, bool NotFound, string? Failure)
{
    public bool IsOk => Body is not null;
}

/// <summary>A GOPROXY or a vulnerability database read over HTTP(S) (the GOPROXY protocol client) or from a file:// tree,
/// with at most a given number of requests at once.</summary>
internal sealed class AuditSource
{
    private readonly Uri _base;
    private readonly GoProxyClient? _client;
    private readonly string? _directory;
    private readonly SemaphoreSlim _gate;

    public AuditSource(Uri baseUri, HttpClient http, SemaphoreSlim gate)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        _base = baseUri;
        _gate = gate;
        if (baseUri.IsFile)
        {
            _directory = Path.GetFullPath(baseUri.LocalPath);
        }
        else
        {
            _client = new GoProxyClient(http, new GoProxyClientOptions { Attempts = 3 });
        }
    }

    /// <summary>The base URL as shown to people (user information removed).</summary>
    public string Display => _client is null ? _base.AbsoluteUri : GoProxyClient.Redact(_base);

    /// <summary>GETs base/relative (relative made of escaped module paths and versions, or database file names).</summary>
    public async Task<SourceAnswer> GetAsync(string relative, long maxBytes, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_directory is not null)
            {
                return await ReadFileAsync(relative, maxBytes, cancellationToken).ConfigureAwait(false);
            }

            var url = GoProxyClient.Join(_base, relative);
            var answer = await _client!.GetBytesAsync(url, maxBytes, cancellationToken).ConfigureAwait(false);
            return answer.IsOk ? new SourceAnswer(answer.Body, false, null)
                : answer.Result.IsNotFound ? new SourceAnswer(null, true, null)
                : new SourceAnswer(null, false, $"{GoProxyClient.Redact(url)}: {answer.Result.Reason}");
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<SourceAnswer> ReadFileAsync(string relative, long maxBytes, CancellationToken cancellationToken)
    {
        var file = Path.GetFullPath(Path.Combine(_directory!, relative.TrimStart('/')));
        if (!file.StartsWith(_directory!.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return new SourceAnswer(null, true, null);
        }

        try
        {
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                return new SourceAnswer(null, true, null);
            }

            if (info.Length > maxBytes)
            {
                return new SourceAnswer(null, false, $"{file}: larger than {maxBytes} bytes");
            }

            return new SourceAnswer(await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false), false, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new SourceAnswer(null, false, $"{file}: {ex.Message}");
        }
    }
}
