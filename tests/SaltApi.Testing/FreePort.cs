using System.Net;
using System.Net.Sockets;

namespace SaltApi.Testing;

/// <summary>
/// Free loopback TCP ports for servers that need a port number before they start. Ports come from
/// below the kernel's ephemeral range, so that the outgoing connections of tests running in parallel
/// (which take their local port from that range) cannot take a port between its choice and its bind;
/// a port is handed out once per test process.
/// </summary>
public static class FreePort
{
    private const int Lowest = 12000;
    private static readonly HashSet<int> Given = [];

    /// <summary>A port nothing listens on right now, not given out before by this process.</summary>
    public static int Next()
    {
        var (low, high) = (Lowest, EphemeralLow());
        lock (Given)
        {
            for (var attempt = 0; attempt < 200 && high - low > 100; attempt++)
            {
                var port = Random.Shared.Next(low, high);
                if (Given.Add(port) && CanBind(port))
                {
                    return port;
                }
            }
        }

        // No room below the ephemeral range on this machine: let the kernel choose.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // First port of /proc/sys/net/ipv4/ip_local_port_range (Linux default 32768).
    private static int EphemeralLow()
    {
        try
        {
            var first = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0];
            return int.TryParse(first, out var low) ? low : 32768;
        }
        catch (IOException)
        {
            return 32768;
        }
        catch (UnauthorizedAccessException)
        {
            return 32768;
        }
    }
}
