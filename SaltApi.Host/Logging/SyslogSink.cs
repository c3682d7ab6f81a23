using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace SaltApi.Host.Logging;

/// <summary>
/// The log file handler when <c>api_logfile</c> is a syslog URL: each line is sent as Python's SysLogHandler
/// sends it, <c>&lt;PRI&gt;</c> then the formatted line (no timestamp or host of its own: the local syslog
/// adds them), a datagram per line ending in NUL. Lines wait in a bounded queue (lines and bytes) and
/// one background writer sends them, so a slow or absent syslog never holds a request: what does not
/// fit is dropped and counted, and the count is sent once the target takes lines again.
/// </summary>
internal sealed class SyslogSink : ILogSink
{
    /// <summary>Lines waiting at most.</summary>
    public const int MaxQueuedLines = 10_000;

    /// <summary>Bytes waiting at most.</summary>
    public const long MaxQueuedBytes = 8L * 1024 * 1024;

    /// <summary>A longer message is cut (rsyslog's default limit is 8 KiB; a datagram holds 64 KiB).</summary>
    public const int MaxMessageBytes = 16 * 1024;

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);

    private readonly Channel<Entry> queue = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource stop = new();
    private readonly TimeSpan maxRetry;
    private readonly Action<string>? problem;
    private readonly Task writer;
    private long queuedBytes;
    private int queuedLines;
    private long dropped;
    private long reported;
    private volatile bool down;

    /// <param name="target">Where to send.</param>
    /// <param name="problem">Told (once per outage) when the target cannot be reached.</param>
    /// <param name="maxRetry">The longest wait between two attempts to reach the target (5 s).</param>
    public SyslogSink(SyslogTarget target, Action<string>? problem = null, TimeSpan? maxRetry = null)
    {
        Target = target;
        this.problem = problem;
        this.maxRetry = maxRetry ?? TimeSpan.FromSeconds(5);
        writer = Task.Run(RunAsync);
    }

    public SyslogTarget Target { get; }

    /// <summary>Lines in the queue now.</summary>
    public int Queued => Volatile.Read(ref queuedLines);

    /// <summary>Lines dropped so far (queue full, or the daemon stopped before they were sent).</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>PRI's severity for a level, as SysLogHandler.mapPriority (trace as debug: Python maps Salt's TRACE to warning).</summary>
    internal static int Severity(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => 7,
        LogLevel.Information => 6,
        LogLevel.Warning => 4,
        LogLevel.Error => 3,
        _ => 2,
    };

    public void Write(string line) => Write(LogLevel.Warning, line);

    /// <summary>Queues a line; never waits.</summary>
    public void Write(LogLevel level, string line)
    {
        var entry = new Entry(Target.Facility * 8 + Severity(level), line.Length > MaxMessageBytes ? line[..MaxMessageBytes] : line);
        if (Interlocked.Increment(ref queuedLines) > MaxQueuedLines | Interlocked.Add(ref queuedBytes, entry.Size) > MaxQueuedBytes
            || !queue.Writer.TryWrite(entry))
        {
            Release(entry.Size);
            Interlocked.Increment(ref dropped);
        }
    }

    /// <summary>
    /// <c>&lt;PRI&gt;line</c> in UTF-8, cut to <see cref="MaxMessageBytes"/>. A datagram ends in NUL, as SysLogHandler's
    /// (append_nul). A stream message ends in LF (RFC 6587's framing, which rsyslog and syslog-ng split on) with
    /// the line's own breaks escaped: Python ends it in NUL, and receivers run its lines together (Salt #3061).
    /// </summary>
    internal static byte[] Frame(int pri, string line, bool stream)
    {
        if (stream && line.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            line = line.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        }

        var head = "<" + pri.ToString(CultureInfo.InvariantCulture) + ">";
        var text = line.Length > MaxMessageBytes ? line[..MaxMessageBytes] : line;
        var bytes = new byte[Encoding.UTF8.GetByteCount(head) + Encoding.UTF8.GetByteCount(text) + 1];
        var n = Encoding.UTF8.GetBytes(head, bytes);
        n += Encoding.UTF8.GetBytes(text, bytes.AsSpan(n));
        if (n > MaxMessageBytes)
        {
            // Cut on a character boundary (never inside a UTF-8 sequence).
            n = MaxMessageBytes;
            while (n > 0 && (bytes[n] & 0xC0) == 0x80)
            {
                n--;
            }
        }

        bytes[n] = stream ? (byte)'\n' : (byte)0;
        return n + 1 == bytes.Length ? bytes : bytes[..(n + 1)];
    }

    private void Release(int bytes)
    {
        Interlocked.Decrement(ref queuedLines);
        Interlocked.Add(ref queuedBytes, -bytes);
    }

    private async Task RunAsync()
    {
        var token = stop.Token;
        Connection? connection = null;
        Entry? pending = null;
        var wait = FirstRetry;
        try
        {
            while (true)
            {
                if (pending is null)
                {
                    if (!await queue.Reader.WaitToReadAsync(token) || !queue.Reader.TryRead(out var next))
                    {
                        break;
                    }

                    Release(next.Size);
                    pending = next;
                }

                try
                {
                    connection ??= await Connection.OpenAsync(Target, token);
                    await connection.SendAsync(Frame(pending.Pri, pending.Line, connection.Stream), token);
                    pending = null;
                    (wait, down) = (FirstRetry, false);
                    var lost = Interlocked.Read(ref dropped) - reported;
                    if (lost > 0)
                    {
                        reported += lost;
                        await connection.SendAsync(Frame(Target.Facility * 8 + Severity(LogLevel.Warning), $"salt-api: {lost} log lines were dropped (the syslog target was unreachable or too slow)", connection.Stream), token);
                    }
                }
                catch (Exception e) when (e is SocketException or IOException)
                {
                    connection?.Dispose();
                    connection = null;
                    if (!down)
                    {
                        down = true;
                        problem?.Invoke($"Cannot send log lines to syslog at {Target}: {e.Message}; lines are dropped until it answers");
                    }

                    await Task.Delay(wait, token);
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, maxRetry.Ticks));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>Sends what is queued (up to 2 s, unless the target is away), then closes; lines still waiting are counted as dropped.</summary>
    public void Dispose()
    {
        queue.Writer.TryComplete();
        if (down || !writer.Wait(TimeSpan.FromSeconds(2)))
        {
            stop.Cancel();
            writer.Wait(TimeSpan.FromSeconds(1));
        }

        while (queue.Reader.TryRead(out _))
        {
            Interlocked.Increment(ref dropped);
        }

        stop.Dispose();
    }

    /// <summary>A queued line; it holds about <see cref="Size"/> bytes.</summary>
    private sealed record Entry(int Pri, string Line)
    {
        public int Size => 64 + Line.Length * sizeof(char);
    }

    /// <summary>One open socket to the target.</summary>
    private sealed class Connection(Socket socket, EndPoint? to, bool stream) : IDisposable
    {
        public bool Stream => stream;

        public static async Task<Connection> OpenAsync(SyslogTarget target, CancellationToken token)
        {
            if (target.Transport == SyslogTransport.Unix)
            {
                // As SysLogHandler._connect_unixsocket: a datagram socket, else a stream socket.
                var path = new UnixDomainSocketEndPoint(target.Address);
                try
                {
                    return await ConnectAsync(new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified), path, stream: false, token);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ProtocolType)
                {
                }

                return await ConnectAsync(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified), path, stream: true, token);
            }

            var addresses = await Dns.GetHostAddressesAsync(target.Address, token);
            var address = addresses.FirstOrDefault() ?? throw new SocketException((int)SocketError.HostNotFound);
            var endpoint = new IPEndPoint(address, target.Port);
            if (target.Transport == SyslogTransport.Udp)
            {
                return new Connection(new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp), endpoint, false);
            }

            return await ConnectAsync(new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }, endpoint, stream: true, token);
        }

        // A connected socket sends without an address; one that fails to connect is closed.
        private static async Task<Connection> ConnectAsync(Socket socket, EndPoint endpoint, bool stream, CancellationToken token)
        {
            try
            {
                await socket.ConnectAsync(endpoint, token);
                return new Connection(socket, null, stream);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public async Task SendAsync(byte[] message, CancellationToken token)
        {
            if (to is not null)
            {
                await socket.SendToAsync(message, SocketFlags.None, to, token);
                return;
            }

            var sent = 0;
            while (sent < message.Length)
            {
                sent += await socket.SendAsync(message.AsMemory(sent), SocketFlags.None, token);
            }
        }

        public void Dispose() => socket.Dispose();
    }
}
