namespace Warren.Core.Vulns;

/// <summary>What the proxy knows about vulnerabilities: the advisories of the current copy of a vulnerability database.</summary>
public interface IAdvisoryCatalog
{
    /// <summary>False when no database is configured or no copy has been loaded yet.</summary>
    bool IsAvailable { get; }

    /// <summary>Changes whenever a new copy of the database is loaded: what was computed from the catalog stays valid
    /// until it changes.</summary>
    long Generation { get; }

    /// <summary>The advisories whose affected list names this module path (any version); empty when unavailable.</summary>
    ValueTask<IReadOnlyList<Advisory>> ForModuleAsync(string modulePath, CancellationToken cancellationToken);

    /// <summary>Every advisory of the current copy; empty when unavailable.</summary>
    ValueTask<IReadOnlyList<Advisory>> AllAsync(CancellationToken cancellationToken);
}

/// <summary>The catalog of a proxy without a vulnerability database: it knows nothing.</summary>
public sealed class EmptyAdvisoryCatalog : IAdvisoryCatalog
{
    private EmptyAdvisoryCatalog()
    {
    }

    public static EmptyAdvisoryCatalog Instance { get; } = new();

    public bool IsAvailable => false;

    public long Generation => 0;

    public ValueTask<IReadOnlyList<Advisory>> ForModuleAsync(string modulePath, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<Advisory>>([]);

    public ValueTask<IReadOnlyList<Advisory>> AllAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<Advisory>>([]);
}

/// <summary>Told after each load of a new copy of the vulnerability database.</summary>
public interface IAdvisoryRefreshObserver
{
    /// <summary>Called with the entries that are new or whose Modified changed compared with the previous copy (every
    /// entry on the first load). An exception is logged by the caller and does not stop the refresh.</summary>
    Task OnAdvisoriesChangedAsync(IReadOnlyList<Advisory> changed, CancellationToken cancellationToken);
}
