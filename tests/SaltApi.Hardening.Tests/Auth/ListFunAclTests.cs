using System.Net;
using System.Text;
using System.Text.Json;

namespace SaltApi.Hardening.Tests.Auth;

/// <summary>
/// A list-valued fun (a compound command) through both modules, against the daemon's embedded master
/// configured the Salt way (external_auth file: limited: [test.*]): Salt 3006 runs cmd.run for a user
/// limited to test.* when the list also holds test.ping. Every function of the list must be allowed.
/// </summary>
public sealed class ListFunAclTests(HardeningFixture fixture) : IClassFixture<HardeningFixture>
{
    private const string Limited = ", \"eauth\": \"file\", \"username\": \"limited\", \"password\": \"saltdev\"";

    private static string Chunk(string client, string funs, string args, string creds) => client switch
    {
        "local_batch" => $$"""{"client": "local_batch", "tgt": "ms--0", "fun": {{funs}}, "arg": {{args}}, "batch": "1"{{creds}}}""",
        _ => $$"""{"client": "{{client}}", "tgt": "ms--0", "fun": {{funs}}, "arg": {{args}}{{creds}}}""",
    };

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(Uri uri, string json, string? session = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        if (session is not null)
        {
            request.Headers.Add("X-Auth-Token", session);
        }

        using var response = await fixture.Daemon.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<string> LoginLimitedAsync()
    {
        var (status, body) = await PostAsync(new Uri(fixture.Daemon.Cherrypy, "login"), """{"username": "limited", "password": "saltdev", "eauth": "file"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("return")[0].GetProperty("token").GetString()!;
    }

    public static TheoryData<string, string> Forbidden() => new()
    {
        { "local", """["test.ping", "cmd.run"]""" },
        { "local_async", """["test.ping", "cmd.run"]""" },
        { "local_async", """["saltutil.find_job", "cmd.run"]""" },
        { "local_batch", """["test.ping", "cmd.run"]""" },
        // local_subset is left out: its sys.list_functions publish is refused for this user either way
        // (the client gate's test covers it against a master that accepts everything).
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public async Task Rest_wsgi_refuses_a_list_with_a_forbidden_function(string client, string funs)
    {
        var (status, body) = await PostAsync(fixture.Daemon.Wsgi, $"[{Chunk(client, funs, """[[], ["id"]]""", Limited)}]");
        Assert.True(status == HttpStatusCode.Unauthorized, $"{(int)status} {body}");
        Assert.DoesNotContain("uid=", body, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Forbidden))]
    public async Task Rest_cherrypy_refuses_a_list_with_a_forbidden_function_by_session_run_and_eauth(string client, string funs)
    {
        var token = await LoginLimitedAsync();
        var chunk = Chunk(client, funs, """[[], ["id"]]""", "");
        var (status, body) = await PostAsync(fixture.Daemon.Cherrypy, $"[{chunk}]", token);
        Assert.True(status == HttpStatusCode.Unauthorized, $"session: {(int)status} {body}");

        (status, body) = await PostAsync(new Uri(fixture.Daemon.Cherrypy, "run"), $"[{Chunk(client, funs, """[[], ["id"]]""", $", \"token\": \"{token}\"")}]");
        Assert.True(status == HttpStatusCode.Unauthorized, $"/run token: {(int)status} {body}");

        (status, body) = await PostAsync(new Uri(fixture.Daemon.Cherrypy, "run"), $"[{Chunk(client, funs, """[[], ["id"]]""", Limited)}]");
        Assert.True(status == HttpStatusCode.Unauthorized, $"/run eauth: {(int)status} {body}");
    }

    [Fact]
    public async Task Rest_cherrypy_refuses_a_form_with_a_repeated_fun()
    {
        using var form = new FormUrlEncodedContent(
        [
            new("client", "local"), new("tgt", "ms--0"), new("fun", "test.ping"), new("fun", "cmd.run"), new("arg", "id"),
            new("eauth", "file"), new("username", "limited"), new("password", "saltdev"),
        ]);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(fixture.Daemon.Cherrypy, "run")) { Content = form };
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await fixture.Daemon.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{(int)response.StatusCode} {body}");
    }

    [Fact]
    public async Task A_list_of_allowed_functions_still_runs_on_both_modules()
    {
        var (status, body) = await PostAsync(fixture.Daemon.Wsgi, $"[{Chunk("local", """["test.ping", "test.echo"]""", """[[], ["hello"]]""", Limited)}]");
        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
        Assert.Contains("hello", body, StringComparison.Ordinal);

        var token = await LoginLimitedAsync();
        (status, body) = await PostAsync(fixture.Daemon.Cherrypy, $"[{Chunk("local", """["test.ping", "test.echo"]""", """[[], ["hello"]]""", "")}]", token);
        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
        Assert.Contains("hello", body, StringComparison.Ordinal);

        // A user allowed everything may still send a compound command.
        (status, body) = await PostAsync(fixture.Daemon.Wsgi, $"[{Chunk("local_async", """["test.ping", "cmd.run"]""", """[[], ["id"]]""", ", \"eauth\": \"file\", \"username\": \"saltdev\", \"password\": \"saltdev\"")}]");
        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
        Assert.Contains("\"jid\"", body, StringComparison.Ordinal);
    }
}
