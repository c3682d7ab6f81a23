using System.Net;
using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Testing;

namespace SaltApi.RestTornadoCompat.Tests.EndToEnd;

/// <summary><c>/events</c> and <c>/hook</c> of rest_tornado against the real daemon and its master's event bus.</summary>
public sealed class EventsEndToEndTests(TornadoDaemonFixture fixture) : IClassFixture<TornadoDaemonFixture>, IDisposable
{
    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = fixture.Tornado, Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => http.Dispose();

    private async Task<string> LoginAsync()
    {
        using var resp = await http.PostAsync("login", new StringContent($"username=saltdev&password={Daemon.Password}&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded"));
        var body = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.IsSuccessStatusCode, body);
        var ret = (List<object?>)((OrderedDictionary<string, object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(body))!)["return"]!;
        return (string)((OrderedDictionary<string, object?>)ret[0]!)["token"]!;
    }

    private async Task<string> PostAsync(string path, string json, string token)
    {
        using var r = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        r.Headers.Add("X-Auth-Token", token);
        using var resp = await http.SendAsync(r);
        var body = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.StatusCode == HttpStatusCode.OK, body);
        return body;
    }

    /// <summary>Reads SSE records until one has a tag matching <paramref name="want"/>; returns its data line.</summary>
    private static async Task<string> ReadUntilAsync(StreamReader reader, Func<string, bool> want)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string? tag = null;
        while (await reader.ReadLineAsync(limit.Token) is { } line)
        {
            if (line.StartsWith("tag: ", StringComparison.Ordinal))
            {
                tag = line[5..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && tag is not null && want(tag))
            {
                return line[6..];
            }
        }

        throw new InvalidOperationException("stream ended");
    }

    [Fact]
    public async Task Events_carry_a_job_and_a_hook_from_the_master_bus()
    {
        var token = await LoginAsync();
        using var r = new HttpRequestMessage(HttpMethod.Get, "events");
        r.Headers.Add("Cookie", $"session_id={token}");
        using var resp = await http.SendAsync(r, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("text/event-stream", resp.Content.Headers.ContentType!.ToString());
        using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync());
        Assert.Equal("retry: 400", await reader.ReadLineAsync());

        // The subscription starts before the first write: a job started now is on the stream.
        var started = await PostAsync("minions", "{\"tgt\": \"ms--2\", \"fun\": \"test.ping\"}", token);
        var jid = (string)((OrderedDictionary<string, object?>)((List<object?>)((OrderedDictionary<string, object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(started))!)["return"]!)[0]!)["jid"]!;
        var ret = await ReadUntilAsync(reader, t => t == $"salt/job/{jid}/ret/ms--2");
        var ev = (OrderedDictionary<string, object?>)SaltJson.Parse(Encoding.UTF8.GetBytes(ret))!;
        Assert.Equal(["data", "tag"], ev.Keys);
        Assert.Equal(true, ((OrderedDictionary<string, object?>)ev["data"]!)["return"]);

        Assert.Equal("{\"success\": true}", await PostAsync("hook/ci/build", "{\"ok\": true}", token));
        var hook = await ReadUntilAsync(reader, t => t == "salt/netapi/hook/ci/build");
        Assert.Contains("\"post\": {\"ok\": true}", hook, StringComparison.Ordinal);
        Assert.DoesNotContain(token, hook, StringComparison.Ordinal);
        Assert.DoesNotContain(token, fixture.Daemon.Output, StringComparison.Ordinal);
    }
}
