using Warren.Protocol;
using Warren.Protocol.GoProxy;

namespace Warren.Server.Upstream;

/// <summary>A fetched answer: the outcome and, when it is Ok, the staged file that holds the body (the caller owns it).</summary>
public sealed record ChainResult(FetchOutcome Outcome, string? File);

/// <summary>The configured chain of sources with the go command's fall-through rules and GONOPROXY routing. Every
/// http(s) proxy of the chain has a <see cref="CircuitBreaker"/>: while it is open the proxy is passed over at once with
/// the failure that opened it (so `|` goes on to the next entry and `,` stops there, exactly as after a real failure),
/// and a background probe closes it when the proxy answers again.</summary>
public sealed class UpstreamChain : IDisposable
{
    private readonly (IModuleSource Source, bool FallBackOnError, CircuitBreaker? Breaker)[] _entries;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<CircuitBreaker, byte> _probing = new();
    private readonly TimeProvider _time;
    private readonly IModuleSource _direct;
    private readonly string _noProxy;
    private readonly WarrenMetrics _metrics;
    private readonly ILogger<UpstreamChain> _logger;

    public UpstreamChain(IOptions<WarrenOptions> options, ProtocolSettings settings, HttpDownloader downloader, DirectSource direct, WarrenMetrics metrics,
        ILogger<UpstreamChain> logger, UpstreamCredentials? credentials = null, TimeProvider? time = null, Ingest.LiveStages? live = null)
    {
        var o = options.Value;
        _direct = direct;
        _time = time ?? TimeProvider.System;
        _stoppingToken = _stopping.Token;
        var breakers = BreakerSettings.From(o);
        _entries = settings.Upstream.Select(s =>
        {
            var source = s.IsDirect ? _direct : s.IsOff ? new OffSource(o.Offline) : (IModuleSource)new ProxySource(s.Url, downloader, credentials, configured: true, live);
            return (source, s.FallBackOnError, source is ProxySource { IsRemote: true } && breakers.Enabled ? NewBreaker(source.Name, breakers, metrics) : null);
        }).ToArray();
        // GONOPROXY, and GOPRIVATE whatever GONOPROXY says: a private path is never shown to an upstream proxy.
        _noProxy = string.Join(',', new[] { o.NoProxy, o.Private }.Where(p => !string.IsNullOrWhiteSpace(p)));
        _metrics = metrics;
        _logger = logger;
        foreach (var proxy in Proxies)
        {
            if (proxy.CredentialSource is { } from)
            {
                Log.UpstreamCredentials(logger, proxy.Name, from);
            }
            else if (proxy.NetrcWithheld)
            {
                Log.UpstreamCredentialsWithheld(logger, proxy.Name);
            }
        }
    }

    /// <summary>The circuit breakers of the chain's http(s) proxies, in order.</summary>
    public IEnumerable<CircuitBreaker> Breakers => _entries.Select(e => e.Breaker).OfType<CircuitBreaker>();

    /// <summary>The upstream proxies (http/https), in order.</summary>
    public IEnumerable<ProxySource> Proxies => _entries.Select(e => e.Source).OfType<ProxySource>();

    public bool IsNoProxy(string modulePath) => _noProxy.Length > 0 && ModulePatterns.MatchPrefixPatterns(_noProxy, modulePath);

    /// <summary>Asks the sources in order. newStagingFile gives a fresh path for each attempt.</summary>
    public async Task<ChainResult> FetchAsync(ModuleRequest request, Func<string> newStagingFile, CancellationToken cancellationToken)
    {
        if (IsNoProxy(request.ModulePath))
        {
            // GONOPROXY: never shown to a proxy; straight to the origin.
            return await TryOneAsync(_direct, request, newStagingFile, cancellationToken).ConfigureAwait(false);
        }

        // The most helpful error wins, as in the go command: direct, then a proxy's failure, then "not found".
        FetchOutcome? best = null;
        var bestRank = 0;
        foreach (var (source, fallBackOnError, breaker) in _entries)
        {
            ChainResult result;
            if (breaker?.Refusal() is { } refused)
            {
                result = Refused(request, refused);
            }
            else
            {
                result = await TryOneAsync(source, request, newStagingFile, cancellationToken).ConfigureAwait(false);
                breaker?.Record(result.Outcome);
            }

            if (result.Outcome.IsOk)
            {
                return result;
            }

            var outcome = result.Outcome;
            var notFound = outcome.IsNotFound;
            if (source is DirectSource)
            {
                (best, bestRank) = (outcome, 2);
            }
            else if (bestRank <= 1 && !notFound)
            {
                (best, bestRank) = (outcome, 1);
            }
            else if (bestRank == 0)
            {
                best = outcome;
            }

            if (!fallBackOnError && !notFound)
            {
                break;
            }
        }

        return new ChainResult(best!, null);
    }

    /// <summary>A request passed over because its upstream's breaker is open: the failure that opened it, at once.</summary>
    private ChainResult Refused(ModuleRequest request, FetchOutcome refused)
    {
        Log.UpstreamSkipped(_logger, request.ToString(), refused.Source);
        return new ChainResult(refused, null);
    }

    private CircuitBreaker NewBreaker(string name, BreakerSettings settings, WarrenMetrics metrics)
    {
        var breaker = new CircuitBreaker(name, settings, _time);
        metrics.UpstreamUp(name, up: true);
        breaker.Changed += (b, state) =>
        {
            metrics.UpstreamUp(b.Upstream, state == BreakerState.Closed);
            var snapshot = b.Snapshot();
            if (state == BreakerState.Closed)
            {
                Log.UpstreamUp(_logger, b.Upstream);
                return;
            }

            Log.UpstreamDown(_logger, b.Upstream, snapshot.ConsecutiveFailures, snapshot.LastError ?? "", snapshot.Cooldown);
            var proxy = _entries.First(e => ReferenceEquals(e.Breaker, b)).Source as ProxySource;
            _ = ProbeUntilUpAsync(b, proxy!, _stoppingToken);
        };
        return breaker;
    }

    /// <summary>Probes an open breaker's proxy in the background, after each cool-down, until it answers. One loop per
    /// breaker at a time; a breaker that opened again while its loop was ending gets a new one.</summary>
    private async Task ProbeUntilUpAsync(CircuitBreaker breaker, ProxySource proxy, CancellationToken cancellationToken)
    {
        if (!_probing.TryAdd(breaker, 0))
        {
            return;
        }

        try
        {
            while (breaker.UntilProbe() is { } wait)
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var failure = await proxy.ProbeAsync(cancellationToken).ConfigureAwait(false);
                breaker.Probed(failure);
                if (failure is not null)
                {
                    Log.UpstreamProbeFailed(_logger, proxy.Name, failure, breaker.Snapshot().Cooldown);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _probing.TryRemove(breaker, out _);
        }

        if (breaker.UntilProbe() is not null && !cancellationToken.IsCancellationRequested)
        {
            await ProbeUntilUpAsync(breaker, proxy, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private async Task<ChainResult> TryOneAsync(IModuleSource source, ModuleRequest request, Func<string> newStagingFile, CancellationToken cancellationToken)
    {
        var file = newStagingFile();
        FetchOutcome outcome;
        TimeSpan elapsed;
        try
        {
            (outcome, elapsed) = await _metrics.MeasureFetchAsync(request.Kind.Label(), () => source.FetchAsync(request, file, cancellationToken)).ConfigureAwait(false);
        }
        catch
        {
            TryDelete(file);
            throw;
        }

        Log.UpstreamFetch(_logger, request.ToString(), source.Name, outcome.Status, elapsed.TotalMilliseconds, outcome.Reason);
        if (!outcome.IsOk)
        {
            TryDelete(file);
            return new ChainResult(outcome, null);
        }

        return new ChainResult(outcome, file);
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
