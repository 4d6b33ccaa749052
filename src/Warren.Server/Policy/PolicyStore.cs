using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;
using Warren.Core.Policy;

namespace Warren.Server.Policy;

/// <summary>The policy in force. Loaded at start (the validator has refused an invalid file), then reloaded when the file
/// changes: a file-system watcher and a poll (for file systems that do not notify, and editors that replace the file)
/// both schedule a check, debounced; a check reads the file and, when its content changed, compiles it. An invalid new
/// file leaves the previous policy in force and is logged one line per problem. Reading <see cref="Current"/> is a
/// volatile read: the hot path takes no lock.</summary>
public sealed class PolicyStore : IHostedService, IDisposable
{
    /// <summary>Changes seen within this window are checked once.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);

    private readonly WarrenOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _reloading = new();
    private volatile ModulePolicy _current = ModulePolicy.Empty;
    private byte[] _hash = [];
    private long _generation;
    private FileSystemWatcher? _watcher;
    private ITimer? _poll;
    private ITimer? _debounce;

    public PolicyStore(IOptions<WarrenOptions> options, ILoggerFactory loggers, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        _options = options.Value;
        _logger = loggers.CreateLogger("Warren.Server.Policy");
        _time = time;
        if (Configured)
        {
            Check(initial: true);
        }
    }

    /// <summary>Whether a policy file is configured at all.</summary>
    public bool Configured => !string.IsNullOrEmpty(_options.PolicyFile) || _options.PolicyInline is not null;

    /// <summary>The policy in force (<see cref="ModulePolicy.Empty"/> when none).</summary>
    public ModulePolicy Current => _current;

    /// <summary>True while the policy in force can deny something.</summary>
    public bool IsActive => !_current.IsEmpty;

    /// <summary>Changes each time another policy comes into force.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>When the policy in force was loaded; null when none was.</summary>
    public DateTimeOffset? LoadedAt { get; private set; }

    /// <summary>Raised after another policy came into force.</summary>
    public event Action? Changed;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(_options.PolicyFile))
        {
            return Task.CompletedTask; // none, or inline: nothing to watch
        }

        var file = Path.GetFullPath(_options.PolicyFile!);
        var directory = Path.GetDirectoryName(file)!;
        try
        {
            _watcher = new FileSystemWatcher(directory, Path.GetFileName(file))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            _watcher.Changed += (_, _) => Schedule();
            _watcher.Created += (_, _) => Schedule();
            _watcher.Renamed += (_, _) => Schedule();
            _watcher.Deleted += (_, _) => Schedule();
            _watcher.Error += (_, _) => Schedule();
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            _watcher?.Dispose();
            _watcher = null;
            PolicyLog.WatchUnavailable(_logger, directory, ex.Message.Replace('\n', ' '), _options.PolicyPollInterval);
        }

        _debounce = _time.CreateTimer(_ => Check(initial: false), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _poll = _time.CreateTimer(_ => Check(initial: false), null, _options.PolicyPollInterval, _options.PolicyPollInterval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _watcher = null;
        _poll?.Dispose();
        _debounce?.Dispose();
    }

    /// <summary>Checks the file now (tests; the timers call it too).</summary>
    public void CheckNow() => Check(initial: false);

    private void Schedule() => _debounce?.Change(Debounce, Timeout.InfiniteTimeSpan);

    private void Check(bool initial)
    {
        lock (_reloading)
        {
            var source = PolicyFile.Describe(_options);
            if (PolicyFile.Read(_options, out var reason) is not { } content)
            {
                if (initial || _hash.Length > 0)
                {
                    PolicyLog.Unreadable(_logger, source, reason ?? "unknown"); // once, not at every poll
                }

                _hash = [];
                return;
            }

            var hash = SHA256.HashData(content);
            if (hash.AsSpan().SequenceEqual(_hash))
            {
                return;
            }

            _hash = hash;
            var policy = PolicyFile.Compile(_options, content, out var problems);
            if (policy is null)
            {
                foreach (var problem in problems)
                {
                    PolicyLog.Invalid(_logger, source, problem);
                }

                return;
            }

            _current = policy;
            LoadedAt = _time.GetUtcNow();
            Interlocked.Increment(ref _generation);
            if (initial)
            {
                PolicyLog.Loaded(_logger, source, policy.Summary);
            }
            else
            {
                PolicyLog.Reloaded(_logger, source, policy.Summary);
            }
        }

        Changed?.Invoke();
    }
}
