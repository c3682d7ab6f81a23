using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SaltApi.Client.Config;
using SaltApi.Protocol.Events;

namespace SaltApi.Client.Bus;

/// <summary>
/// Fires events into <c>master_event_pull.ipc</c> (127.0.0.1:<c>tcp_master_pull_port</c> with
/// <c>ipc_mode: tcp</c>), as Python's <c>fire_event</c> does for rest_cherrypy <c>/hook</c>:
/// connect (give up after 1 s), write one frame, no acknowledgement.
/// </summary>
internal sealed class EventFirer(ClientOptions options, ILogger log)
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    public async Task<bool> FireAsync(string tag, IReadOnlyDictionary<string, object?> data, CancellationToken cancellationToken)
    {
        // As SaltEvent.fire_event: an empty tag or a tag with a blank line is refused.
        if (string.IsNullOrEmpty(tag) || tag.Contains("\n\n", StringComparison.Ordinal))
        {
            return false;
        }

        var frame = EventFrame.Encode(tag, data);
        var (socket, endpoint) = EventBusReader.BusSocket(options.Master, pull: true);
        using (socket)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ConnectTimeout);
                await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
                var sent = 0;
                while (sent < frame.Length)
                {
                    sent += await socket.SendAsync(frame.AsMemory(sent), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                }

                socket.Shutdown(SocketShutdown.Send);
                return true;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                log.LogWarning("could not fire event {Tag}: the master event bus did not accept the connection within 1 s", tag);
                return false;
            }
            catch (SocketException e)
            {
                log.LogWarning("could not fire event {Tag}: {Error}", tag, e.Message);
                return false;
            }
        }
    }
}
