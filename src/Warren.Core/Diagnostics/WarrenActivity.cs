using System.Diagnostics;

namespace Warren.Core.Diagnostics;

/// <summary>Warren's one source of trace spans. Without a listener (no tracing configured) StartActivity returns null
/// and a span costs a null check. Span names are the constants below; tags use the "warren." prefix.</summary>
public static class WarrenActivity
{
    /// <summary>The ActivitySource name to subscribe to.</summary>
    public const string SourceName = "Warren";

    /// <summary>One fetch from an upstream (a proxy of the chain, or direct mode).</summary>
    public const string UpstreamFetch = "warren.upstream.fetch";

    /// <summary>One git process (network or local).</summary>
    public const string Git = "warren.git";

    /// <summary>One checksum verification of a module's hashes.</summary>
    public const string Verify = "warren.verify";

    /// <summary>Making a staged artifact visible in the store.</summary>
    public const string StoreCommit = "warren.store.commit";

    /// <summary>Looking an artifact up in the store.</summary>
    public const string StoreGet = "warren.store.get";

    public static ActivitySource Source { get; } = new(SourceName, typeof(WarrenActivity).Assembly.GetName().Version?.ToString());
}
