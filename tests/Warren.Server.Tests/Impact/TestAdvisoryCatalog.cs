using Microsoft.Extensions.DependencyInjection;
using Warren.Core.Vulns;

namespace Warren.Server.Tests.Impact;

/// <summary>A small advisory catalog the test fills, standing in for the vulnerability database mirror: a "refresh"
/// loads a new set and tells the registered observers which entries are new or modified (all of them on the first
/// load), as the mirror does.</summary>
internal sealed class TestAdvisoryCatalog : IAdvisoryCatalog
{
    private IReadOnlyList<Advisory> _advisories = [];
    private long _generation;

    public bool IsAvailable => Interlocked.Read(ref _generation) > 0;

    public long Generation => Interlocked.Read(ref _generation);

    public ValueTask<IReadOnlyList<Advisory>> ForModuleAsync(string modulePath, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<Advisory>>(Volatile.Read(ref _advisories).Where(a => a.For(modulePath).Any()).ToList());

    public ValueTask<IReadOnlyList<Advisory>> AllAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Volatile.Read(ref _advisories));

    /// <summary>Loads advisories; tells the observers of services about those new or modified since the last load
    /// (firstLoad: all of them, as after a restart).</summary>
    public async Task RefreshAsync(IServiceProvider services, IReadOnlyList<Advisory> advisories, bool firstLoad = false)
    {
        var before = Volatile.Read(ref _advisories).ToDictionary(a => a.Id);
        Volatile.Write(ref _advisories, advisories);
        Interlocked.Increment(ref _generation);
        var changed = firstLoad ? advisories : advisories.Where(a => !before.TryGetValue(a.Id, out var old) || old.Modified != a.Modified).ToList();
        foreach (var observer in services.GetServices<IAdvisoryRefreshObserver>())
        {
            await observer.OnAdvisoriesChangedAsync(changed, CancellationToken.None);
        }
    }

    /// <summary>An advisory against modulePath for versions below fixedIn.</summary>
    public static Advisory Against(string id, string modulePath, string fixedIn, params string[] aliases) =>
        new(id, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), null, null, aliases, $"A test vulnerability in {modulePath}", "details",
            [new AffectedModule(modulePath, [new AffectedRange([new RangeEvent(RangeEventKind.Introduced, RangeEvent.Zero), new RangeEvent(RangeEventKind.Fixed, fixedIn)])],
                [new AffectedPackage(modulePath, [], [], [])])]);
}
