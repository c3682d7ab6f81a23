using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests.EndToEnd;

/// <summary>
/// rest_cherrypy's gzip tool against the real daemon: JSON, YAML and error pages are gzipped when the
/// client asks; event streams, WebSockets and answers carrying a token never are.
/// </summary>
public sealed class GzipTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>, IDisposable
{
    // No automatic decompression: the test sees the bytes on the wire.
    private readonly HttpClient raw = new(new SocketsHttpHandler { UseCookies = false, AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = fixture.Daemon.Cherrypy, Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => raw.Dispose();

    private static HttpRequestMessage Req(HttpMethod method, string path, string accept = "application/json", bool gzip = true, string? token = null, HttpContent? body = null)
    {
        var r = new HttpRequestMessage(method, path) { Content = body };
        r.Headers.Add("Accept", accept);
        if (gzip)
        {
            r.Headers.Add("Accept-Encoding", "gzip, deflate, br");
        }

        if (token is not null)
        {
            r.Headers.Add("X-Auth-Token", token);
        }

        return r;
    }

    private static string Gunzip(byte[] bytes)
    {
        using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private async Task<string> LoginAsync()
    {
        using var resp = await raw.SendAsync(Req(HttpMethod.Post, "login", gzip: false, body: new StringContent($"username=saltdev&password={Daemon.Password}&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded")));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        return resp.Headers.GetValues("X-Auth-Token").Single();
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/x-yaml")]
    public async Task An_answer_is_gzipped_when_asked_and_decodes_to_the_plain_answer(string accept)
    {
        using var plain = await raw.SendAsync(Req(HttpMethod.Get, "/", accept, gzip: false));
        var plainBody = await plain.Content.ReadAsStringAsync();
        Assert.Empty(plain.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", plain.Headers.Vary);

        using var zipped = await raw.SendAsync(Req(HttpMethod.Get, "/", accept));
        Assert.Equal(HttpStatusCode.OK, zipped.StatusCode);
        Assert.Equal(["gzip"], zipped.Content.Headers.ContentEncoding);
        Assert.Equal(["Accept-Encoding"], zipped.Headers.Vary);
        Assert.Equal(accept, zipped.Content.Headers.ContentType!.MediaType);
        var bytes = await zipped.Content.ReadAsByteArrayAsync();
        Assert.Equal([0x1f, 0x8b], bytes[..2]);
        Assert.Equal(plainBody, Gunzip(bytes));
    }

    [Fact]
    public async Task A_client_with_automatic_decompression_runs_a_job()
    {
        var token = await LoginAsync();
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AutomaticDecompression = DecompressionMethods.GZip }) { BaseAddress = fixture.Daemon.Cherrypy };
        using var r = Req(HttpMethod.Post, "/", gzip: false, token: token, body: new StringContent("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]", Encoding.UTF8, "application/json"));
        using var resp = await http.SendAsync(r);
        var body = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("gzip", Assert.Single(r.Headers.AcceptEncoding).Value);
        Assert.Equal("{\"return\": [{\"ms--0\": true, \"ms--1\": true, \"ms--2\": true, \"ms--3\": true, \"ms--4\": true}]}", Sorted(body));
    }

    // The minions answer in any order.
    private static string Sorted(string body)
    {
        var ids = System.Text.RegularExpressions.Regex.Matches(body, "\"(ms--\\d)\": true").Select(m => m.Groups[1].Value).Order();
        return "{\"return\": [{" + string.Join(", ", ids.Select(i => $"\"{i}\": true")) + "}]}";
    }

    [Fact]
    public async Task An_error_page_is_gzipped_as_cherrypy_does()
    {
        using var resp = await raw.SendAsync(Req(HttpMethod.Post, "login", body: new StringContent("username=saltdev&password=wrong&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded")));
        Assert.Equal(HttpStatusCode.Unauthorized, resp.StatusCode);
        Assert.Equal(["gzip"], resp.Content.Headers.ContentEncoding);
        Assert.Contains("<p>Could not authenticate using provided credentials</p>", Gunzip(await resp.Content.ReadAsByteArrayAsync()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Answers_that_carry_a_token_are_never_compressed()
    {
        using var login = await raw.SendAsync(Req(HttpMethod.Post, "login", body: new StringContent($"username=saltdev&password={Daemon.Password}&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded")));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Empty(login.Content.Headers.ContentEncoding);
        var token = login.Headers.GetValues("X-Auth-Token").Single();
        Assert.Contains($"\"token\": \"{token}\"", await login.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var minted = await raw.SendAsync(Req(HttpMethod.Post, "token", body: new StringContent($"[{{\"username\": \"saltdev\", \"password\": \"{Daemon.Password}\", \"eauth\": \"file\"}}]", Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.OK, minted.StatusCode);
        Assert.Empty(minted.Content.Headers.ContentEncoding);
        Assert.Contains("\"token\": \"", await minted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_are_never_compressed_and_still_stream()
    {
        var token = await LoginAsync();
        using var r = Req(HttpMethod.Get, $"events?token={token}", accept: "text/event-stream");
        using var resp = await raw.SendAsync(r, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Empty(resp.Content.Headers.ContentEncoding);
        Assert.Equal("text/event-stream", resp.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Assert.Equal("retry: 400", await reader.ReadLineAsync(cts.Token));

        // The stream stays open: each event must arrive while it does, not when it ends.
        using var job = await raw.SendAsync(Req(HttpMethod.Post, "/", gzip: false, token: token, body: new StringContent("[{\"client\": \"local_async\", \"tgt\": \"ms--0\", \"fun\": \"test.ping\"}]", Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.OK, job.StatusCode);
        string? line;
        do
        {
            line = await reader.ReadLineAsync(cts.Token);
            Assert.NotNull(line);
        }
        while (!(line.StartsWith("tag: salt/job/", StringComparison.Ordinal) && line.EndsWith("/ret/ms--0", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_websocket_asking_for_gzip_still_upgrades_and_talks()
    {
        var token = await LoginAsync();
        using var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Accept-Encoding", "gzip");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.Daemon.CherrypyPort}/ws/{token}"), cts.Token);
        await ws.SendAsync("websocket client ready"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
        var buffer = new byte[64 * 1024];
        var got = await ws.ReceiveAsync(buffer, cts.Token);
        Assert.Equal("server received message", Encoding.UTF8.GetString(buffer, 0, got.Count));
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
    }

    [Fact]
    public async Task Rest_wsgi_compresses_nothing_as_wsgiref()
    {
        using var r = new HttpRequestMessage(HttpMethod.Post, fixture.Daemon.Wsgi)
        {
            Content = new StringContent($"[{{\"client\": \"local\", \"tgt\": \"ms--0\", \"fun\": \"test.ping\", \"eauth\": \"file\", \"username\": \"saltdev\", \"password\": \"{Daemon.Password}\"}}]", Encoding.UTF8, "application/json"),
        };
        r.Headers.Add("Accept-Encoding", "gzip");
        using var resp = await raw.SendAsync(r);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Empty(resp.Content.Headers.ContentEncoding);
        Assert.Equal("{\"return\": [{\"ms--0\": true}]}", await resp.Content.ReadAsStringAsync());
    }

    [ToolFact("curl", "curl")]
    public async Task Curl_compressed_gets_gzip_and_decodes_it()
    {
        var psi = new ProcessStartInfo("curl", ["-sS", "--compressed", "-D", "-", "-H", "Accept: application/json", fixture.Daemon.Cherrypy.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var curl = Process.Start(psi)!;
        var output = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync();
        Assert.True(curl.ExitCode == 0, await curl.StandardError.ReadToEndAsync());
        var (head, body) = (output[..output.IndexOf("\r\n\r\n", StringComparison.Ordinal)], output[(output.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
        Assert.Contains("Content-Encoding: gzip", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Vary: Accept-Encoding", head, StringComparison.OrdinalIgnoreCase);
        using var plain = await raw.SendAsync(Req(HttpMethod.Get, "/", gzip: false));
        Assert.Equal(await plain.Content.ReadAsStringAsync(), body);
    }
}
