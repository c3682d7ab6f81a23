using System.Net;
using SaltApi.Abstractions.Modules;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// The reverse proxies whose <c>X-Forwarded-For</c>, <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c> a
/// module honours (the <c>trusted_proxies</c> option, named as in Rails, Traefik and Kestrel's
/// documentation): addresses or CIDR networks. None by default: a request's own socket is its client, and
/// loopback is not trusted implicitly (ASP.NET Core's default).
/// </summary>
public sealed class TrustedProxies
{
    /// <summary>The option's key in a module's section.</summary>
    public const string Key = "trusted_proxies";

    private TrustedProxies(IReadOnlyList<IPNetwork> networks) => Networks = networks;

    /// <summary>No proxy is trusted: forwarded headers are never read.</summary>
    public static TrustedProxies None { get; } = new([]);

    /// <summary>The trusted networks; a single address is a /32 or /128 network.</summary>
    public IReadOnlyList<IPNetwork> Networks { get; }

    /// <summary>Whether any proxy is trusted.</summary>
    public bool Any => Networks.Count > 0;

    /// <summary>Parses addresses (<c>10.0.0.5</c>, <c>::1</c>) and networks (<c>10.0.0.0/8</c>); false names the first wrong entry.</summary>
    public static bool TryParse(IEnumerable<string> entries, out TrustedProxies proxies, out string? wrong)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var networks = new List<IPNetwork>();
        foreach (var raw in entries)
        {
            var entry = raw.Trim();
            // A network whose address has host bits set (10.0.0.1/8) is refused: the operator meant one
            // host or the network, and trusting the wider one silently is the unsafe guess.
            if (entry.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(entry, out var network) && IPAddress.TryParse(entry[..entry.IndexOf('/', StringComparison.Ordinal)], out var written) && written.Equals(network.BaseAddress))
            {
                networks.Add(network);
            }
            else if (!entry.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(entry.Trim('[', ']'), out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                (proxies, wrong) = (None, entry);
                return false;
            }
        }

        (proxies, wrong) = (networks.Count == 0 ? None : new TrustedProxies(networks), null);
        return true;
    }

    /// <summary>Reads <c>trusted_proxies</c> (a list, or one comma-separated string) from a section; a wrong entry is a problem of the section.</summary>
    public static TrustedProxies Read(ModuleSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (TryParse(section.GetStringList(Key), out var proxies, out var wrong))
        {
            return proxies;
        }

        section.Problem(Key, $"'{wrong}' is not an IP address or a network in CIDR notation (10.0.0.0/8)");
        return None;
    }

    /// <summary>Whether <paramref name="address"/> (an IPv4-mapped IPv6 address as its IPv4 form) is a trusted proxy.</summary>
    public bool Trusts(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var ip = SaltApi.Abstractions.Access.ClientAddress.Unmapped(address);
        foreach (var network in Networks)
        {
            if (network.Contains(ip))
            {
                return true;
            }
        }

        return false;
    }
}
