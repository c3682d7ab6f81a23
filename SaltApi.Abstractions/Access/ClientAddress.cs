using Microsoft.AspNetCore.Http;

namespace SaltApi.Abstractions.Access;

/// <summary>The client's address as the modules compare and report it.</summary>
public static class ClientAddress
{
    /// <summary>The socket's address, or the one a trusted proxy forwarded (HttpFront); IPv4 unmapped; empty when unknown.</summary>
    public static string Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ip = context.Connection.RemoteIpAddress;
        if (ip is null)
        {
            return "";
        }

        return (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString();
    }
}
