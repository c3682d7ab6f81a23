using System.Net.Sockets;
using System.Reflection;
using NetMQ;

namespace SaltApi.Client.Request;

/// <summary>
/// A NetMQ socket's mailbox handle: what ZeroMQ exposes as ZMQ_FD and NetMQ's own selector polls. NetMQ
/// keeps it internal; read by reflection, and null (the portable path is used) should that ever fail.
/// </summary>
internal static class MailboxHandle
{
    private static readonly PropertyInfo? SocketHandle = typeof(NetMQSocket).GetProperty("SocketHandle", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);

    public static Socket? Of(NetMQSocket socket)
    {
        try
        {
            var core = SocketHandle?.GetValue(socket);
            return core?.GetType().GetProperty("Handle", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(core) as Socket;
        }
        catch (Exception e) when (e is TargetInvocationException or MemberAccessException or InvalidOperationException)
        {
            return null;
        }
    }
}
