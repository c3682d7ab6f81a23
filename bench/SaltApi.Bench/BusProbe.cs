using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using SaltApi.Protocol.Events;

namespace SaltApi.Bench;

/// <summary>
/// A reader of the master's bus (<c>master_event_pub.ipc</c>, as salt-api's own reader connects) on a thread of
/// its own with blocking reads, outside the bench's thread pool: the time from an event's firing to its arrival
/// on the bus is the master's share of the delivery (its pull loop and its write to each reader), apart from
/// the client layer's fan-out and the streams.
/// </summary>
internal sealed class BusProbe : IDisposable
{
    private readonly Socket socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly string tag;
    private readonly List<double> latencyMs = new(16_384);
    private readonly Thread thread;

    public BusProbe(string sockDir, string tag)
    {
        this.tag = tag;
        socket.Connect(new UnixDomainSocketEndPoint(Path.Combine(sockDir, "master_event_pub.ipc")));
        thread = new Thread(Read) { IsBackground = true, Name = "bench bus probe" };
        thread.Start();
    }

    /// <summary>Stops reading; then the latencies (ms) of the events of the tag seen.</summary>
    public double[] Stop()
    {
        socket.Dispose();
        thread.Join(TimeSpan.FromSeconds(5));
        lock (latencyMs)
        {
            return [.. latencyMs];
        }
    }

    private void Read()
    {
        var buffer = new byte[1 << 20];
        var end = 0;
        try
        {
            while (true)
            {
                var n = socket.Receive(buffer.AsSpan(end));
                if (n == 0)
                {
                    return;
                }

                var now = Stopwatch.GetTimestamp();
                end += n;
                var seq = new ReadOnlySequence<byte>(buffer, 0, end);
                while (EventFrame.TryReadFrame(ref seq, out var frame))
                {
                    if (EventFrame.TryParse(frame, out var raw) && raw.Tag == tag && raw.DecodeData() is { } data && data.TryGetValue("ts", out var ts) && ts switch { long l => l, ulong u => (long)u, int i => i, _ => 0L } is var fired and > 0)
                    {
                        lock (latencyMs)
                        {
                            latencyMs.Add(Stopwatch.GetElapsedTime(fired, now).TotalMilliseconds);
                        }
                    }
                }

                var left = (int)seq.Length;
                Buffer.BlockCopy(buffer, end - left, buffer, 0, left);
                end = left;
                if (end == buffer.Length)
                {
                    return; // a frame larger than the buffer: not the bench's
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or SaltApi.Protocol.Msgpack.SaltProtocolException)
        {
        }
    }

    public void Dispose() => socket.Dispose();
}
