using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests;

/// <summary>
/// Two API daemons, one master in its own process, behind a real nginx (round-robin, no sticky sessions):
/// sessions are the master's tokens, so any daemon serves any session, logout on one is seen by all, the
/// event streams carry every daemon's jobs, and losing a daemon costs only its in-flight requests.
/// </summary>
public sealed class ScaleOutTests(ScaleOutTests.Cluster cluster) : IClassFixture<ScaleOutTests.Cluster>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(15);

    /// <summary>The master, two API daemons and nginx, shared by the tests that kill nothing.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        public ScaleOut Daemons { get; private set; } = null!;

        public Nginx Balancer { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            if (Nginx.Binary is null)
            {
                return;
            }

            Daemons = await ScaleOut.StartAsync(2);
            Balancer = await Nginx.StartAsync(Daemons.Apis);
        }

        public async Task DisposeAsync()
        {
            if (Balancer is not null)
            {
                await Balancer.DisposeAsync();
            }

            if (Daemons is not null)
            {
                await Daemons.DisposeAsync();
            }
        }
    }

    private static HttpClient NewClient() => new() { Timeout = Limit };

    /// <summary>Every rest_cherrypy base: each daemon directly, then the balancer.</summary>
    private static Uri[] CherrypyBases(ScaleOut daemons, Nginx nginx) => [.. daemons.Apis.Select(d => d.Cherrypy), nginx.Cherrypy];

    private static async Task<string> LoginAsync(HttpClient http, Uri baseUri)
    {
        using var r = await http.PostAsync(new Uri(baseUri, "login"), Form(("username", "saltdev"), ("password", Daemon.Password), ("eauth", "file")));
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"login: {(int)r.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("return")[0].GetProperty("token").GetString()!;
    }

    private static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient http, HttpMethod method, Uri uri, string? token, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.Accept.ParseAdd("application/json");
        if (token is not null)
        {
            request.Headers.Add("X-Auth-Token", token);
        }

        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Task<(HttpStatusCode Status, string Body)> WsgiAsync(HttpClient http, Uri wsgi, string token) =>
        SendAsync(http, HttpMethod.Post, wsgi, null, new StringContent($$"""[{"client": "local", "tgt": "ms--0", "fun": "test.ping", "token": "{{token}}"}]""", Encoding.UTF8, "application/json"));

    /// <summary>Starts a job on <paramref name="baseUri"/> with POST /minions and returns its jid.</summary>
    private static async Task<string> StartJobAsync(HttpClient http, Uri baseUri, string token)
    {
        var (status, body) = await SendAsync(http, HttpMethod.Post, new Uri(baseUri, "minions"), token, Form(("tgt", "ms--1"), ("fun", "test.ping")));
        Assert.True(status == HttpStatusCode.Accepted, $"{baseUri}minions: {(int)status} {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("return")[0].GetProperty("jid").GetString()!;
    }

    [NginxFact]
    public async Task A_token_from_the_balancer_works_on_every_daemon_and_through_the_balancer()
    {
        using var http = NewClient();
        var token = await LoginAsync(http, cluster.Balancer.Cherrypy);
        var wsgiBases = cluster.Daemons.Apis.Select(d => d.Wsgi).Append(cluster.Balancer.Wsgi);

        // Twice through the balancer, so each request type reaches each daemon through it too (round-robin).
        foreach (var baseUri in CherrypyBases(cluster.Daemons, cluster.Balancer).Append(cluster.Balancer.Cherrypy))
        {
            var (status, body) = await SendAsync(http, HttpMethod.Get, baseUri, token);
            Assert.True(status == HttpStatusCode.OK, $"GET {baseUri}: {(int)status} {body}");
            Assert.Contains("\"clients\"", body, StringComparison.Ordinal);

            (status, body) = await SendAsync(http, HttpMethod.Post, baseUri, token, Form(("client", "local"), ("tgt", "ms--0"), ("fun", "test.ping")));
            Assert.True(status == HttpStatusCode.OK, $"POST {baseUri}: {(int)status} {body}");
            Assert.Equal("{\"return\": [{\"ms--0\": true}]}", body);

            // /run takes the token in the body, as pepper's --run-uri sends it.
            (status, body) = await SendAsync(http, HttpMethod.Post, new Uri(baseUri, "run"), null, Form(("client", "local"), ("tgt", "ms--0"), ("fun", "test.ping"), ("token", token)));
            Assert.True(status == HttpStatusCode.OK, $"{baseUri}run: {(int)status} {body}");
            Assert.Equal("{\"return\": [{\"ms--0\": true}]}", body);

            var jid = await StartJobAsync(http, baseUri, token);
            (status, body) = await SendAsync(http, HttpMethod.Get, new Uri(baseUri, "jobs/" + jid), token);
            Assert.True(status == HttpStatusCode.OK, $"{baseUri}jobs/{jid}: {(int)status} {body}");
            Assert.Contains(jid, body, StringComparison.Ordinal);

            (status, body) = await SendAsync(http, HttpMethod.Get, new Uri(baseUri, "jobs"), token);
            Assert.True(status == HttpStatusCode.OK, $"{baseUri}jobs: {(int)status} {body}");
        }

        foreach (var wsgi in wsgiBases.Append(cluster.Balancer.Wsgi))
        {
            var (status, body) = await WsgiAsync(http, wsgi, token);
            Assert.True(status == HttpStatusCode.OK, $"rest_wsgi {wsgi}: {(int)status} {body}");
            Assert.Equal("{\"return\": [{\"ms--0\": true}]}", body);
        }
    }

    [NginxFact]
    public async Task Logout_on_one_daemon_is_refused_on_every_other_at_the_next_request()
    {
        using var http = NewClient();
        var apis = cluster.Daemons.Apis;
        for (var i = 0; i < apis.Count; i++)
        {
            var token = await LoginAsync(http, cluster.Balancer.Cherrypy);
            Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, HttpMethod.Post, new Uri(apis[(i + 1) % apis.Count].Cherrypy, "minions"), token, Form(("tgt", "ms--0"), ("fun", "test.ping")))).Status);

            var (status, body) = await SendAsync(http, HttpMethod.Post, new Uri(apis[i].Cherrypy, "logout"), token);
            Assert.True(status == HttpStatusCode.OK, $"logout: {(int)status} {body}");

            // The very first request after logout, on every daemon, directly and through the balancer.
            foreach (var other in apis.Where((_, j) => j != i))
            {
                (status, body) = await SendAsync(http, HttpMethod.Post, new Uri(other.Cherrypy, "minions"), token, Form(("tgt", "ms--0"), ("fun", "test.ping")));
                Assert.True(status == HttpStatusCode.Unauthorized, $"after logout on daemon {i}, {other.Cherrypy}minions: {(int)status} {body}");
                (status, body) = await WsgiAsync(http, other.Wsgi, token);
                Assert.True(status == HttpStatusCode.Unauthorized, $"after logout on daemon {i}, rest_wsgi {other.Wsgi}: {(int)status} {body}");
            }

            for (var k = 0; k < apis.Count; k++)
            {
                (status, body) = await SendAsync(http, HttpMethod.Post, cluster.Balancer.Cherrypy, token, Form(("client", "local"), ("tgt", "ms--0"), ("fun", "test.ping")));
                Assert.True(status == HttpStatusCode.Unauthorized, $"after logout on daemon {i}, POST / through the balancer: {(int)status} {body}");
            }
        }
    }

    [NginxFact]
    public async Task Behind_the_balancer_each_daemon_logs_the_client_nginx_forwards_and_no_token()
    {
        // The client connects to nginx from 127.0.0.2; nginx connects to the daemons from 127.0.0.1, their
        // only trusted proxy. So the client each daemon sees (X-Forwarded-For) is 127.0.0.2.
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancel) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancel);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        }) { Timeout = Limit };
        var token = await LoginAsync(http, cluster.Balancer.Cherrypy);
        var agent = "scale-out-" + Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.Balancer.Cherrypy, "jobs?token=" + token));
            request.Headers.TryAddWithoutValidation("User-Agent", agent);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var deadline = DateTime.UtcNow + Limit;
        foreach (var api in cluster.Daemons.Apis)
        {
            var file = Path.Combine(api.Dir, "access.log");
            string[] lines = [];
            while (lines.Length == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
                lines = File.Exists(file) ? [.. (await File.ReadAllLinesAsync(file)).Where(l => l.Contains(agent, StringComparison.Ordinal))] : [];
            }

            Assert.NotEmpty(lines);   // round-robin: every daemon served some of the four
            Assert.All(lines, l => Assert.StartsWith("127.0.0.2 - - [", l, StringComparison.Ordinal));
            Assert.All(lines, l => Assert.Contains("\"GET /jobs?token=*** HTTP/1.1\" 200 ", l, StringComparison.Ordinal));
            Assert.DoesNotContain(token, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        }
    }

    [NginxFact]
    public async Task Events_and_ws_through_the_balancer_carry_the_jobs_of_every_daemon()
    {
        using var http = NewClient();
        var token = await LoginAsync(http, cluster.Balancer.Cherrypy);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var sse = new Received();
        using var ws = new Received();

        // /events: an SSE stream held open through nginx (proxy_read_timeout well above the test).
        using var eventsClient = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var eventsResponse = await eventsClient.GetAsync(new Uri(cluster.Balancer.Cherrypy, "events?token=" + token), HttpCompletionOption.ResponseHeadersRead, stop.Token);
        Assert.Equal(HttpStatusCode.OK, eventsResponse.StatusCode);
        var sseTask = Task.Run(async () =>
        {
            using var reader = new StreamReader(await eventsResponse.Content.ReadAsStreamAsync(stop.Token));
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                sse.Add(line);
            }
        });

        // /ws/<token>: nginx must pass the upgrade through (Upgrade and Connection headers, HTTP/1.1).
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{cluster.Balancer.CherrypyPort}/ws/{token}"), stop.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes("websocket client ready"), WebSocketMessageType.Text, true, stop.Token);
        var wsTask = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (socket.State == WebSocketState.Open)
            {
                var r = await socket.ReceiveAsync(buffer, stop.Token);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                ws.Add(Encoding.UTF8.GetString(buffer, 0, r.Count));
            }
        });
        Assert.True(await ws.WaitAsync(m => m == "server received message", Limit), "no ws handshake answer: " + ws);

        // The streams subscribe as they open: start jobs until one shows on both, then every job must.
        var warm = Stopwatch.StartNew();
        while (true)
        {
            var jid = await StartJobAsync(http, cluster.Daemons.Apis[0].Cherrypy, token);
            if (await sse.WaitAsync(l => l == $"tag: salt/job/{jid}/new", TimeSpan.FromSeconds(1)) && await ws.WaitAsync(m => m.Contains($"salt/job/{jid}/new", StringComparison.Ordinal), TimeSpan.FromSeconds(1)))
            {
                break;
            }

            Assert.True(warm.Elapsed < Limit, $"the streams never carried a job: sse {sse}; ws {ws}");
        }

        foreach (var baseUri in CherrypyBases(cluster.Daemons, cluster.Balancer).Append(cluster.Balancer.Cherrypy))
        {
            var jid = await StartJobAsync(http, baseUri, token);
            Assert.True(await sse.WaitAsync(l => l == $"tag: salt/job/{jid}/new", Limit), $"/events missed the job {jid} started on {baseUri}: {sse}");
            Assert.True(await sse.WaitAsync(l => l == $"tag: salt/job/{jid}/ret/ms--1", Limit), $"/events missed the return of {jid} started on {baseUri}: {sse}");
            Assert.True(await ws.WaitAsync(m => m.Contains($"\"tag\": \"salt/job/{jid}/new\"", StringComparison.Ordinal), Limit), $"/ws missed the job {jid} started on {baseUri}: {ws}");
        }

        await stop.CancelAsync();
        await Task.WhenAny(Task.WhenAll(sseTask, wsTask), Task.Delay(Limit));
    }

    [NginxFact]
    public async Task Killing_one_daemon_under_load_fails_only_its_in_flight_requests()
    {
        await using var daemons = await ScaleOut.StartAsync(2);
        await using var nginx = await Nginx.StartAsync(daemons.Apis);
        var (victim, survivor) = (daemons.Apis[0], daemons.Apis[1]);
        using var http = NewClient();
        var token = await LoginAsync(http, nginx.Cherrypy);

        // The shared master's bus, seen through the survivor: each slow request is in flight once its runner
        // job has started (salt/run/<jid>/new).
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var sse = new Received();
        using var eventsClient = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var eventsResponse = await eventsClient.GetAsync(new Uri(survivor.Cherrypy, "events?token=" + token), HttpCompletionOption.ResponseHeadersRead, stop.Token);
        Assert.Equal(HttpStatusCode.OK, eventsResponse.StatusCode);
        var sseTask = Task.Run(async () =>
        {
            try
            {
                using var reader = new StreamReader(await eventsResponse.Content.ReadAsStreamAsync(stop.Token));
                while (await reader.ReadLineAsync(stop.Token) is { } line)
                {
                    sse.Add(line);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
            {
            }
        });
        // The stream subscribes before it sends its preamble.
        Assert.True(await sse.WaitAsync(l => l == "retry: 400", Limit), "no /events preamble: " + sse);

        // Slow requests in flight: a 5 s runner job, through the balancer (round-robin: half reach the
        // victim) and directly on each daemon.
        HttpContent Sleep() => Form(("client", "runner"), ("fun", "test.sleep"), ("s_time", "5"));
        async Task<(int Status, string Error, TimeSpan Took)> Outcome(Uri uri)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                var (status, _) = await SendAsync(http, HttpMethod.Post, uri, token, Sleep());
                return ((int)status, "", watch.Elapsed);
            }
            catch (HttpRequestException e)
            {
                return (0, e.Message, watch.Elapsed);
            }
        }

        var balanced = Enumerable.Range(0, 8).Select(_ => Outcome(nginx.Cherrypy)).ToArray();
        var onVictim = Enumerable.Range(0, 2).Select(_ => Outcome(victim.Cherrypy)).ToArray();
        var onSurvivor = Enumerable.Range(0, 2).Select(_ => Outcome(survivor.Cherrypy)).ToArray();
        Assert.True(await sse.WaitCountAsync(l => l.StartsWith("tag: salt/run/", StringComparison.Ordinal) && l.EndsWith("/new", StringComparison.Ordinal), 12, Limit), "the 12 runner jobs did not all start: " + sse);
        Assert.All(balanced.Concat(onVictim).Concat(onSurvivor), t => Assert.False(t.IsCompleted, "a 5 s request finished before the kill"));

        victim.Signal(9);
        Assert.True(await victim.WaitForExitAsync(TimeSpan.FromSeconds(5)), "SIGKILL did not end the daemon");

        // Fast requests through the balancer while the in-flight ones settle: nginx skips the dead daemon.
        var fast = new List<int>();
        var during = Stopwatch.StartNew();
        while (during.Elapsed < TimeSpan.FromSeconds(2))
        {
            fast.Add((int)(await SendAsync(http, HttpMethod.Post, nginx.Cherrypy, token, Form(("client", "local"), ("tgt", "ms--0"), ("fun", "test.ping")))).Status);
        }

        var all = await Task.WhenAll(balanced.Concat(onVictim).Concat(onSurvivor)).WaitAsync(Limit);
        var (b, v, s) = (all[..8], all[8..10], all[10..]);
        string Show(IEnumerable<(int Status, string Error, TimeSpan Took)> o) => string.Join("; ", o.Select(x => $"{x.Status} {x.Error} {x.Took.TotalSeconds:F1}s"));

        // On the victim directly: a connection error, not a hang. Through the balancer: a 502 from nginx
        // for those the victim held, 200 for the survivor's. On the survivor: 200.
        Assert.True(v.All(x => x.Status == 0), "direct on the killed daemon: " + Show(v));
        Assert.True(b.All(x => x.Status is 200 or 502), "through the balancer: " + Show(b));
        Assert.Contains(b, x => x.Status == 502);
        Assert.Contains(b, x => x.Status == 200);
        Assert.True(s.All(x => x.Status == 200), "direct on the survivor: " + Show(s));
        Assert.True(fast.Count > 0 && fast.All(x => x == 200), "through the balancer after the kill: " + string.Join(",", fast));

        // And afterwards: the survivor, directly and through the balancer, serves the same session.
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, HttpMethod.Post, new Uri(survivor.Cherrypy, "minions"), token, Form(("tgt", "ms--0"), ("fun", "test.ping")))).Status);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, HttpMethod.Post, new Uri(nginx.Cherrypy, "minions"), token, Form(("tgt", "ms--0"), ("fun", "test.ping")))).Status);
            Assert.Equal(HttpStatusCode.OK, (await WsgiAsync(http, nginx.Wsgi, token)).Status);
        }

        await stop.CancelAsync();
        await sseTask.WaitAsync(Limit);
    }

    /// <summary>Lines or messages from a stream, with a bounded wait for one that matches.</summary>
    private sealed class Received : IDisposable
    {
        private readonly List<string> items = [];
        private readonly SemaphoreSlim added = new(0);

        public void Add(string item)
        {
            lock (items)
            {
                if (items.Count < 100_000)
                {
                    items.Add(item);
                }
            }

            added.Release();
        }

        public async Task<bool> WaitAsync(Func<string, bool> match, TimeSpan limit)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                lock (items)
                {
                    if (items.Any(match))
                    {
                        return true;
                    }
                }

                var left = limit - watch.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }

                await added.WaitAsync(left > TimeSpan.FromMilliseconds(200) ? TimeSpan.FromMilliseconds(200) : left);
            }
        }

        /// <summary>Waits until <paramref name="count"/> items match.</summary>
        public async Task<bool> WaitCountAsync(Func<string, bool> match, int count, TimeSpan limit)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                lock (items)
                {
                    if (items.Count(match) >= count)
                    {
                        return true;
                    }
                }

                var left = limit - watch.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }

                await added.WaitAsync(left > TimeSpan.FromMilliseconds(200) ? TimeSpan.FromMilliseconds(200) : left);
            }
        }

        public void Dispose() => added.Dispose();

        public override string ToString()
        {
            lock (items)
            {
                var tail = string.Join(" | ", items.TakeLast(10));
                return $"{items.Count} received, last: {(tail.Length > 2000 ? tail[^2000..] : tail)}";
            }
        }
    }
}
