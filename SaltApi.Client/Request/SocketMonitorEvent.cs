using NetMQ;

namespace SaltApi.Client.Request;

/// <summary>
/// One event of a NetMQ socket monitor, as NetMQ's MonitorEvent writes it: the event (int32, little endian), the
/// address (a length byte and its bytes), a flag byte, then an int32 (flag 1) or a GC handle of the connection's
/// socket (flag 2) that the reader must free (NetMQ's own reader is internal).
/// </summary>
internal static class SocketMonitorEvent
{
    public static SocketEvents Read(byte[] frame)
    {
        if (frame.Length < 6)
        {
            return 0;
        }

        var evt = (SocketEvents)System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(frame);
        var pos = 5 + frame[4];
        if (pos < frame.Length && frame[pos] == 2 && frame.Length >= pos + 1 + IntPtr.Size)
        {
            var ptr = IntPtr.Size == 8
                ? new IntPtr(System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(pos + 1)))
                : new IntPtr(System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(pos + 1)));
            if (ptr != IntPtr.Zero)
            {
                System.Runtime.InteropServices.GCHandle.FromIntPtr(ptr).Free();
            }
        }

        return evt;
    }
}
