using System.Net;
using System.Text.Json;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests.Ops;

/// <summary>
/// <c>X-Salt-Jid</c> (salt-api issues #139, #148): every answer of a job-starting call names its jobs, so a sync
/// <c>local</c> that gave up on a silent minion still tells the jid, and the job can be looked up with it; on all
/// three modules.
/// </summary>
public sealed class JidHeaderTests(JidHeaderTests.SilentMinion fixture) : IClassFixture<JidHeaderTests.SilentMinion>
{
    /// <summary>The ops daemon with <c>ms--4</c> silent: a sync call to every minion gives up waiting for it.</summary>
    public sealed class SilentMinion : IAsyncLifetime
    {
        public Daemon Daemon { get; private set; } = null!;

        public Uri Tornado { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var tornado = FreePort.Next();
            Daemon = await Daemon.StartAsync(
                $"""
                rest_tornado:
                  address: 127.0.0.1
                  port: {tornado}
                  disable_ssl: true
                """,
                configure: dir => File.WriteAllText(Path.Combine(dir, "master"), File.ReadAllText(Path.Combine(dir, "master")).Replace("  minions: 5\n", "  minions: 5\n  silent: [ms--4]\n", StringComparison.Ordinal)));
            await Daemon.WaitForPortAsync(tornado, TimeSpan.FromSeconds(60));
            Tornado = new Uri($"http://127.0.0.1:{tornado}/");
        }

        public async Task DisposeAsync() => await Daemon.DisposeAsync();
    }

    public enum Module
    {
        RestCherrypy,
        RestWsgi,
        RestTornado,
    }

    [Theory]
    [InlineData(Module.RestCherrypy)]
    [InlineData(Module.RestWsgi)]
    [InlineData(Module.RestTornado)]
    public async Task A_sync_local_that_gives_up_on_a_minion_tells_its_jid_and_the_job_is_found_with_it(Module module)
    {
        using var http = OpsDaemon.NewClient();
        var (uri, token) = await TargetAsync(http, module);
        using var r = await OpsDaemon.PostAsync(http, uri, new[] { Chunk(token, new() { ["client"] = "local", ["tgt"] = "*", ["fun"] = "test.ping", ["timeout"] = 1 }) }, module == Module.RestWsgi ? null : token);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, body);
        var answer = JsonDocument.Parse(body).RootElement.GetProperty("return")[0];
        Assert.False(answer.GetProperty("ms--4").GetBoolean()); // gave up on the silent minion
        var jid = Assert.Single(r.Headers.GetValues("X-Salt-Jid"));
        Assert.Matches("^[0-9]{20}$", jid);

        // The jid finds the job: its returns are those the answer had.
        var cherrypyToken = await OpsDaemon.LoginAsync(http, fixture.Daemon.Cherrypy);
        using var lookup = await OpsDaemon.PostAsync(http, fixture.Daemon.Cherrypy, new[] { new { client = "runner", fun = "jobs.lookup_jid", jid } }, cherrypyToken);
        var found = JsonDocument.Parse(await lookup.Content.ReadAsStringAsync()).RootElement.GetProperty("return")[0];
        Assert.Equal(["ms--0", "ms--1", "ms--2", "ms--3"], found.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.NotEqual(jid, Assert.Single(lookup.Headers.GetValues("X-Salt-Jid"))); // the runner call is a job of its own
    }

    [Theory]
    [InlineData(Module.RestCherrypy)]
    [InlineData(Module.RestWsgi)]
    [InlineData(Module.RestTornado)]
    public async Task Several_jobs_in_one_request_are_listed_in_chunk_order(Module module)
    {
        using var http = OpsDaemon.NewClient();
        var (uri, token) = await TargetAsync(http, module);
        var chunks = new[]
        {
            Chunk(token, new() { ["client"] = "local_async", ["tgt"] = "ms--0", ["fun"] = "test.ping" }),
            Chunk(token, new() { ["client"] = "runner_async", ["fun"] = "test.arg", ["arg"] = new[] { "x" } }),
            Chunk(token, new() { ["client"] = "local_async", ["tgt"] = "ms--1", ["fun"] = "test.ping" }),
        };
        using var r = await OpsDaemon.PostAsync(http, uri, chunks, module == Module.RestWsgi ? null : token);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, body);
        var bodyJids = JsonDocument.Parse(body).RootElement.GetProperty("return").EnumerateArray().Select(e => e.GetProperty("jid").GetString()!).ToList();
        Assert.Equal(3, bodyJids.Count);
        Assert.Equal(string.Join(", ", bodyJids), Assert.Single(r.Headers.GetValues("X-Salt-Jid")));
    }

    [Fact]
    public async Task Runner_and_wheel_calls_tell_their_jid_and_calls_that_start_no_job_have_no_header()
    {
        using var http = OpsDaemon.NewClient();
        var d = fixture.Daemon;
        var token = await OpsDaemon.LoginAsync(http, d.Cherrypy);
        foreach (var client in (string[])["runner_async", "wheel_async"])
        {
            var fun = client == "runner_async" ? "jobs.list_jobs" : "key.list_all";
            using var r = await OpsDaemon.PostAsync(http, d.Cherrypy, new[] { new { client, fun } }, token);
            var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("return")[0];
            Assert.Equal(body.GetProperty("jid").GetString(), Assert.Single(r.Headers.GetValues("X-Salt-Jid")));
        }

        foreach (var client in (string[])["runner", "wheel"])
        {
            var fun = client == "runner" ? "jobs.list_jobs" : "key.list_all";
            using var r = await OpsDaemon.PostAsync(http, d.Cherrypy, new[] { new { client, fun } }, token);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Matches("^[0-9]{20}", Assert.Single(r.Headers.GetValues("X-Salt-Jid")));
        }

        // No job: a login, the welcome page, a refused publish.
        using (var r = await http.PostAsync(new Uri(d.Cherrypy, "login"), OpsDaemon.Json(new { username = "saltdev", password = Daemon.Password, eauth = "file" })))
        {
            Assert.False(r.Headers.Contains("X-Salt-Jid"));
        }

        using (var r = await http.GetAsync(d.Cherrypy))
        {
            Assert.False(r.Headers.Contains("X-Salt-Jid"));
        }

        using (var r = await OpsDaemon.PostAsync(http, d.Wsgi, new[] { new { client = "local", tgt = "*", fun = "test.ping", eauth = "file", username = "saltdev", password = "wrong" } }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.False(r.Headers.Contains("X-Salt-Jid"));
        }
    }

    private async Task<(Uri Uri, string? Token)> TargetAsync(HttpClient http, Module module) => module switch
    {
        Module.RestCherrypy => (fixture.Daemon.Cherrypy, await OpsDaemon.LoginAsync(http, fixture.Daemon.Cherrypy)),
        Module.RestTornado => (fixture.Tornado, await OpsDaemon.LoginAsync(http, fixture.Tornado)),
        _ => (fixture.Daemon.Wsgi, null),
    };

    // rest_wsgi has no sessions: each chunk carries eauth credentials.
    private static Dictionary<string, object?> Chunk(string? token, Dictionary<string, object?> chunk)
    {
        if (token is null)
        {
            chunk["eauth"] = "file";
            chunk["username"] = "saltdev";
            chunk["password"] = Daemon.Password;
        }

        return chunk;
    }
}
