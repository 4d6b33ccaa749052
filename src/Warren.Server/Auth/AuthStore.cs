using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Warren.Server.Auth;

/// <summary>A principal of the loaded auth file.</summary>
public sealed class AuthPrincipal
{
    internal AuthPrincipal(AuthPrincipalEntry entry)
    {
        Name = entry.Name;
        Id = entry.Id;
        Hash = entry.Hash;
        Grants = GlobList.Parse(string.Join(',', entry.Grants));
        Admin = entry.Admin;
        Expires = entry.Expires;
        PartitionKey = "p:" + entry.Name;
    }

    public string Name { get; }

    public string Id { get; }

    public GlobList Grants { get; }

    public bool Admin { get; }

    public DateTimeOffset? Expires { get; }

    internal TokenHashEntry Hash { get; }

    /// <summary>The rate limiter's partition.</summary>
    internal string PartitionKey { get; }
}

public enum AuthStatus
{
    Valid,

    /// <summary>Not a token Warren issued, or one no principal holds (any more).</summary>
    Invalid,
    Expired,
}

public readonly record struct AuthResult(AuthStatus Status, AuthPrincipal? Principal);

/// <summary>The live auth file: loaded at start-up, reloaded when it changes (a broken new version keeps the last good
/// one), and the authentication of presented tokens. Argon2 runs once per token and file version: results are cached
/// (bounded) under the token's SHA-256, so a known token costs a hash and a dictionary lookup.</summary>
public sealed class AuthStore : IDisposable
{
    /// <summary>Most cached verification results; the cache is emptied when full.</summary>
    public const int MaxCachedTokens = 10_000;

    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string? _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<TokenDigest, AuthPrincipal?> _cache = new();
    private readonly SemaphoreSlim _hashing = new(Math.Max(1, Environment.ProcessorCount / 2));
    private readonly Lock _reloadLock = new();
    private static readonly TimeSpan SettleDelay = TimeSpan.FromMilliseconds(200);

    private readonly FileSystemWatcher? _watcher;
    private readonly ITimer? _settle;
    private volatile Snapshot _snapshot;
    private (DateTime Mtime, long Length) _fileStamp;
    private (DateTime Mtime, long Length) _failedStamp;
    private long _nextCheck;
    private volatile bool _dirty;

    public AuthStore(IOptions<WarrenOptions> options, TimeProvider time, ILogger<AuthStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _logger = logger;
        _path = string.IsNullOrEmpty(options.Value.AuthFile) ? null : Path.GetFullPath(options.Value.AuthFile);
        _snapshot = new Snapshot(new Dictionary<string, AuthPrincipal>(StringComparer.Ordinal), 0);
        if (_path is null)
        {
            return;
        }

        _fileStamp = Stamp(_path);
        _snapshot = Build(AuthFile.Load(_path), 1);
        Log.AuthFileLoaded(_logger, _path, _snapshot.ById.Count);
        try
        {
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            // A change is picked up at once (after a short pause for the writer to finish), not only at the next request.
            var settle = _time.CreateTimer(_ => ReloadIfChanged(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _settle = settle;
            FileSystemEventHandler changed = (_, _) =>
            {
                _dirty = true;
                settle.Change(SettleDelay, Timeout.InfiniteTimeSpan);
            };
            _watcher.Changed += changed;
            _watcher.Created += changed;
            _watcher.Deleted += changed;
            _watcher.Renamed += (sender, e) => changed(sender, e);
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            // Without notifications the once-a-second mtime check still picks changes up.
            _watcher = null;
        }
    }

    /// <summary>Raised after a reload with the names of the principals added and removed (under the reload lock).</summary>
    public event Action<IReadOnlyList<string>, IReadOnlyList<string>>? PrincipalsChanged;

    /// <summary>Whether access control is on (an auth file is configured).</summary>
    public bool Enabled => _path is not null;

    /// <summary>Principals of the file version in force.</summary>
    public int Count => _snapshot.ById.Count;

    /// <summary>Checks a presented token. Unknown shapes and ids are refused at once; a known id costs one Argon2
    /// verification per file version, bounded in concurrency.</summary>
    public async ValueTask<AuthResult> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ReloadIfChanged();
        var snapshot = _snapshot;
        var digest = TokenDigest.Of(token);
        if (!_cache.TryGetValue(digest, out var principal))
        {
            if (!TokenFormat.TryGetId(token, out var idSpan) || !snapshot.ById.TryGetValue(idSpan.ToString(), out var candidate))
            {
                return new AuthResult(AuthStatus.Invalid, null);
            }

            await _hashing.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                principal = TokenHash.Verify(token, candidate.Hash) ? candidate : null;
            }
            finally
            {
                _hashing.Release();
            }

            if (ReferenceEquals(snapshot, _snapshot))
            {
                if (_cache.Count >= MaxCachedTokens)
                {
                    _cache.Clear();
                }

                _cache[digest] = principal;
            }
        }

        if (principal is null)
        {
            return new AuthResult(AuthStatus.Invalid, null);
        }

        return principal.Expires is { } expires && _time.GetUtcNow() >= expires
            ? new AuthResult(AuthStatus.Expired, principal)
            : new AuthResult(AuthStatus.Valid, principal);
    }

    /// <summary>Reloads the file now when its mtime or size changed (after this process edited it: the change is in
    /// force for the next request, not a watcher's delay later).</summary>
    public void ReloadNow()
    {
        _dirty = true;
        ReloadIfChanged();
    }

    /// <summary>Reloads the file when the watcher saw a change, or at most once a second when its mtime or size changed.</summary>
    public void ReloadIfChanged()
    {
        if (_path is null)
        {
            return;
        }

        var now = _time.GetTimestamp();
        if (!_dirty && now < Volatile.Read(ref _nextCheck))
        {
            return;
        }

        lock (_reloadLock)
        {
            Volatile.Write(ref _nextCheck, now + (long)(CheckInterval.TotalSeconds * _time.TimestampFrequency));
            _dirty = false;
            var stamp = Stamp(_path);
            if (stamp == _fileStamp || stamp == _failedStamp)
            {
                return;
            }

            try
            {
                var doc = AuthFile.Load(_path);
                var before = _snapshot;
                _snapshot = Build(doc, _snapshot.Generation + 1);
                _cache.Clear();
                _fileStamp = stamp;
                _failedStamp = default;
                Log.AuthFileReloaded(_logger, _path, _snapshot.ById.Count);
                if (PrincipalsChanged is { } changed)
                {
                    // A principal whose token changed (same name, new id) is both removed and added.
                    var added = _snapshot.ById.Keys.Except(before.ById.Keys).Select(id => _snapshot.ById[id].Name).ToList();
                    var removed = before.ById.Keys.Except(_snapshot.ById.Keys).Select(id => before.ById[id].Name).ToList();
                    if (added.Count > 0 || removed.Count > 0)
                    {
                        changed(added, removed);
                    }
                }
            }
            catch (AuthFileException e)
            {
                _failedStamp = stamp;
                Log.AuthFileReloadFailed(_logger, _path, e.Message);
            }
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _settle?.Dispose();
        _hashing.Dispose();
    }

    private static (DateTime, long) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }

    private static Snapshot Build(AuthFileDocument doc, long generation) =>
        new(doc.Principals.ToDictionary(p => p.Id, p => new AuthPrincipal(p), StringComparer.Ordinal), generation);

    private sealed record Snapshot(Dictionary<string, AuthPrincipal> ById, long Generation);

    /// <summary>SHA-256 of a presented token: the cache key (the token itself is never kept).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct TokenDigest(ulong A, ulong B, ulong C, ulong D)
    {
        public static TokenDigest Of(string token)
        {
            Span<byte> utf8 = token.Length <= 256 ? stackalloc byte[token.Length * 3] : new byte[Encoding.UTF8.GetMaxByteCount(token.Length)];
            var n = Encoding.UTF8.GetBytes(token, utf8);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(utf8[..n], hash);
            return MemoryMarshal.Read<TokenDigest>(hash);
        }
    }
}
