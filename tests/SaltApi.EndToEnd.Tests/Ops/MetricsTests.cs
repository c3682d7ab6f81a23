using System.Diagnostics;
using System.Net;
using System.Text.Json;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests.Ops;

/// <summary>
/// <c>saltapi_ops: {metrics: true}</c>: a load of known size on the three modules, scraped while it runs and
/// after, each scrape parsed strictly (<see cref="PrometheusText"/>), and the counts equal to the requests sent.
/// </summary>
public sealed class MetricsTests
{
    private const int CherrypyAsync = 40;
    private const int WsgiSync = 30;
    private const int TornadoSync = 20;
    private const int FailedLogins = 3;

    // Every label the daemon's series may carry: none of them can hold a token, a password, a target or a jid.
    private static readonly string[] AllowedLabels =
        ["otel_scope_name", "module", "route", "client", "status", "le", "result", "reason", "call", "outcome",
         "service_name", "service_version", "service_instance_id", "telemetry_sdk_name", "telemetry_sdk_language", "telemetry_sdk_version"];

    [Fact]
    public async Task A_load_of_known_size_is_counted_exactly_and_every_scrape_parses_strictly()
    {
        await using var ops = await OpsDaemon.StartAsync();
        using var http = OpsDaemon.NewClient();
        var d = ops.Daemon;
        var token = await OpsDaemon.LoginAsync(http, d.Cherrypy);
        var tornadoToken = await OpsDaemon.LoginAsync(http, ops.Tornado);
        var before = await ops.ScrapeAsync(http);

        var jids = new System.Collections.Concurrent.ConcurrentBag<string>();
        var load = new List<Task<HttpStatusCode>>();
        for (var i = 0; i < CherrypyAsync; i++)
        {
            load.Add(Send(d.Cherrypy, new[] { new { client = "local_async", tgt = "*", fun = "test.ping" } }, token));
        }

        for (var i = 0; i < WsgiSync; i++)
        {
            load.Add(Send(d.Wsgi, new[] { new { client = "local", tgt = "ms--1", fun = "test.ping", eauth = "file", username = "saltdev", password = Daemon.Password } }, null));
        }

        for (var i = 0; i < TornadoSync; i++)
        {
            load.Add(Send(ops.Tornado, new[] { new { client = "local", tgt = "ms--2", fun = "test.ping" } }, tornadoToken));
        }

        for (var i = 0; i < FailedLogins; i++)
        {
            load.Add(Login(d.Cherrypy, "wrong-password"));
        }

        // A path with a secret-looking segment that no route matches: its label is the template, never the path.
        load.Add(Get(new Uri(d.Cherrypy, "no/such/route/5ec12e7")));

        // Scrapes while the load runs: each must parse strictly, and counters never go back.
        var during = new List<PrometheusText>();
        while (!load.All(t => t.IsCompleted))
        {
            during.Add(await ops.ScrapeAsync(http));
        }

        var statuses = await Task.WhenAll(load);
        Assert.Equal(CherrypyAsync + WsgiSync + TornadoSync, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(FailedLogins, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.NotFound));
        var after = await ops.ScrapeAsync(http);
        Assert.NotEmpty(during);
        foreach (var scrape in during.Append(after))
        {
            Assert.True(Count(scrape, "rest_cherrypy", "/", "local_async", "200") <= CherrypyAsync);
            Assert.All(scrape.Find("saltapi_request_slots_in_use"), s => Assert.InRange(s.Value, 0, 1000));
            Assert.All(scrape.Find("saltapi_request_slots_waiting"), s => Assert.InRange(s.Value, 0, 1000));
        }

        Assert.Equal(CherrypyAsync, Count(after, "rest_cherrypy", "/", "local_async", "200") - Count(before, "rest_cherrypy", "/", "local_async", "200"));
        Assert.Equal(WsgiSync, Count(after, "rest_wsgi", "/", "local", "200"));
        Assert.Equal(TornadoSync, Count(after, "rest_tornado", "/", "local", "200"));
        Assert.Equal(FailedLogins, Count(after, "rest_cherrypy", "/login", "none", "401"));
        Assert.Equal(FailedLogins, after.Sum("saltapi_logins_failed_total", ("module", "rest_cherrypy")));
        Assert.Equal(1, Count(after, "rest_cherrypy", "unmatched", "none", "404"));
        Assert.Equal("histogram", after.FamilyTypes["saltapi_request_duration_seconds"]);

        // Master round-trips: one publish per job at least (a sync call may also ping stragglers with find_job).
        Assert.True(after.Sum("saltapi_master_request_duration_seconds_count", ("call", "publish"), ("outcome", "ok")) >= CherrypyAsync + WsgiSync + TornadoSync);
        Assert.True(after.Sum("saltapi_master_request_duration_seconds_count", ("call", "mk_token")) >= 2 + FailedLogins);
        Assert.Equal(1, after.Sum("saltapi_master_connected"));
        Assert.True(after.Sum("saltapi_event_bus_events_total") > before.Sum("saltapi_event_bus_events_total"));
        var slots = string.Join("\n", after.Samples.Where(s => s.Name.StartsWith("saltapi_request_slots", StringComparison.Ordinal)).Select(s => $"{s.Name}{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}"));
        Assert.True(after.Sum("saltapi_request_slots_in_use") == 0, slots);
        Assert.True(after.Sum("saltapi_request_slots_waiting") == 0, slots);
        Assert.True(after.Sum("saltapi_token_cache_lookups_total", ("module", "rest_cherrypy")) >= CherrypyAsync);
        Assert.True(after.Sum("saltapi_token_cache_lookups_total", ("module", "rest_cherrypy"), ("result", "hit")) > 0);

        // No label carries anything the requests sent: tokens, the password, targets, jids, the path.
        string[] secrets = [token, tornadoToken, Daemon.Password, "wrong-password", "ms--1", "ms--2", "5ec12e7", .. jids];
        foreach (var s in after.Samples)
        {
            Assert.All(s.Labels.Keys, k => Assert.Contains(k, AllowedLabels));
            Assert.All(s.Labels.Values, v => Assert.DoesNotContain(secrets, secret => v.Contains(secret, StringComparison.Ordinal)));
        }

        async Task<HttpStatusCode> Send(Uri uri, object lowstate, string? t)
        {
            using var r = await OpsDaemon.PostAsync(http, uri, lowstate, t);
            var body = await r.Content.ReadAsStringAsync();
            if (r.Headers.TryGetValues("X-Salt-Jid", out var values))
            {
                foreach (var jid in values)
                {
                    jids.Add(jid);
                }
            }

            Assert.True(r.IsSuccessStatusCode, $"{uri}: {(int)r.StatusCode} {body}");
            return r.StatusCode;
        }

        async Task<HttpStatusCode> Login(Uri baseUri, string password)
        {
            using var r = await http.PostAsync(new Uri(baseUri, "login"), OpsDaemon.Json(new { username = "saltdev", password, eauth = "file" }));
            return r.StatusCode;
        }

        async Task<HttpStatusCode> Get(Uri uri)
        {
            using var r = await http.GetAsync(uri);
            return r.StatusCode;
        }
    }

    [ToolFact("promtool", "prometheus")]
    public async Task Promtool_accepts_the_exposition()
    {
        await using var ops = await OpsDaemon.StartAsync();
        using var http = OpsDaemon.NewClient();
        var token = await OpsDaemon.LoginAsync(http, ops.Daemon.Cherrypy);
        using (var r = await OpsDaemon.PostAsync(http, ops.Daemon.Cherrypy, new[] { new { client = "local", tgt = "*", fun = "test.ping" } }, token))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var text = await ops.ScrapeTextAsync(http);
        var psi = new ProcessStartInfo(ToolFactAttribute.Find("promtool")!, "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var promtool = Process.Start(psi)!;
        await promtool.StandardInput.WriteAsync(text);
        promtool.StandardInput.Close();
        var output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        Assert.True(promtool.ExitCode == 0, $"promtool check metrics: {output}\n{text}");
        Assert.Contains("saltapi_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
    }

    private static double Count(PrometheusText scrape, string module, string route, string client, string status) =>
        scrape.Sum("saltapi_request_duration_seconds_count", ("module", module), ("route", route), ("client", client), ("status", status));
}
