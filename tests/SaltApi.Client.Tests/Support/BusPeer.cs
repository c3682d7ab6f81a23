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
        Path = path;
        File.Delete(path);
        listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(16);
        _ = AcceptLoop();
    }

    public string Path { get; }

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
