using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace Warren.Fetch.Direct.Egress;

/// <summary>Why a destination was refused.</summary>
/// <param name="Host">The host name or literal asked for.</param>
/// <param name="Port">The port asked for.</param>
/// <param name="Address">The resolved address that was refused, when the refusal is about one.</param>
/// <param name="Kind">A stable classification (the metric label): "loopback", "private", "link-local", "carrier-grade NAT",
/// "unique-local", "site-local", "unspecified", "multicast", "broadcast", "reserved", "deny-list", "cross-host redirect",
/// "unresolvable".</param>
public sealed record EgressRefusal(string Host, int Port, IPAddress? Address, string Kind, string? Detail = null)
{
    /// <summary>One line for logs and clients: "destination 10.0.0.5:443 refused by the egress policy (private address);
    /// allow it with --egress-allow".</summary>
    public string Message
    {
        get
        {
            if (Detail is not null)
            {
                return Detail;
            }

            var host = Host.Contains(':', StringComparison.Ordinal) ? "[" + Host + "]" : Host;
            var via = Address is not null && !string.Equals(EgressAddress.NormalizeHost(Host), Address.ToString(), StringComparison.OrdinalIgnoreCase)
                ? $" ({Address})" : "";
            return Kind == "deny-list"
                ? $"destination {host}:{Port.ToString(CultureInfo.InvariantCulture)}{via} refused by the egress policy (listed in --egress-deny)"
                : $"destination {host}:{Port.ToString(CultureInfo.InvariantCulture)}{via} refused by the egress policy ({Kind} address); allow it with --egress-allow";
        }
    }

    public override string ToString() => Message;
}

/// <summary>Thrown where a connection or redirect is refused by the policy; found in an exception chain with
/// <see cref="Find"/>.</summary>
public sealed class EgressDeniedException : HttpRequestException
{
    public EgressDeniedException(EgressRefusal refusal)
        : base(HttpRequestError.ConnectionError, refusal?.Message)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        Refusal = refusal;
    }

    public EgressRefusal Refusal { get; }

    /// <summary>The refusal in ex or one of its inner exceptions, or null.</summary>
    public static EgressRefusal? Find(Exception? ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is EgressDeniedException denied)
            {
                return denied.Refusal;
            }
        }

        return null;
    }
}

/// <summary>The outbound policy for everything Warren fetches (HTTP and git). Decision for a destination (host name as
/// asked, resolved address, port), in this order:
/// <list type="number">
/// <item>an --egress-deny entry naming the host or covering the address: refused (an explicit deny always wins);</item>
/// <item>an operator-chosen endpoint (configured upstream proxies, the checksum database, the outbound proxy), compared by
/// host and port exactly as configured: allowed;</item>
/// <item>an --egress-allow entry naming the host (then every address it resolves to is allowed) or covering the
/// address: allowed;</item>
/// <item>an address in a default-denied range (loopback, RFC 1918, link-local incl. 169.254.169.254, CGNAT, unique-local,
/// unspecified, multicast, broadcast, reserved, and IPv4-mapped forms of them; "localhost" names): refused;</item>
/// <item>otherwise allowed.</item>
/// </list>
/// Addresses are checked after resolution, at connect time (<see cref="ConnectAsync"/>), so DNS names pointing inside
/// are caught too; only allowed addresses are connected to.</summary>
public sealed class EgressPolicy
{
    private readonly EgressRule[] _allow;
    private readonly EgressRule[] _deny;
    private readonly (string Host, int Port)[] _implicit;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;
    private readonly Action<EgressRefusal>? _onDenied;

    /// <param name="allow">--egress-allow entries.</param>
    /// <param name="deny">--egress-deny entries.</param>
    /// <param name="implicitAllow">Operator-chosen endpoints allowed as configured (host name or literal, port).</param>
    /// <param name="resolve">Name resolution; null means <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>.</param>
    /// <param name="onDenied">Called once for every refusal (logging, metrics).</param>
    public EgressPolicy(IEnumerable<EgressRule>? allow = null, IEnumerable<EgressRule>? deny = null, IEnumerable<(string Host, int Port)>? implicitAllow = null,
        Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null, Action<EgressRefusal>? onDenied = null)
    {
        _allow = [.. allow ?? []];
        _deny = [.. deny ?? []];
        _implicit = [.. (implicitAllow ?? []).Select(e => (EgressAddress.NormalizeHost(e.Host), e.Port))];
        _resolve = resolve ?? ((host, ct) => Dns.GetHostAddressesAsync(host, ct));
        _onDenied = onDenied;
    }

    /// <summary>The check that needs no resolution: IP literals fully, host names against deny entries, "localhost"
    /// names as loopback. Used for every request (also for the host an outbound proxy is asked for, which it resolves
    /// itself). Null when nothing refuses the destination yet.</summary>
    public EgressRefusal? CheckName(string host, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (EgressAddress.ParseLiteral(host) is { } literal)
        {
            return Report(Decide(host, literal, port));
        }

        var name = EgressAddress.NormalizeHost(host);
        if (_deny.Any(r => r.MatchesName(name, port)))
        {
            return Report(new EgressRefusal(name, port, null, "deny-list"));
        }

        if ((name == "localhost" || name.EndsWith(".localhost", StringComparison.Ordinal)) && !IsImplicit(name, port) && !_allow.Any(r => r.MatchesName(name, port)))
        {
            return Report(new EgressRefusal(name, port, null, "loopback"));
        }

        return null;
    }

    /// <summary>The decision for one resolved address of host; null when allowed. Does not report.</summary>
    public EgressRefusal? Decide(string host, IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(address);
        var name = EgressAddress.NormalizeHost(host);
        address = EgressAddress.Normalize(address);
        if (_deny.Any(r => r.MatchesName(name, port) || r.MatchesAddress(address, port)))
        {
            return new EgressRefusal(name, port, address, "deny-list");
        }

        if (IsImplicit(name, port) || _allow.Any(r => r.MatchesName(name, port) || r.MatchesAddress(address, port)))
        {
            return null;
        }

        return EgressAddress.Classify(address) is { } cls ? new EgressRefusal(name, port, address, cls) : null;
    }

    /// <summary>Resolves host and keeps the allowed addresses; a refusal (reported) when none is allowed, or with
    /// requireAll when any is refused (for connections that cannot be pinned to the checked addresses).</summary>
    public async Task<(IPAddress[] Allowed, EgressRefusal? Refusal)> ResolveAsync(string host, int port, CancellationToken cancellationToken, bool requireAll = false)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (CheckName(host, port) is { } early)
        {
            return ([], early);
        }

        if (EgressAddress.ParseLiteral(host) is { } literal)
        {
            return ([literal], null);
        }

        var name = EgressAddress.NormalizeHost(host);
        IPAddress[] addresses;
        try
        {
            addresses = await _resolve(name, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            addresses = [];
        }

        if (addresses.Length == 0)
        {
            return ([], new EgressRefusal(name, port, null, "unresolvable", $"could not resolve host {name}"));
        }

        var allowed = new List<IPAddress>();
        EgressRefusal? first = null;
        foreach (var a in addresses)
        {
            if (Decide(name, a, port) is { } refusal)
            {
                first ??= refusal;
            }
            else
            {
                allowed.Add(EgressAddress.Normalize(a));
            }
        }

        return allowed.Count > 0 && (first is null || !requireAll) ? ([.. allowed], null) : ([], Report(first!));
    }

    /// <summary>A cross-host redirect that was not followed (reported).</summary>
    public EgressRefusal RedirectRefused(Uri from, Uri to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        return Report(new EgressRefusal(to.IdnHost, to.Port, null, "cross-host redirect",
            $"redirect from {from.IdnHost} to {to.IdnHost} not followed: cross-host redirects are refused by the egress policy"))!;
    }

    /// <summary>SocketsHttpHandler.ConnectCallback: resolves the endpoint, checks every address and connects only to
    /// allowed ones (in order, the first that answers).</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endPoint = context.DnsEndPoint;
        var (allowed, refusal) = await ResolveAsync(endPoint.Host, endPoint.Port, cancellationToken).ConfigureAwait(false);
        if (refusal is { Kind: "unresolvable" })
        {
            throw new SocketException((int)SocketError.HostNotFound, refusal.Message);
        }

        if (refusal is not null)
        {
            throw new EgressDeniedException(refusal);
        }

        SocketException? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    private bool IsImplicit(string name, int port) => _implicit.Any(e => e.Port == port && e.Host == name);

    private EgressRefusal? Report(EgressRefusal? refusal)
    {
        if (refusal is not null)
        {
            _onDenied?.Invoke(refusal);
        }

        return refusal;
    }
}
