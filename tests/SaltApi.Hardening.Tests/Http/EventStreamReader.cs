using System.Net.Sockets;
using System.Text;

namespace SaltApi.Hardening.Tests.Http;

/// <summary>A raw <c>GET /events</c> subscriber on its own socket: everything it receives, as text.</summary>
public sealed class EventStreamReader : IAsyncDisposable
{
    private readonly TcpClient tcp = new();
    private readonly StringBuilder seen = new();
    private readonly CancellationTokenSource stop = new(TimeSpan.FromSeconds(120));
    private Task? pump;

    /// <summary>Everything received so far (status line and headers included).</summary>
    public string Text
    {
        get
        {
            lock (seen)
            {
                return seen.ToString();
            }
        }
    }

    /// <summary>Connects with the session and waits for the stream's first chunk (<c>retry: 400</c>).</summary>
    public static async Task<EventStreamReader> OpenAsync(int port, string session, string extraHeaders = "")
    {
        var reader = new EventStreamReader();
        await reader.tcp.ConnectAsync("127.0.0.1", port);
        var stream = reader.tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /events HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {session}\r\n{extraHeaders}\r\n"));
        reader.pump = Task.Run(async () =>
        {
            var buffer = new byte[16384];
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer, reader.stop.Token)) > 0)
                {
                    lock (reader.seen)
                    {
                        reader.seen.Append(Encoding.UTF8.GetString(buffer, 0, n));
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
        });
        Assert.True(await reader.WaitForAsync("retry: 400", TimeSpan.FromSeconds(15)), reader.Text);
        return reader;
    }

    /// <summary>Waits until the text contains <paramref name="marker"/>.</summary>
    public async Task<bool> WaitForAsync(string marker, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (Text.Contains(marker, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(50);
        }

        return Text.Contains(marker, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        tcp.Dispose();
        if (pump is not null)
        {
            await pump;
        }

        stop.Dispose();
    }
}
