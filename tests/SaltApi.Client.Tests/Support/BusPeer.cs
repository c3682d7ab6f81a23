using System.Net.Sockets;

namespace SaltApi.Client.Tests.Support;

/// <summary>
/// The master's side of <c>master_event_pub.ipc</c>: a unix stream listener that writes frames to
/// every connected reader, so bus tests can choose exactly which bytes arrive and when.
/// </summary>
internal sealed class BusPeer : IDisposable
{
    private readonly Socket listener;
    private readonly List<Socket> readers = [];
    private readonly SemaphoreSlim accepted = new(0);
    private readonly CancellationTokenSource stop = new();

    public BusPeer(string path)
    {
        File.Delete(path);
        listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(16);
        _ = AcceptLoop();
    }

    /// <summary>The <c>ipc_mode: tcp</c> form: a loopback TCP listener on <paramref name="port"/>.</summary>
    public BusPeer(int port)
    {
        listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
        listener.Listen(16);
        _ = AcceptLoop();
    }

    /// <summary>Everything readers wrote to us (the pull side: fired events).</summary>
    public async Task<byte[]> ReadFromFirstReaderAsync()
    {
        await WaitReaderAsync();
        Socket s;
        lock (readers)
        {
            s = readers[0];
        }

        using var ms = new MemoryStream();
        var buf = new byte[4096];
        int n;
        while ((n = await s.ReceiveAsync(buf, SocketFlags.None)) > 0)
        {
            ms.Write(buf, 0, n);
        }

        return ms.ToArray();
    }

    private async Task AcceptLoop()
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var s = await listener.AcceptAsync(stop.Token);
                lock (readers)
                {
                    readers.Add(s);
                }

                accepted.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Waits for the next reader to connect.</summary>
    public Task WaitReaderAsync() => accepted.WaitAsync(TimeSpan.FromSeconds(20));

    public void Write(byte[] bytes)
    {
        lock (readers)
        {
            foreach (var r in readers)
            {
                var sent = 0;
                while (sent < bytes.Length)
                {
                    sent += r.Send(bytes.AsSpan(sent));
                }
            }
        }
    }

    /// <summary>Closes every reader connection (the master went away) but keeps listening.</summary>
    public void DropReaders()
    {
        lock (readers)
        {
            foreach (var r in readers)
            {
                r.Dispose();
            }

            readers.Clear();
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        DropReaders();
        listener.Dispose();
        stop.Dispose();
    }
}
