using System.Net;
using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Testing;

namespace SaltApi.RestTornadoCompat.Tests.EndToEnd;

/// <summary>
/// The daemon with the <c>ssh</c> client enabled and rest_tornado beside rest_cherrypy and rest_wsgi. salt-ssh is a
/// stand-in script (an external program the client starts, not a wire): it records each start and answers
/// <c>{"web1": true}</c>.
/// </summary>
public sealed class SshTornadoDaemonFixture : IAsyncLifetime
{
    private Daemon? daemon;

    public Daemon Daemon => daemon ?? throw new InvalidOperationException("not started");

    public int Port { get; private set; }

    public Uri Tornado => new($"http://127.0.0.1:{Port}/");

    /// <summary>How many times salt-ssh was started.</summary>
    public int Starts => Directory.GetFiles(Daemon.Dir, "started.*").Length;

    public async Task InitializeAsync()
    {
        Port = FreePort.Next();
        daemon = await Daemon.StartAsync($"rest_tornado: {{address: 127.0.0.1, port: {Port}, disable_ssl: True}}", configure: dir =>
        {
            var saltSsh = Path.Combine(dir, "salt-ssh");
            File.WriteAllText(saltSsh, $"#!/bin/sh\ntouch '{dir}/started.'$$\necho '{{\"web1\": true}}'\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(saltSsh, (UnixFileMode)0b111_101_101);
            }

            Directory.CreateDirectory(Path.Combine(dir, "master.d"));
            File.WriteAllText(Path.Combine(dir, "master.d", "ssh.conf"), $"""
                netapi_enable_clients: [local, runner, ssh]
                saltapi_client:
                  salt_ssh: {saltSsh}

                """);
        });
        await daemon.WaitForPortAsync(Port, TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        if (daemon is not null)
        {
            await daemon.DisposeAsync();
        }
    }
}

/// <summary>
/// The <c>ssh</c> client through each module of one daemon. Salt 3006's rest_tornado has no <c>ssh</c> client
/// (saltnado's <c>saltclients</c>: local, local_async, runner, runner_async): salt-api answered its
/// <c>400 Invalid Client</c> to an ssh lowstate on <c>/</c> and <c>/run</c>, for every user, before any
/// authentication, on the same master where rest_cherrypy ran it. The module answers so too, and salt-ssh never starts.
/// </summary>
public sealed class SshEndToEndTests(SshTornadoDaemonFixture fixture) : IClassFixture<SshTornadoDaemonFixture>, IDisposable
{
    private const string InvalidClient = "400 Invalid Client: Client not found in salt clients";

    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => http.Dispose();

    private static string Low(string fun, string user, string extra = "") =>
        $$"""[{"client": "ssh", "tgt": "web1", "fun": "{{fun}}", "eauth": "file", "username": "{{user}}", "password": "{{Daemon.Password}}"{{extra}}}]""";

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(Uri uri, string body, string? token = null)
    {
        using var r = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        r.Headers.Add("Accept", "application/json");
        if (token is not null)
        {
            r.Headers.Add("X-Auth-Token", token);
        }

        using var resp = await http.SendAsync(r);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    private async Task<string> LoginAsync(Uri tornado, string user)
    {
        var (status, body) = await PostAsync(new Uri(tornado, "login"), $$"""{"username": "{{user}}", "password": "{{Daemon.Password}}", "eauth": "file"}""");
        Assert.True(status == HttpStatusCode.OK, body);
        var entry = (OrderedDictionary<string, object?>)((List<object?>)((OrderedDictionary<string, object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(body))!)["return"]!)[0]!;
        return (string)entry["token"]!;
    }

    private static void AssertWeb1True(string body)
    {
        var ret = (OrderedDictionary<string, object?>)((List<object?>)((OrderedDictionary<string, object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(body))!)["return"]!)[0]!;
        Assert.Equal(true, ((OrderedDictionary<string, object?>)ret["web1"]!)["return"]);
    }

    [Fact]
    public async Task Ssh_runs_through_rest_cherrypy_and_rest_wsgi_and_rest_tornado_answers_salt_s_invalid_client()
    {
        var d = fixture.Daemon;
        var before = fixture.Starts;

        // The same daemon runs salt-ssh for rest_cherrypy and rest_wsgi...
        var (status, body) = await PostAsync(new Uri(d.Cherrypy, "run"), Low("test.ping", "saltdev"));
        Assert.True(status == HttpStatusCode.OK, body + "\n" + d.Output);
        AssertWeb1True(body);
        (status, body) = await PostAsync(d.Wsgi, Low("test.ping", "limited"));
        Assert.True(status == HttpStatusCode.OK, body);
        AssertWeb1True(body);
        Assert.Equal(before + 2, fixture.Starts);

        // ...and rest_tornado answers as saltnado, on /run and on / with a session token.
        var token = await LoginAsync(fixture.Tornado, "saltdev");
        foreach (var (uri, low, tok) in new[]
        {
            (new Uri(fixture.Tornado, "run"), Low("test.ping", "saltdev"), (string?)null),
            (fixture.Tornado, """[{"client": "ssh", "tgt": "web1", "fun": "test.ping"}]""", token),
            (new Uri(fixture.Tornado, "run"), Low("cmd.run", "limited", """, "arg": ["id"]"""), null),
        })
        {
            (status, body) = await PostAsync(uri, low, tok);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(InvalidClient, body);
        }

        Assert.Equal(before + 2, fixture.Starts); // salt-ssh never started for rest_tornado
    }

    [Fact]
    public async Task The_same_authorization_holds_on_every_module_a_test_user_cannot_run_cmd_run()
    {
        var d = fixture.Daemon;
        var before = fixture.Starts;

        var (status, _) = await PostAsync(new Uri(d.Cherrypy, "run"), Low("cmd.run", "limited", """, "arg": ["id"]"""));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        (status, var body) = await PostAsync(d.Wsgi, Low("cmd.run", "limited", """, "arg": ["id"]"""));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("""{"return": "Authorization error occurred."}""", body);
        (status, body) = await PostAsync(new Uri(fixture.Tornado, "run"), Low("cmd.run", "limited", """, "arg": ["id"]"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(InvalidClient, body);

        Assert.Equal(before, fixture.Starts);
    }

    [Fact]
    public async Task Rest_tornado_s_welcome_lists_saltnado_s_clients_without_ssh()
    {
        using var resp = await http.GetAsync(fixture.Tornado);
        var ret = (OrderedDictionary<string, object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(await resp.Content.ReadAsStringAsync()))!;

        Assert.Equal(new List<object?> { "local", "local_async", "runner", "runner_async" }, ret["clients"]);
    }
}
