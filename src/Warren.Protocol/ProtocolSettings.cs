using Warren.Protocol.GoProxy;
using Warren.Protocol.SumDb;

namespace Warren.Protocol;

/// <summary>The protocol settings of a server, parsed once at start-up (the options validator has already rejected
/// values that do not parse; a value that does not parse here counts as not set).</summary>
/// <param name="Upstream">The upstream chain (GOPROXY syntax).</param>
/// <param name="SumDb">The checksum database modules are verified against; null when none is configured or it is "off".</param>
/// <param name="ProxiedSumDb">The checksum database served under /sumdb/ (the configured one, else the go command's
/// default); null when it is "off".</param>
public sealed record ProtocolSettings(IReadOnlyList<ProxySpec> Upstream, SumDbConfig? SumDb, SumDbConfig? ProxiedSumDb)
{
    /// <param name="upstream">The upstream setting (already defaulted by the caller).</param>
    /// <param name="sumDb">The GOSUMDB-syntax setting, or null when none is configured.</param>
    /// <param name="defaultSumDb">The database proxied when none is configured.</param>
    public static ProtocolSettings Parse(string upstream, string? sumDb, string defaultSumDb)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(defaultSumDb);
        var chain = ProxyChain.TryParse(upstream, out _) ?? [];
        var configured = sumDb is null ? null : SumDbConfig.TryParse(sumDb, out _);
        var proxied = SumDbConfig.TryParse(sumDb ?? defaultSumDb, out _);
        return new ProtocolSettings(chain, configured, proxied);
    }
}
