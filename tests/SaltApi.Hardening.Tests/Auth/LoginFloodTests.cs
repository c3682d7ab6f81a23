using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using SaltApi.Testing;
using Xunit.Abstractions;

namespace SaltApi.Hardening.Tests.Auth;

/// <summary>Small request gates (thread_pool 8, queue_size 2) on rest_cherrypy and rest_wsgi, so that a modest flood would fill them.</summary>
public sealed class LoginFloodFixture : HardeningFixture
{
    protected override string WsgiKeys => "  thread_pool: 8\n  queue_size: 2\n";

    protected override string CherrypyKeys(string dir) => "  thread_pool: 8\n  queue_size: 2\n";
}

/// <summary>
/// Failed logins cannot starve the daemon: a flood of wrong passwords from 127.0.0.3 (each refusal held ~1 s by
/// the master's anti-timing delay) while a user on 127.0.0.2 logs in and runs jobs. The refusals wait in the
/// login throttle, not in request slots, and the flooding address is slowed to one check at a time.
/// </summary>
public sealed class LoginFloodTests(LoginFloodFixture fixture, ITestOutputHelper output) : IClassFixture<LoginFloodFixture>
{
    private const int Flooders = 40;
    private const int Attempts = 10;

    private Daemon Daemon => fixture.Daemon;

    /// <summary>An HTTP client whose connections come from <paramref name="local"/> (any 127.0.0.0/8 address is loopback).</summary>
    internal static HttpClient From(string local) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(local), 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { Timeout = TimeSpan.FromSeconds(60) };

    private static async Task<int> StatusAsync(HttpClient http, HttpRequestMessage request)
    {
        try
        {
            using var response = await http.SendAsync(request);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
        finally
        {
            request.Dispose();
        }
    }

    /// <summary>Flooders sending <paramref name="attack"/> until <paramref name="stop"/>; returns when the address has been refused a few times, with the task that ends with the counts.</summary>
    private static async Task<Task<Dictionary<int, int>>> FloodAsync(Func<HttpRequestMessage> attack, CancellationToken stop)
    {
        var counts = new Dictionary<int, int>();
        var refused = 0;
        var clients = Enumerable.Range(0, Flooders).Select(_ => From("127.0.0.3")).ToList();
        var tasks = clients.Select(async http =>
        {
            while (!stop.IsCancellationRequested)
            {
                var status = await StatusAsync(http, attack());
                lock (counts)
                {
                    counts[status] = counts.GetValueOrDefault(status) + 1;
                }

                if (status == 401)
                {
                    Interlocked.Increment(ref refused);
                }
                else
                {
                    // A request refused for load is tried again at once (an attacker's loop), but not in a spin.
                    await Task.Delay(20, CancellationToken.None);
                }
            }
        }).ToList();

        // The flood is on once its first wave of refusals is in.
        var until = Stopwatch.StartNew();
        while (Volatile.Read(ref refused) < 5)
        {
            Assert.True(until.Elapsed < TimeSpan.FromSeconds(60), "the flood's first refusals did not come");
            await Task.Delay(50, CancellationToken.None);
        }

        return Task.Run(async () =>
        {
            await Task.WhenAll(tasks);
            clients.ForEach(c => c.Dispose());
            return counts;
        });
    }

    [Fact]
    public async Task A_flood_of_wrong_passwords_on_rest_cherrypy_leaves_other_addresses_logging_in_and_running_jobs()
    {
        using var stop = new CancellationTokenSource();
        var login = new Uri(Daemon.Cherrypy, "login");
        var flood = await FloodAsync(
            () => new HttpRequestMessage(HttpMethod.Post, login) { Content = Form(("username", "saltdev"), ("password", "wrong"), ("eauth", "file")) },
            stop.Token);

        using var user = From("127.0.0.2");
        var (ok, times) = (0, new List<double>());
        for (var i = 0; i < Attempts; i++)
        {
            var watch = Stopwatch.StartNew();
            using var request = new HttpRequestMessage(HttpMethod.Post, login) { Content = Form(("username", "saltdev"), ("password", Daemon.Password), ("eauth", "file")) };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await user.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                output.WriteLine($"login {i}: {(int)response.StatusCode}");
                continue;
            }

            var token = response.Headers.GetValues("X-Auth-Token").Single();
            using var run = new HttpRequestMessage(HttpMethod.Post, Daemon.Cherrypy) { Content = Form(("client", "local"), ("tgt", "ms--0"), ("fun", "test.ping")) };
            run.Headers.Add("X-Auth-Token", token);
            run.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var ran = await user.SendAsync(run);
            var welcome = await StatusAsync(user, new HttpRequestMessage(HttpMethod.Get, Daemon.Cherrypy));
            output.WriteLine($"attempt {i}: run {(int)ran.StatusCode}, GET / {welcome}, {watch.Elapsed.TotalMilliseconds:F0} ms");
            if (ran.StatusCode == HttpStatusCode.OK && welcome == 200)
            {
                ok++;
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        await stop.CancelAsync();
        var counts = await flood;
        output.WriteLine($"legitimate client: {ok}/{Attempts} login-and-run succeeded; flood answers: {string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}×{c.Value}"))}");
        Assert.Equal(Attempts, ok);
        Assert.True(counts.GetValueOrDefault(401) > 0);
    }

    [Fact]
    public async Task A_flood_of_wrong_eauth_lowstates_on_rest_wsgi_leaves_other_addresses_running_jobs()
    {
        using var stop = new CancellationTokenSource();
        static string Lowstate(string password) =>
            $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.ping", "eauth": "file", "username": "saltdev", "password": "{{password}}"}]""";
        var flood = await FloodAsync(
            () => new HttpRequestMessage(HttpMethod.Post, Daemon.Wsgi) { Content = new StringContent(Lowstate("wrong"), Encoding.UTF8, "application/json") },
            stop.Token);

        using var user = From("127.0.0.2");
        var ok = 0;
        for (var i = 0; i < Attempts; i++)
        {
            var watch = Stopwatch.StartNew();
            var status = await StatusAsync(user, new HttpRequestMessage(HttpMethod.Post, Daemon.Wsgi) { Content = new StringContent(Lowstate(Daemon.Password), Encoding.UTF8, "application/json") });
            output.WriteLine($"attempt {i}: {status}, {watch.Elapsed.TotalMilliseconds:F0} ms");
            ok += status == 200 ? 1 : 0;
        }

        await stop.CancelAsync();
        var counts = await flood;
        output.WriteLine($"legitimate client: {ok}/{Attempts} eauth lowstates succeeded; flood answers: {string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}×{c.Value}"))}");
        Assert.Equal(Attempts, ok);
    }

    private static FormUrlEncodedContent Form(params (string Key, string Value)[] pairs) =>
        new(pairs.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)));
}
