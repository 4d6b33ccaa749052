using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Warren.Fetch.Direct;
using Warren.Fetch.Direct.Discovery;
using Warren.Fetch.Direct.Git;
using Warren.Server.Ingest;

namespace Warren.Server.Auth;

/// <summary>What the origin said about a credential.</summary>
public enum OriginVerdict
{
    /// <summary>The credential can read the repository.</summary>
    Allowed,

    /// <summary>The credential was refused, or there is no such repository (the two are never told apart to a client).</summary>
    Denied,

    /// <summary>The origin (or discovery) failed: 502, not remembered.</summary>
    Unavailable,

    /// <summary>The check ran out of time: 504, not remembered.</summary>
    TimedOut,
}

/// <summary>One authorization decision; Reason is for the log (already free of secrets), never for the client.</summary>
public sealed record OriginDecision(OriginVerdict Verdict, string Repository, string Reason);

/// <summary>Decides whether a client's Basic credential may read the origin repository of a module whose path matches
/// <see cref="WarrenOptions.AuthorizeByOrigin"/>: the module path is resolved to its repository (go-get discovery), then
/// `git ls-remote` runs against it with that credential. Allowed and denied decisions are remembered per (keyed hash of
/// user and password, repository URL) for <see cref="WarrenOptions.OriginAuthzTtl"/>, bounded in count; concurrent
/// identical checks share one run. The raw credential is never stored: the cache key is an HMAC-SHA-256 under a random
/// key of this process, so not even a memory dump of the cache allows guessing passwords offline.</summary>
public sealed class OriginAuthorizer
{
    /// <summary>Most decisions remembered; the oldest goes first.</summary>
    public const int DefaultCapacity = 10_000;

    /// <summary>Upper bound of one ls-remote (the git timeout when shorter).</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromMinutes(1);

    private readonly string _patterns;
    private readonly RepoDiscovery _discovery;
    private readonly GitMirrorManager _git;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _ttl;
    private readonly TimeSpan _timeout;
    private readonly byte[] _hashKey = RandomNumberGenerator.GetBytes(32);
    private readonly OriginDecisionCache _cache;
    private readonly SingleFlight<OriginDecision> _flights = new();
    private readonly CancellationToken _stopping;
    private long _checks;

    public OriginAuthorizer(IOptions<WarrenOptions> options, RepoDiscovery discovery, GitMirrorManager git, TimeProvider time, IHostApplicationLifetime lifetime,
        ILogger<OriginAuthorizer> logger)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        _stopping = lifetime.ApplicationStopping;
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        _patterns = o.AuthorizeByOrigin ?? "";
        _ttl = o.OriginAuthzTtl;
        _timeout = o.GitTimeout < CheckTimeout ? o.GitTimeout : CheckTimeout;
        _discovery = discovery;
        _git = git;
        _time = time;
        _logger = logger;
        _cache = new OriginDecisionCache(DefaultCapacity, time);
    }

    /// <summary>`git ls-remote` checks run since start (cache hits and joined flights not counted).</summary>
    public long Checks => Interlocked.Read(ref _checks);

    /// <summary>Decisions remembered now.</summary>
    public int CachedDecisions => _cache.Count;

    /// <summary>The first configured pattern covering modulePath, or null when the module is not origin-authorized. Paths
    /// and patterns are also compared in lower case: hosts and some Git hosts ignore case, so "github.com/corp/x" must
    /// not escape a pattern written as "github.com/Corp".</summary>
    public string? MatchingPattern(string modulePath) => MatchingPattern(_patterns, modulePath);

    internal static string? MatchingPattern(string patterns, string modulePath)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        ArgumentNullException.ThrowIfNull(modulePath);
        if (patterns.Length == 0)
        {
            return null;
        }

        var lower = modulePath.ToLowerInvariant();
        foreach (var glob in patterns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (ModulePatterns.MatchPrefixPatterns(glob, modulePath) || ModulePatterns.MatchPrefixPatterns(glob.ToLowerInvariant(), lower))
            {
                return glob;
            }
        }

        return null;
    }

    /// <summary>Whether the credential (user, password) can read the origin repository of modulePath.</summary>
    public async Task<OriginDecision> AuthorizeAsync(string modulePath, string user, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        var (root, resolved) = await _discovery.ResolveAsync(modulePath, cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return resolved.Status switch
            {
                DirectStatus.NotFound => new OriginDecision(OriginVerdict.Denied, "", "no origin repository: " + resolved.Message),
                DirectStatus.Timeout => new OriginDecision(OriginVerdict.TimedOut, "", "discovery: " + resolved.Message),
                _ => new OriginDecision(OriginVerdict.Unavailable, "", "discovery: " + resolved.Message),
            };
        }

        if (!string.Equals(root.Vcs, "git", StringComparison.Ordinal))
        {
            return new OriginDecision(OriginVerdict.Denied, root.Url, $"the origin is a {root.Vcs} repository; only git origins can authorize");
        }

        var key = CredentialHash(user, password) + " " + root.Url;
        if (_cache.TryGet(key, out var remembered))
        {
            return remembered;
        }

        var credential = new GitCredential(user, password);
        return await _flights.RunAsync(key, () => CheckAsync(key, root.Url, credential), cancellationToken, out _).ConfigureAwait(false);
    }

    private async Task<OriginDecision> CheckAsync(string key, string repository, GitCredential credential)
    {
        // A flight joined just after another finished finds its decision here.
        if (_cache.TryGet(key, out var remembered))
        {
            return remembered;
        }

        Interlocked.Increment(ref _checks);
        var started = Stopwatch.GetTimestamp();
        DirectResult result;
        try
        {
            // Under the server's lifetime, not the first caller's request: the others waiting on this flight still want it.
            result = await _git.CheckAccessAsync(repository, credential, _timeout, _stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            result = DirectResult.Failed("shutting down");
        }
#pragma warning disable CA1031 // A fault of the check (git missing, say) is a 502 for this request, never an exception with a credential near it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            result = DirectResult.Failed(ex.GetType().Name + ": " + _git.Redact(ex.Message.ReplaceLineEndings(" ")));
        }

        var decision = result.Status switch
        {
            DirectStatus.Ok => new OriginDecision(OriginVerdict.Allowed, repository, "git ls-remote succeeded"),
            DirectStatus.NotFound => new OriginDecision(OriginVerdict.Denied, repository, result.Message),
            DirectStatus.Timeout => new OriginDecision(OriginVerdict.TimedOut, repository, result.Message),
            _ => new OriginDecision(OriginVerdict.Unavailable, repository, result.Message),
        };
        Log.OriginChecked(_logger, OriginAuthorizationMiddleware.Printable(credential.Username), repository, decision.Verdict,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        if (decision.Verdict is OriginVerdict.Allowed or OriginVerdict.Denied)
        {
            _cache.Set(key, decision, _time.GetUtcNow() + _ttl);
        }

        return decision;
    }

    private string CredentialHash(string user, string password)
    {
        var bytes = Encoding.UTF8.GetBytes(user + "\n" + password);
        try
        {
            return Convert.ToHexString(HMACSHA256.HashData(_hashKey, bytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}

/// <summary>Decisions by key until they expire (by the given clock), at most capacity of them: when full, the oldest
/// entry is evicted.</summary>
internal sealed class OriginDecisionCache(int capacity, TimeProvider time)
{
    private readonly Dictionary<string, LinkedListNode<(string Key, OriginDecision Decision, DateTimeOffset Expires)>> _map = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, OriginDecision Decision, DateTimeOffset Expires)> _order = new();
    private readonly Lock _gate = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _map.Count;
            }
        }
    }

    public bool TryGet(string key, out OriginDecision decision)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (_map.TryGetValue(key, out var node))
            {
                if (node.Value.Expires > now)
                {
                    decision = node.Value.Decision;
                    return true;
                }

                _map.Remove(key);
                _order.Remove(node);
            }
        }

        decision = null!;
        return false;
    }

    public void Set(string key, OriginDecision decision, DateTimeOffset expires)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (_map.Remove(key, out var existing))
            {
                _order.Remove(existing);
            }

            // Expired entries at the old end go first, then the oldest live ones while full.
            while (_order.First is { } first && (first.Value.Expires <= now || _map.Count >= capacity))
            {
                _map.Remove(first.Value.Key);
                _order.RemoveFirst();
            }

            _map[key] = _order.AddLast((key, decision, expires));
        }
    }
}
