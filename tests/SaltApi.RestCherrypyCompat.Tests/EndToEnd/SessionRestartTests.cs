using System.Net;
using System.Text;
using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests.EndToEnd;

/// <summary>Sessions are Salt tokens: they survive a restart of the daemon (Salt #42622).</summary>
public class SessionRestartTests
{
    [Fact]
    public async Task A_session_survives_a_daemon_restart()
    {
        await using var first = await Daemon.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(60) };
        using var login = await http.PostAsync(new Uri(first.Cherrypy, "login"), new StringContent("username=saltdev&password=saltdev&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = login.Headers.GetValues("X-Auth-Token").Single();

        first.Signal();
        Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(20)), first.Output);
        await using var second = await Daemon.LaunchAsync(first.Dir, first.Dir, ["-c", first.Dir, "-l", "info"], first.WsgiPort, first.CherrypyPort, first.RetPort, [first.CherrypyPort]);

        using var req = new HttpRequestMessage(HttpMethod.Get, new Uri(second.Cherrypy, "minions/ms--1"));
        req.Headers.Add("Cookie", $"session_id={token}");
        using var resp = await http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.StartsWith("{\"return\": [{\"ms--1\": {", await resp.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var bad = new HttpRequestMessage(HttpMethod.Get, new Uri(second.Cherrypy, "minions"));
        // Another token of the same shape (one differing hex digit; "00" + the rest equals the token 1 time in 256).
        bad.Headers.Add("X-Auth-Token", (token[0] == '0' ? "1" : "0") + token[1..]);
        using var refused = await http.SendAsync(bad);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
