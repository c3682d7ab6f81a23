using System.Net;
using Microsoft.AspNetCore.Http;

namespace SaltApi.Abstractions.Access;

/// <summary>The client's address as the modules compare and report it: the one place an IPv4-mapped IPv6 address is unmapped.</summary>
public static class ClientAddress
{
    /// <summary>The socket's address, or the one a trusted proxy forwarded (HttpFront); IPv4 unmapped; empty when unknown.</summary>
    public static string Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Connection.RemoteIpAddress is { } ip ? Unmapped(ip).ToString() : "";
    }

    /// <summary>An IPv4-mapped IPv6 address (<c>::ffff:10.0.0.1</c>) as the IPv4 address it carries; any other as it is.</summary>
    public static IPAddress Unmapped(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>
    /// A configured address (<c>authorized_ips</c>, <c>api_acl</c>) in the form <see cref="Of"/> gives, so that
    /// <c>::ffff:10.0.0.1</c> or <c>0:0:0:0:0:0:0:1</c> match the client they name; anything that is not an
    /// address (<c>*</c>) as written.
    /// </summary>
    public static string Canonical(string configured)
    {
        ArgumentNullException.ThrowIfNull(configured);
        var text = configured.Trim();
        var looksLikeOne = text.Contains(':', StringComparison.Ordinal) || text.Count(c => c == '.') == 3;
        return looksLikeOne && IPAddress.TryParse(text, out var ip)
            ? Unmapped(ip).ToString()
            : configured;
    }
}
