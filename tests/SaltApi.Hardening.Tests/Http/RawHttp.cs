using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace SaltApi.Hardening.Tests.Http;

/// <summary>A response read off a raw socket.</summary>
/// <param name="Status">The status code; 0 when the server closed without answering.</param>
/// <param name="Headers">Header lines as sent (name, value), in order.</param>
/// <param name="Body">The body bytes (de-chunked).</param>
public sealed record RawResponse(int Status, IReadOnlyList<(string Name, string Value)> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    public IEnumerable<string> All(string name) => Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

    public override string ToString() => $"{Status} [{string.Join("; ", Headers.Select(h => h.Name + ": " + h.Value))}] {Text[..Math.Min(Text.Length, 600)]}";
}

/// <summary>The server did not answer within the bound: a hang.</summary>
public sealed class HangException(string message) : Exception(message);

/// <summary>
/// HTTP/1.1 over a raw loopback socket, so that requests no HttpClient would send (CR/LF in header
/// values, invalid UTF-8, lying Content-Length, trickled bytes) can be sent. One request per
/// connection (<c>Connection: close</c> unless the caller writes its own headers).
/// </summary>
public static class RawHttp
{
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromSeconds(15);

    /// <summary>Builds a request: request line, headers, then the body with a right Content-Length unless one is given.</summary>
    public static byte[] Build(string method, string target, IEnumerable<(string Name, string Value)>? headers = null, byte[]? body = null, bool contentLength = true)
    {
        var sb = new StringBuilder();
        sb.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        var hs = headers?.ToList() ?? [];
        foreach (var (n, v) in hs)
        {
            sb.Append(n).Append(": ").Append(v).Append("\r\n");
        }

        if (body is not null && contentLength && !hs.Any(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || h.Name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)))
        {
            sb.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        sb.Append("\r\n");
        return [.. Encoding.Latin1.GetBytes(sb.ToString()), .. body ?? []];
    }

    /// <summary>Sends the bytes (in pieces with pauses if <paramref name="pieces"/> says so) and reads one response.</summary>
    public static async Task<RawResponse> SendAsync(int port, byte[] request, TimeSpan? limit = null, IReadOnlyList<(int Bytes, TimeSpan Pause)>? pieces = null, bool tls = false, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(limit ?? DefaultLimit);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port, cts.Token);
            Stream stream = client.GetStream();
            if (tls)
            {
                var ssl = new SslStream(stream, false, (_, _, _, _) => true);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13 }, cts.Token);
                stream = ssl;
            }

            await using (stream)
            {
                try
                {
                    var at = 0;
                    foreach (var (bytes, pause) in pieces ?? [])
                    {
                        var n = Math.Min(bytes, request.Length - at);
                        await stream.WriteAsync(request.AsMemory(at, n), cts.Token);
                        await stream.FlushAsync(cts.Token);
                        at += n;
                        await Task.Delay(pause, cts.Token);
                    }

                    await stream.WriteAsync(request.AsMemory(at), cts.Token);
                    await stream.FlushAsync(cts.Token);
                }
                catch (IOException)
                {
                    // The server may answer (413, 431, 400) and close before it read everything.
                }

                return await ReadResponseAsync(stream, cts.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HangException($"no complete answer within {limit ?? DefaultLimit}");
        }
    }

    private static async Task<RawResponse> ReadResponseAsync(Stream stream, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int headerEnd;
        while ((headerEnd = IndexOf(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), "\r\n\r\n"u8)) < 0)
        {
            var n = await ReadSome(stream, chunk, ct);
            if (n == 0)
            {
                return new RawResponse(0, [], buffer.ToArray());
            }

            buffer.Write(chunk, 0, n);
        }

        var all = buffer.ToArray();
        var head = Encoding.Latin1.GetString(all, 0, headerEnd).Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = head.Skip(1).Select(l => l.Split(':', 2)).Select(p => (p[0].Trim(), p.Length > 1 ? p[1].Trim() : "")).ToList();
        var rest = new MemoryStream();
        rest.Write(all, headerEnd + 4, all.Length - headerEnd - 4);
        var length = headers.FirstOrDefault(h => h.Item1.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Item2;
        var chunked = headers.Any(h => h.Item1.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && h.Item2.Contains("chunked", StringComparison.OrdinalIgnoreCase));
        if (status is 204 or 304 or (>= 100 and < 200))
        {
            return new RawResponse(status, headers, []);
        }

        if (length is not null && long.TryParse(length, out var len))
        {
            while (rest.Length < len)
            {
                var n = await ReadSome(stream, chunk, ct);
                if (n == 0)
                {
                    break;
                }

                rest.Write(chunk, 0, n);
            }

            return new RawResponse(status, headers, rest.ToArray()[..(int)Math.Min(len, rest.Length)]);
        }

        // Chunked or close-delimited: read to the end (the request said Connection: close), then de-chunk.
        while (true)
        {
            if (chunked && EndsChunked(rest.ToArray()))
            {
                break;
            }

            var n = await ReadSome(stream, chunk, ct);
            if (n == 0)
            {
                break;
            }

            rest.Write(chunk, 0, n);
        }

        return new RawResponse(status, headers, chunked ? Dechunk(rest.ToArray()) : rest.ToArray());
    }

    private static async Task<int> ReadSome(Stream stream, byte[] chunk, CancellationToken ct)
    {
        try
        {
            return await stream.ReadAsync(chunk, ct);
        }
        catch (IOException)
        {
            return 0; // reset by the server
        }
    }

    private static bool EndsChunked(byte[] data) => data.AsSpan().EndsWith("0\r\n\r\n"u8) && (data.Length == 5 || data.AsSpan(0, data.Length - 5).EndsWith("\r\n"u8));

    private static byte[] Dechunk(byte[] data)
    {
        var output = new MemoryStream();
        var at = 0;
        while (at < data.Length)
        {
            var eol = IndexOf(data.AsSpan(at), "\r\n"u8);
            if (eol < 0)
            {
                break;
            }

            var size = Convert.ToInt32(Encoding.ASCII.GetString(data, at, eol).Split(';')[0].Trim(), 16);
            at += eol + 2;
            if (size == 0 || at + size > data.Length)
            {
                break;
            }

            output.Write(data, at, size);
            at += size + 2;
        }

        return output.ToArray();
    }

    private static int IndexOf(ReadOnlySpan<byte> hay, ReadOnlySpan<byte> needle) => hay.IndexOf(needle);
}
