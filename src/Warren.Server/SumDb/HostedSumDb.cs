using Warren.Core.SumDb;

namespace Warren.Server.SumDb;

/// <summary>The checksum database this server hosts (--hosted-sumdb), if any: its signer and its log, kept in the
/// store under .warren/sumdb-hosted/NAME (a <see cref="FileHostedLogStorage"/>). The log is opened at start-up, which
/// takes its single-writer lock.</summary>
public sealed class HostedSumDb : IDisposable, IAsyncDisposable
{
    private readonly WarrenOptions _options;
    private readonly WarrenMetrics _metrics;
    private readonly ILogger<HostedSumDb> _logger;
    private readonly bool _verifiesPublic;
    private readonly TimeProvider _time;
    private IHostedLogStorage? _storage;
    private HostedLog? _log;

    private readonly IModuleIndex _index;

    public HostedSumDb(IOptions<WarrenOptions> options, WarrenMetrics metrics, ILogger<HostedSumDb> logger, Warren.Protocol.ProtocolSettings settings,
        TimeProvider timeProvider, IModuleIndex index)
    {
        _index = index;
        _time = timeProvider;
        _verifiesPublic = settings.SumDb is not null;
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
        if (!string.IsNullOrEmpty(_options.HostedSumDb) && HostedSumDbKey.TryLoad(_options.HostedSumDb, out var signer, out _))
        {
            Signer = signer;
        }
    }

    /// <summary>The signer, or null when no database is hosted.</summary>
    public NoteSigner? Signer { get; }

    public bool IsEnabled => Signer is not null;

    /// <summary>The hosted database's name, or null.</summary>
    public string? Name => Signer?.Name;

    /// <summary>The open log (after start-up).</summary>
    /// <exception cref="InvalidOperationException">No database is hosted, or start-up has not opened it.</exception>
    public HostedLog Log => _log ?? throw new InvalidOperationException("no hosted checksum database is open");

    /// <summary>Where the log lives: a directory per database name in the store.</summary>
    public static string DirectoryFor(string storeRoot, string name)
    {
        var safe = new System.Text.StringBuilder();
        foreach (char c in name)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }

        return Path.Combine(Path.GetFullPath(storeRoot), ".warren", "sumdb-hosted", safe.ToString());
    }

    /// <summary>Opens the log; an IOException (another process holds it, unreadable files) or an
    /// InvalidDataException (a corrupt log) stops start-up.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (Signer is null || _log is not null)
        {
            return;
        }

        var (storage, location) = await OpenStorageAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _log = await HostedLog.OpenAsync(storage, Signer, _time, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await storage.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _storage = storage;
        _metrics.HostedSize(_log.Size);
        Observability.Log.HostedOpened(_logger, Signer.Name, _log.Size, location);
        if (!_verifiesPublic)
        {
            Observability.Log.HostedUnverifiedPublic(_logger, Signer.Name);
        }
    }

    /// <summary>The zip and go.mod hashes the log holds for module@version, or null.</summary>
    public async Task<(string ZipHash, string GoModHash)?> FindAsync(string modulePath, string version, CancellationToken cancellationToken)
    {
        if (_log is null || await _log.LookupAsync(modulePath, version, cancellationToken).ConfigureAwait(false) is not { } record)
        {
            return null;
        }

        GoSumRecord.TryFindHashes(System.Text.Encoding.UTF8.GetString(record.Text), modulePath, version, out var zip, out var mod, out _);
        return zip is not null && mod is not null ? (zip, mod) : null;
    }

    /// <summary>Appends module@version unless it is logged already; a conflict is logged as an error and reported.</summary>
    public async Task<HostedAppendResult> AppendAsync(string modulePath, string version, string zipHash, string goModHash, CancellationToken cancellationToken)
    {
        var result = await Log.AppendAsync(modulePath, version, zipHash, goModHash, cancellationToken).ConfigureAwait(false);
        switch (result.Status)
        {
            case HostedAppendStatus.Added:
                _metrics.HostedAppended(1, Log.Size);
                break;
            case HostedAppendStatus.Conflict:
                Observability.Log.HostedConflict(_logger, Name!, modulePath, version,
                    $"{result.ExistingZipHash} {result.ExistingGoModHash}", $"{zipHash} {goModHash}");
                break;
        }

        return result;
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (_log is { } log)
        {
            _log = null;
            await log.DisposeAsync().ConfigureAwait(false);
        }

        if (_storage is { } storage)
        {
            _storage = null;
            await storage.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Where the log is kept, and where that is for logs: in the module index (shared by every node of a
    /// cluster). A log an earlier version kept in files of the store's directory for this database is imported first
    /// (verified, then its files renamed aside), once.</summary>
    private async Task<(IHostedLogStorage Storage, string Location)> OpenStorageAsync(CancellationToken cancellationToken)
    {
        var storage = await _index.OpenHostedLogAsync(Signer!.Name, cancellationToken).ConfigureAwait(false);
        try
        {
            var directory = DirectoryFor(_options.Root!, Signer.Name);
            if (File.Exists(Path.Combine(directory, HostedLogFiles.HeadName)))
            {
                var imported = await HostedLogMigration.ImportAsync(directory, storage, Signer, cancellationToken).ConfigureAwait(false);
                Observability.Log.HostedImported(_logger, Signer.Name, directory, imported.Status.ToString(), _index.Location);
            }
        }
        catch
        {
            await storage.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return (storage, _index.Location);
    }
}
