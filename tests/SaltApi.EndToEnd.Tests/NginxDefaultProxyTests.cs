using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests;

/// <summary>
/// Behind nginx's smallest config (<c>proxy_pass</c> alone, so HTTP/1.0 to the daemon), a POST without a
/// body, as <c>curl -X POST</c> sends it (no Content-Length), reaches every module as an empty body, as
/// CherryPy and Tornado read it, and gets the answer the same request gets directly.
/// </summary>
public sealed class NginxDefaultProxyTests
{
    [NginxFact]
    public async Task A_post_without_a_body_through_nginxs_default_proxy_is_answered_as_directly()
    {
        var tornado = FreePort.Next();
        await using var daemon = await Daemon.StartAsync(extraYaml: $"rest_tornado:\n  port: {tornado}\n  address: 127.0.0.1\n  disable_ssl: true\n");
        await daemon.WaitForPortAsync(tornado, TimeSpan.FromSeconds(60));
        var (nginx, ports) = await Nginx.StartMinimalAsync(daemon.CherrypyPort, daemon.WsgiPort, tornado);
        await using var _ = nginx;
        var (viaCherrypy, viaWsgi, viaTornado) = (ports[0], ports[1], ports[2]);
        var token = await LoginAsync(daemon);

        foreach (var (direct, proxied, path, sameBody) in new[]
        {
            (daemon.CherrypyPort, viaCherrypy, "/", true),
            (daemon.CherrypyPort, viaCherrypy, "/minions", false),
            (daemon.CherrypyPort, viaCherrypy, "/hook", true),
            (daemon.CherrypyPort, viaCherrypy, "/hook/gitlab", true),
            (daemon.WsgiPort, viaWsgi, "/", true),
            (tornado, viaTornado, "/", true),
            (tornado, viaTornado, "/minions", false),
            (tornado, viaTornado, "/hook", true),
        })
        {
            var expected = await PostWithoutBodyAsync(direct, path, token);
            var actual = await PostWithoutBodyAsync(proxied, path, token);
            Assert.True(expected.Status == actual.Status, $"{path} on :{direct}: {expected.Status} directly, {actual.Status} through nginx ({actual.Body}) {nginx.ErrorLog}");
            Assert.NotEqual(411, actual.Status);
            if (sameBody)
            {
                Assert.Equal(expected.Body, actual.Body);
            }
        }

        // The documented logout of rest_cherrypy: 200 and the token is gone.
        var logout = await PostWithoutBodyAsync(viaCherrypy, "/logout", token);
        Assert.Equal(200, logout.Status);
        Assert.Contains("Your token has been cleared", logout.Body, StringComparison.Ordinal);
        var after = await PostWithoutBodyAsync(daemon.CherrypyPort, "/minions", token);
        Assert.Equal(401, after.Status);
    }

    private static async Task<string> LoginAsync(Daemon daemon)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "saltdev", ["password"] = Daemon.Password, ["eauth"] = "file" });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(daemon.Cherrypy, "login")) { Content = content };
        request.Headers.Add("Accept", "application/json");
        using var response = await daemon.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("return")[0].GetProperty("token").GetString()!;
    }

    // What `curl -X POST -H 'X-Auth-Token: …' http://host/path` sends: HTTP/1.1, no Content-Length, no body.
    private static async Task<(int Status, string Body)> PostWithoutBodyAsync(int port, string path, string token)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        var head = $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: curl/7.88.1\r\nAccept: application/json\r\nX-Auth-Token: {token}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var all = new MemoryStream();
        await stream.CopyToAsync(all, cts.Token);
        var text = Encoding.UTF8.GetString(all.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, $"no response head from :{port}{path}: '{text}'");
        var headers = text[..split];
        var body = text[(split + 4)..];
        if (headers.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Dechunk(body);
        }

        return (int.Parse(headers.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture), body);
    }

    private static string Dechunk(string chunked)
    {
        var result = new StringBuilder();
        var at = 0;
        while (true)
        {
            var eol = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(chunked[at..eol].Split(';')[0], 16);
            if (size == 0)
            {
                return result.ToString();
            }

            result.Append(chunked, eol + 2, size);
            at = eol + 2 + size + 2;
        }
    }
}
