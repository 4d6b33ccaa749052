using System.Reflection;
using Microsoft.Extensions.Hosting;
using Warren.Server.Impact;
using Warren.Server.Upstream;

namespace Warren.Server.Storage;

/// <summary>Says in the module index, every <see cref="Interval"/>, that this process is alive, so that every node
/// sharing the index (a cluster on PostgreSQL, or processes on one SQLite file) can list the others. A node is up while
/// its last heartbeat is younger than <see cref="UpFor"/>; one silent for <see cref="ForgetAfter"/> is forgotten.</summary>
public sealed partial class NodeHeartbeats(IModuleIndex index, InstanceIdentity identity, IOptions<WarrenOptions> options, TimeProvider time,
    ILogger<NodeHeartbeats> logger) : BackgroundService
{
    /// <summary>How often a node says it is alive.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    /// <summary>How long after its last heartbeat a node still counts as up (three heartbeats missed and it is not).</summary>
    public static readonly TimeSpan UpFor = Interval * 3;

    /// <summary>How long a silent node stays listed.</summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);

    private static readonly string Version = typeof(NodeHeartbeats).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion is { } v
        ? v.Split('+') is [var semver, var commit] ? semver + "+" + commit[..Math.Min(7, commit.Length)] : v
        : "unknown";

    /// <summary>This process's name in the list.</summary>
    public string Node { get; } = ImpactSettings.NodeName(options.Value);

    /// <summary>This process's identity (a node restarted is another instance).</summary>
    public string Instance => identity.Id;

    /// <summary>When this process started.</summary>
    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    /// <summary>Records one heartbeat now.</summary>
    public Task BeatAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return index.RecordNodeAsync(new NodeHeartbeat(Node, Instance, Version, StartedAt, now), now - ForgetAfter, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                try
                {
                    await BeatAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogFailed(logger, ex.Message.Split('\n')[0]);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 8100, Level = LogLevel.Warning, Message = "Node heartbeat: the module index refused it: {Reason}; trying again at the next one")]
    private static partial void LogFailed(ILogger logger, string reason);
}
