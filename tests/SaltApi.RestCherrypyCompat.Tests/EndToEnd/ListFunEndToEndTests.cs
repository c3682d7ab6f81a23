using System.Net;
using System.Text;
using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests.EndToEnd;

/// <summary>
/// A list-valued fun (compound command) through the daemon and its embedded master: every function must be allowed
/// (Salt 3006's master lets the list through when one is), and a user allowed everything runs it.
/// </summary>
public sealed class ListFunEndToEndTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>, IDisposable
{
    private readonly HttpClient http = new(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = fixture.Daemon.Cherrypy, Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => http.Dispose();

    private async Task<(HttpStatusCode Status, string Body)> RunAsync(string user)
    {
        var body = $$"""[{"client": "local", "tgt": "ms--0", "fun": ["test.ping", "cmd.run"], "arg": [[], ["echo hi"]], "username": "{{user}}", "password": "{{Daemon.Password}}", "eauth": "file"}]""";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var r = new HttpRequestMessage(HttpMethod.Post, "run") { Content = content };
        r.Headers.Add("Accept", "application/json");
        using var resp = await http.SendAsync(r);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_test_user_s_list_with_cmd_run_is_401_and_an_everything_user_s_list_runs()
    {
        var (status, body) = await RunAsync("limited");
        Assert.True(status == HttpStatusCode.Unauthorized, $"{status} {body}");

        (status, body) = await RunAsync("saltdev");
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}\n{fixture.Daemon.Output}");
        Assert.Contains("\"ms--0\"", body, StringComparison.Ordinal);
        Assert.Contains("\"test.ping\": true", body, StringComparison.Ordinal);
    }
}
