using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using SaltApi.Protocol.Events;

namespace SaltApi.Bench;

/// <summary>The /events figures: deliveries per second, delivery latency (ms), lost and duplicated events.</summary>
/// <param name="BenchCpuSeconds">The bench process's CPU (the subscribers and the firer) from the first event fired until the last delivered.</param>
/// <param name="WarmSeconds">The unmeasured warm-up at the full rate (until the tier-up compilers were idle).</param>
/// <param name="P99BySecond">The delivery p99 of the events fired in each measured second.</param>
/// <param name="BusP50">With a bus probe: the p50 of the measured events' arrival on the master's bus (ms).</param>
/// <param name="BusP99">With a bus probe: their p99 (ms).</param>
internal sealed record EventsResult(int Subscribers, int Fired, double FireSeconds, long Delivered, long Lost, long Duplicates, double P50, double P99, double Max, double BenchCpuSeconds, double WarmSeconds, IReadOnlyList<double> P99BySecond, double BusP50 = double.NaN, double BusP99 = double.NaN);

/// <summary>
/// Many SSE subscribers on rest_cherrypy's GET /events while a firer writes frames to the master's
/// <c>master_event_pull.ipc</c> (as Salt's event firers do) at a fixed rate. Each event carries its
/// sequence number and the firer's clock, so every subscriber counts what it lost and how late it was.
/// </summary>
internal static class EventsLoad
{
    private const string Tag = "bench/events/run";
    private const string WarmTag = "bench/events/warm";

    // Seconds of unmeasured load at the full rate before the measured ones: at least WarmSeconds, then on until the
    // runtime's tier-up compiler has been idle for a second in the daemon and here, at most MaxWarmSeconds.
    private const double WarmSeconds = 3;
    private const double MaxWarmSeconds = 30;

    // Seconds after the login before which the warm-up does not end (when the caller gives the login's time): the
    // module's token cache asks the master again for the token 7.5 s into its 10 s answer (TokenCache), and that
    // first early lookup takes the token lookup path (client layer, request channel, master) for the first time in
    // the daemon's life: about 75 methods compiled then, which otherwise fell in the measured seconds.
    private const double FirstTokenLookupSeconds = 9;

    // Tier-up compiler CPU in a warm second below which the hot paths count as compiled.
    private static readonly TimeSpan TierUpIdle = TimeSpan.FromMilliseconds(20);

    // The longest line (or /ws message) a subscriber takes; the bench's events are about 200 bytes.
    private const int LineLimit = 64 * 1024;

    private static ReadOnlySpan<byte> TagUtf8 => "bench/events/run"u8;

    private static ReadOnlySpan<byte> WarmTagUtf8 => "bench/events/warm"u8;

    /// <summary>
    /// With <paramref name="tokenHeader"/> each subscriber sends its token as <c>X-Auth-Token</c> on <c>GET /events</c>
    /// (rest_tornado), otherwise as <c>?token=</c> (rest_cherrypy).
    /// </summary>
    /// <param name="webSocket">Subscribe on <c>/ws/TOKEN</c> (rest_cherrypy's WebsocketEndpoint) rather than <c>/events</c>.</param>
    /// <param name="daemonPid">The daemon's process, whose tier-up compiler the warm-up waits for.</param>
    /// <param name="sinceLogin">Time since the token's login: the warm-up lasts past the token cache's first early lookup.</param>
    /// <param name="busProbe">Also time the events' arrival on the master's bus (<see cref="BusProbe"/>).</param>
    public static async Task<EventsResult> RunAsync(string baseUrl, string token, string sockDir, int daemonPid, int subscribers, int rate, double seconds, bool tokenHeader = false, bool webSocket = false, Stopwatch? sinceLogin = null, bool busProbe = false)
    {
        var total = (int)(rate * seconds);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = subscribers + 10, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 40));
        var subs = Enumerable.Range(0, subscribers).Select(_ => new Subscriber(total)).ToArray();
        var url = new Uri(baseUrl + (tokenHeader ? "events" : "events?token=" + Uri.EscapeDataString(token)));
        var tasks = webSocket
            ? subs.Select(s => s.RunWebSocketAsync(new Uri(baseUrl.Replace("http://", "ws://", StringComparison.Ordinal) + "ws/" + Uri.EscapeDataString(token)), stop.Token)).ToArray()
            : subs.Select(s => s.RunAsync(http, url, tokenHeader ? token : null, stop.Token)).ToArray();

        using var pull = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await pull.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(sockDir, "master_event_pull.ipc")));

        // Warm-up: fire until every subscriber has seen one event (the stream is live end to end).
        var warmLimit = Stopwatch.StartNew();
        while (subs.Any(s => s.Warm == 0))
        {
            if (warmLimit.Elapsed > TimeSpan.FromSeconds(15) || tasks.All(t => t.IsCompleted))
            {
                await stop.CancelAsync();
                var failed = tasks.FirstOrDefault(t => t.IsFaulted)?.Exception?.InnerException?.Message;
                throw new InvalidOperationException($"{subs.Count(s => s.Warm == 0)} of {subscribers} subscribers saw no event in 15 s{(failed is null ? "" : ": " + failed)}");
            }

            await pull.SendAsync(EventFrame.Encode(WarmTag, [new("warm", true)]));
            await Task.Delay(50);
        }

        // Then the same load, not measured: as the HTTP points' warm-up, so that the daemon (just started) and the
        // subscribers have compiled their hot paths at full tier before the measured seconds. A fixed 3 s was not
        // that on a loaded machine: the daemon's tier-up compiler still took 0.3-0.9 s of every measured second
        // (250 methods/s), and the first measured seconds carried the p99. So: one second at a time, until
        // neither process's tier-up compiler worked in the last one.
        var warm = Stopwatch.StartNew();
        var pids = new[] { daemonPid, Environment.ProcessId };
        var tierUp = pids.Select(TierUpCpu).ToArray();
        while (true)
        {
            await FireAsync(pull, WarmTag, rate, rate);
            var now = pids.Select(TierUpCpu).ToArray();
            // (A compiler thread that exited and came back starts again from zero.)
            var idle = now.Zip(tierUp, (a, b) => a >= b ? a - b : a).All(d => d < TierUpIdle);
            tierUp = now;
            var lookedUp = sinceLogin is null || sinceLogin.Elapsed.TotalSeconds >= FirstTokenLookupSeconds;
            if ((idle && lookedUp && warm.Elapsed.TotalSeconds >= WarmSeconds) || warm.Elapsed.TotalSeconds >= MaxWarmSeconds)
            {
                break;
            }
        }

        var warmSeconds = warm.Elapsed.TotalSeconds;

        // Fire `rate` events per second, paced against the clock.
        using var probe = busProbe ? new BusProbe(sockDir, Tag) : null;
        var benchCpu = Environment.CpuUsage.TotalTime;
        var fire = Stopwatch.StartNew();
        await FireAsync(pull, Tag, total, rate);
        var fireSeconds = fire.Elapsed.TotalSeconds;

        // Stragglers: wait until everyone has everything, at most 5 s.
        var drain = Stopwatch.StartNew();
        while (drain.Elapsed < TimeSpan.FromSeconds(5) && subs.Any(s => s.Received < total))
        {
            await Task.Delay(50);
        }

        var benchCpuSeconds = (Environment.CpuUsage.TotalTime - benchCpu).TotalSeconds;
        var bus = probe?.Stop() ?? [];
        await stop.CancelAsync();
        await Task.WhenAll(tasks.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));

        var latencies = subs.SelectMany(s => s.LatencyMs).ToArray();
        var bySecond = new List<double>();
        for (var from = 0; from < total; from += rate)
        {
            var count = Math.Min(rate, total - from);
            bySecond.Add(Stats.Percentile(subs.SelectMany(s => s.LatencyBySeq.AsSpan(from, count).ToArray()).Where(x => x >= 0).Select(x => (double)x).ToArray(), 99));
        }

        var delivered = subs.Sum(s => (long)s.Received);
        return new EventsResult(
            subscribers,
            total,
            fireSeconds,
            delivered,
            ((long)total * subscribers) - delivered,
            subs.Sum(s => (long)s.Duplicates),
            Stats.Percentile(latencies, 50),
            Stats.Percentile(latencies, 99),
            latencies.Length > 0 ? latencies.Max() : double.NaN,
            benchCpuSeconds,
            warmSeconds,
            bySecond,
            bus.Length > 0 ? Stats.Percentile(bus, 50) : double.NaN,
            bus.Length > 0 ? Stats.Percentile(bus, 99) : double.NaN);
    }

    /// <summary>
    /// CPU time of the runtime's tier-up compiler (the thread named ".NET Tiered Compilation Worker", "comm" keeps 15
    /// characters) in process <paramref name="pid"/>; zero when it is not running (it exits when idle).
    /// </summary>
    private static TimeSpan TierUpCpu(int pid)
    {
        var ticks = 0L;
        try
        {
            foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered Com", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    // stat: "tid (comm) state ..." with utime and stime the 14th and 15th fields.
                    var stat = File.ReadAllText(Path.Combine(task, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
                {
                    // the thread ended meanwhile
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // no /proc (not Linux) or the process ended: nothing to wait for
        }

        return TimeSpan.FromMilliseconds(ticks * 10.0); // USER_HZ is 100 on Linux
    }

    /// <summary>Fires <paramref name="count"/> events of <paramref name="tag"/> at <paramref name="rate"/> a second, paced against the clock.</summary>
    private static async Task FireAsync(Socket pull, string tag, int count, int rate)
    {
        var fire = Stopwatch.StartNew();
        var sent = 0;
        while (sent < count)
        {
            var due = Math.Min(count, (int)(fire.Elapsed.TotalSeconds * rate) + 1);
            for (; sent < due; sent++)
            {
                var frame = EventFrame.Encode(tag, [
                    new("seq", (long)sent),
                    new("ts", Stopwatch.GetTimestamp()),
                    new("fun", "test.ping"),
                    new("id", "ms--0"),
                    new("return", true),
                ]);
                await pull.SendAsync(frame);
            }

            await Task.Delay(1);
        }
    }

    private sealed class Subscriber(int total)
    {
        private readonly bool[] seen = new bool[total];

        public int Warm;

        public int Received;

        public int Duplicates;

        public List<double> LatencyMs { get; } = new(total);

        /// <summary>The latency of each measured event by its <c>seq</c> (-1: not received), for the p99 by second.</summary>
        public float[] LatencyBySeq { get; } = CreateLatencyBySeq(total);

        private static float[] CreateLatencyBySeq(int total)
        {
            var a = new float[total];
            Array.Fill(a, -1f);
            return a;
        }

        public async Task RunAsync(HttpClient http, Uri url, string? tokenHeader, CancellationToken ct)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("text/event-stream");
            if (tokenHeader is not null)
            {
                request.Headers.Add("X-Auth-Token", tokenHeader);
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            response.EnsureSuccessStatusCode();
            await using var stream = await response.Content.ReadAsStreamAsync(ct);

            // The stream's bytes as they come, split into lines in place (no string per line): the lines of one
            // read arrived together and share its time.
            var buffer = ArrayPool<byte>.Shared.Rent(LineLimit);
            try
            {
                var kept = 0;
                while (true)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(kept), ct);
                    if (n == 0)
                    {
                        return;
                    }

                    var now = Stopwatch.GetTimestamp();
                    var rest = buffer.AsSpan(0, kept + n);
                    for (var nl = rest.IndexOf((byte)'\n'); nl >= 0; nl = rest.IndexOf((byte)'\n'))
                    {
                        OnLine(rest[..nl], now);
                        rest = rest[(nl + 1)..];
                    }

                    if (rest.Length == buffer.Length)
                    {
                        throw new InvalidOperationException($"an /events line longer than {LineLimit} bytes");
                    }

                    rest.CopyTo(buffer);
                    kept = rest.Length;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <summary>rest_cherrypy's <c>/ws</c>: "websocket client ready", then one <c>data: {json}</c> message per event.</summary>
        public async Task RunWebSocketAsync(Uri url, CancellationToken ct)
        {
            using var ws = new System.Net.WebSockets.ClientWebSocket();
            await ws.ConnectAsync(url, ct);
            await ws.SendAsync("websocket client ready"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, ct);
            var buffer = ArrayPool<byte>.Shared.Rent(LineLimit);
            try
            {
                while (ws.State == System.Net.WebSockets.WebSocketState.Open)
                {
                    var count = 0;
                    System.Net.WebSockets.ValueWebSocketReceiveResult r;
                    do
                    {
                        r = await ws.ReceiveAsync(buffer.AsMemory(count), ct);
                        count += r.Count;
                    }
                    while (!r.EndOfMessage && count < buffer.Length);

                    if (r.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                    {
                        return;
                    }

                    OnLine(buffer.AsSpan(0, count), Stopwatch.GetTimestamp());
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <summary>
        /// One line (SSE) or message (<c>/ws</c>), as UTF-8: a <c>data:</c> line of this run's tag gives its
        /// <c>seq</c> (lost and duplicated events) and <c>ts</c> (the firing time, for the latency).
        /// </summary>
        private void OnLine(ReadOnlySpan<byte> line, long now)
        {
            if (!line.StartsWith("data:"u8))
            {
                return;
            }

            if (line.IndexOf(WarmTagUtf8) >= 0)
            {
                Warm++;
                return;
            }

            if (line.IndexOf(TagUtf8) < 0)
            {
                return;
            }

            var seq = Number(line, "\"seq\""u8);
            var ts = Number(line, "\"ts\""u8);
            if (seq < 0 || seq >= seen.Length)
            {
                return;
            }

            if (seen[seq])
            {
                Duplicates++;
                return;
            }

            seen[seq] = true;
            Received++;
            var ms = (now - ts) * 1000.0 / Stopwatch.Frequency;
            LatencyMs.Add(ms);
            LatencyBySeq[seq] = (float)ms;
        }

        private static long Number(ReadOnlySpan<byte> line, ReadOnlySpan<byte> key)
        {
            var i = line.IndexOf(key);
            if (i < 0)
            {
                return -1;
            }

            i += key.Length;
            while (i < line.Length && (line[i] == (byte)':' || line[i] == (byte)' '))
            {
                i++;
            }

            var j = i;
            while (j < line.Length && char.IsAsciiDigit((char)line[j]))
            {
                j++;
            }

            return j > i && Utf8Parser.TryParse(line[i..j], out long value, out _) ? value : -1;
        }
    }
}
