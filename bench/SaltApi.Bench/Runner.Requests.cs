using System.Diagnostics;
using System.Text;

namespace SaltApi.Bench;

/// <summary>The requests the scenarios send: a wrk row with the daemon's CPU, the loads, and a single probe.</summary>
internal sealed partial class Runner
{
    private async Task<WrkResult> HttpRowAsync(string name, int c, HttpLoad load, BenchDaemon d, string note = "")
    {
        var cpu = d.Proc.CpuTime();
        var sw = Stopwatch.StartNew();
        var (r, total) = await Wrk.MeasureAsync(load, c, s);
        var used = d.Proc.CpuTime() - cpu;
        var cores = used.TotalSeconds / sw.Elapsed.TotalSeconds;
        daemonRequests += total;
        double? ratio = ceiling.TryGetValue(c, out var ceil) ? r.Rps / ceil : null;
        var cpuPerRequest = total > 0 ? used.TotalMicroseconds / total : 0;
        note = (note.Length > 0 ? note + "; " : "") + $"daemon CPU {cores:0.00} cores, {cpuPerRequest:0} µs/request" + (r.ErrorKinds.Length > 0 ? $"; errors: {r.ErrorKinds}" : "");
        if (r.Requests == 0)
        {
            note += "; no request completed within the runs";
            table.Add(new Row(name, C(c), 0, null, null, r.Errors, d.Proc.Memory().RssMb, ratio, note));
            return r;
        }

        table.Add(new Row(name, C(c), r.Rps, r.P50, r.P99, r.Errors, d.Proc.Memory().RssMb, ratio, note));
        return r;
    }

    /// <summary>rest_cherrypy <c>POST /</c> local_async test.ping with a session token.</summary>
    private static HttpLoad CherrypyAsync(BenchDaemon d, string token) =>
        new HttpLoad(d.Cherrypy, "[{\"client\": \"local_async\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]", [Json, AcceptJson, "X-Auth-Token: " + token]);

    private static string LowstateWsgi(string client) =>
        $"[{{\"client\": \"{client}\", \"tgt\": \"*\", \"fun\": \"test.ping\", {Eauth}}}]";

    private static async Task<(int Status, string Body)> ProbeAsync(string url, string body, IEnumerable<string>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Accept.ParseAdd("application/json");
        foreach (var h in headers ?? [])
        {
            var (k, v) = (h[..h.IndexOf(':', StringComparison.Ordinal)], h[(h.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
            if (!k.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && !k.Equals("Accept", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.TryAddWithoutValidation(k, v);
            }
        }

        using var response = await Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
