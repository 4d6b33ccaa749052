using System.Net.Http.Headers;
using Warren.Fetch.Direct.Git;
using Warren.Protocol.GoProxy;

namespace Warren.Server.Upstream;

/// <summary>An upstream GOPROXY, over http(s) or a file:// tree. User information in the URL is taken out of it and
/// sent as HTTP Basic authentication to this proxy only (see <see cref="UpstreamCredentials"/>).</summary>
public sealed class ProxySource : IModuleSource
{
    private readonly Uri _base;
    private readonly HttpDownloader _downloader;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly bool _configured;
    private readonly Ingest.LiveStages? _live;

    /// <param name="url">The proxy's base URL.</param>
    /// <param name="downloader">Fetches over http(s).</param>
    /// <param name="credentials">Where credentials come from; null sends none.</param>
    /// <param name="configured">True for an upstream the operator configured (not one a go-import tag named).</param>
    /// <param name="live">Where zips being downloaded are shown to requests that stream them; null: never streamed.</param>
    public ProxySource(string url, HttpDownloader downloader, UpstreamCredentials? credentials = null, bool configured = false, Ingest.LiveStages? live = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        _configured = configured;
        _live = live;
        var uri = new Uri(url);
        var embedded = UpstreamCredentials.FromUserInfo(uri);
        credentials?.Redactor.Add(embedded);
        _base = new Uri(GoProxyClient.WithoutUserInfo(uri).AbsoluteUri.TrimEnd('/') + "/");
        _downloader = downloader;
        Name = HttpDownloader.Redact(uri);
        if (credentials is not null && !_base.IsFile)
        {
            _authorization = credentials.For(_base, embedded, configured);
            CredentialSource = _authorization is null ? null : embedded is not null ? "the user information of its URL" : ".netrc";
            NetrcWithheld = _authorization is null && _base.Scheme == Uri.UriSchemeHttp && credentials.HasNetrcEntry(_base.IdnHost);
        }
    }

    /// <summary>Where this proxy's credentials come from ("the user information of its URL", ".netrc"); null when none are sent.</summary>
    public string? CredentialSource { get; }

    /// <summary>True when the .netrc has an entry for this plain-http proxy that is not sent.</summary>
    public bool NetrcWithheld { get; }

    public string Name { get; }

    public Uri BaseUri => _base;

    public async Task<FetchOutcome> FetchAsync(ModuleRequest request, string destinationPath, CancellationToken cancellationToken)
    {
        using var activity = Warren.Core.Diagnostics.WarrenActivity.Source.StartActivity(Warren.Core.Diagnostics.WarrenActivity.UpstreamFetch);
        activity?.SetTag("warren.upstream", Name).SetTag("warren.module", request.ModulePath).SetTag("warren.kind", request.Kind.ToString());
        var relative = request.ProxyPath();
        var max = request.Kind.MaxBytes();
        if (_base.IsFile)
        {
            return await CopyFileAsync(Path.Combine(_base.LocalPath, relative), destinationPath, max, cancellationToken).ConfigureAwait(false);
        }

        var stage = request.Kind == RequestKind.Zip ? _live?.Begin(Ingest.ModuleIngestor.Key(request.ModulePath, request.Version!, ArtifactKind.Zip), destinationPath) : null;
        return await _downloader.DownloadAsync(new Uri(_base, relative), Name, destinationPath, max, cancellationToken, _authorization, _configured, stage).ConfigureAwait(false);
    }

    /// <summary>True for an http(s) proxy: one that can be down, and so has a circuit breaker.</summary>
    public bool IsRemote => !_base.IsFile;

    /// <summary>A cheap request that says whether the proxy is up: a GET of its root, through the same client (the
    /// egress policy, the outbound proxy, the limit on fetches) and with the same credentials as a module request. Any
    /// answer but a 5xx counts as up (a proxy need not serve its root); null when up, else why not.</summary>
    public async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        var result = await _downloader.Client.GetAsync(_base, Stream.Null, ProbeMaxBytes, cancellationToken, new GoProxyRequest(_authorization, _configured)).ConfigureAwait(false);
        return HttpDownloader.IsDown(result) || result.Failure == ProxyFailure.Refused ? result.Reason : null;
    }

    private const long ProbeMaxBytes = 1 << 20;

    private async Task<FetchOutcome> CopyFileAsync(string path, string destinationPath, long max, CancellationToken cancellationToken)
    {
        try
        {
            await using var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            if (source.Length > max)
            {
                return FetchOutcome.Failed(Name, $"{path}: {source.Length} bytes exceeds the limit of {max} bytes");
            }

            await using var dest = new FileStream(destinationPath, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            await source.CopyToAsync(dest, cancellationToken).ConfigureAwait(false);
            return FetchOutcome.Ok(Name, source.Length);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return FetchOutcome.NotFound(Name, "not found");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return FetchOutcome.Failed(Name, $"reading {Name}: {HttpDownloader.OneLine(ex)}");
        }
    }
}

/// <summary>`off`: module lookup disabled (in an offline mirror: the module is not in it).</summary>
public sealed class OffSource(bool offline = false) : IModuleSource
{
    public string Name => "off";

    public Task<FetchOutcome> FetchAsync(ModuleRequest request, string destinationPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Task.FromResult(FetchOutcome.NotFound(Name, offline
            ? $"{request.ModulePath}{(request.Version is { } v ? "@" + v : "")} is not in this offline mirror"
            : "module lookup disabled by the upstream setting \"off\""));
    }
}
