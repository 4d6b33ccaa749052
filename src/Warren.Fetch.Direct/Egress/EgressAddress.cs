using System.Net;
using System.Net.Sockets;

namespace Warren.Fetch.Direct.Egress;

/// <summary>The address ranges the outbound policy denies unless allowed, and address arithmetic.</summary>
public static class EgressAddress
{
    private static readonly (IPAddress Network, int Length, string Class)[] Denied =
    [
        (IPAddress.Parse("0.0.0.0"), 8, "unspecified"),
        (IPAddress.Parse("127.0.0.0"), 8, "loopback"),
        (IPAddress.Parse("10.0.0.0"), 8, "private"),
        (IPAddress.Parse("172.16.0.0"), 12, "private"),
        (IPAddress.Parse("192.168.0.0"), 16, "private"),
        (IPAddress.Parse("169.254.0.0"), 16, "link-local"),
        (IPAddress.Parse("100.64.0.0"), 10, "carrier-grade NAT"),
        (IPAddress.Parse("224.0.0.0"), 4, "multicast"),
        (IPAddress.Parse("255.255.255.255"), 32, "broadcast"),
        (IPAddress.Parse("240.0.0.0"), 4, "reserved"),
        (IPAddress.IPv6Any, 128, "unspecified"),
        (IPAddress.IPv6Loopback, 128, "loopback"),
        (IPAddress.Parse("fe80::"), 10, "link-local"),
        (IPAddress.Parse("fec0::"), 10, "site-local"),
        (IPAddress.Parse("fc00::"), 7, "unique-local"),
        (IPAddress.Parse("ff00::"), 8, "multicast"),
        (IPAddress.Parse("::"), 96, "reserved"), // IPv4-compatible (deprecated) addresses
    ];

    private static readonly IPAddress Nat64 = IPAddress.Parse("64:ff9b::");
    private static readonly IPAddress SixToFour = IPAddress.Parse("2002::");

    /// <summary>The class of an address the policy denies by default ("loopback", "private", "link-local", ...), or
    /// null for a public address. IPv4-mapped IPv6 addresses count as their IPv4 address; NAT64 (64:ff9b::/96) and
    /// 6to4 (2002::/16) addresses as the IPv4 address they carry.</summary>
    public static string? Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = Normalize(address);
        foreach (var (network, length, cls) in Denied)
        {
            if (InNetwork(address, network, length))
            {
                return cls;
            }
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            IPAddress? embedded = InNetwork(address, Nat64, 96) ? new IPAddress(bytes.AsSpan(12, 4))
                : InNetwork(address, SixToFour, 16) ? new IPAddress(bytes.AsSpan(2, 4))
                : null;
            if (embedded is not null && Classify(embedded) is { } inner)
            {
                return inner;
            }
        }

        return null;
    }

    /// <summary>IPv4-mapped IPv6 addresses as IPv4, without a scope id.</summary>
    public static IPAddress Normalize(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address;
    }

    /// <summary>Host names compared by the policy: lower case, no trailing dot, no IPv6 brackets.</summary>
    public static string NormalizeHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var h = host.Trim();
        if (h.StartsWith('[') && h.EndsWith(']'))
        {
            h = h[1..^1];
        }

        return h.TrimEnd('.').ToLowerInvariant();
    }

    /// <summary>The host as an IP address when it is a literal (IPv4 dotted quad or IPv6), else null.</summary>
    public static IPAddress? ParseLiteral(string host)
    {
        var h = NormalizeHost(host);
        if (h.Contains(':', StringComparison.Ordinal) || (h.Length > 0 && h.All(c => char.IsAsciiDigit(c) || c == '.')))
        {
            return IPAddress.TryParse(h, out var ip) ? Normalize(ip) : null;
        }

        return null;
    }

    public static IPAddress Mask(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(prefixLength - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xff << (8 - bits));
        }

        return new IPAddress(bytes);
    }

    public static bool InNetwork(IPAddress address, IPAddress network, int prefixLength) =>
        address.AddressFamily == network.AddressFamily && Mask(address, prefixLength).Equals(network);
}
