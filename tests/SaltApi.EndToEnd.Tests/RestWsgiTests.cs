using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SaltApi.Testing;

namespace SaltApi.EndToEnd.Tests;

/// <summary>rest_wsgi over HTTP against the real daemon and the embedded master (spec/04, reference/rest_wsgi).</summary>
public partial class RestWsgiTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    private static readonly string[] Minions = ["ms--0", "ms--1", "ms--2", "ms--3", "ms--4"];

    private Daemon D => fixture.Daemon;

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> PostAsync(string body, string contentType = "application/json", string path = "/")
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var response = await D.Http.PostAsync(new Uri(D.Wsgi, path), content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), response.Content.Headers.ContentLength);
        return (response.StatusCode, text, response);
    }

    private static string Eauth(string client, string extra, string user = "saltdev", string password = Daemon.Password) =>
        $$"""[{"eauth": "file", "username": "{{user}}", "password": "{{password}}", "client": "{{client}}", {{extra}}}]""";

    [Fact]
    public async Task Doc_example_local_test_ping_returns_every_minion()
    {
        var (status, body, _) = await PostAsync(Eauth("local", "\"tgt\": \"*\", \"fun\": \"test.ping\""));
        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = JsonDocument.Parse(body);
        var ret = Assert.Single(doc.RootElement.GetProperty("return").EnumerateArray());
        Assert.Equal(Minions, ret.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.All(ret.EnumerateObject(), p => Assert.Equal(JsonValueKind.True, p.Value.ValueKind));
        Assert.StartsWith("{\"return\": [{\"ms--", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doc_examples_local_async_then_runner_lookup_jid()
    {
        var (status, body, _) = await PostAsync(Eauth("local_async", "\"tgt\": \"*\", \"fun\": \"test.ping\""));
        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = JsonDocument.Parse(body);
        var ret = Assert.Single(doc.RootElement.GetProperty("return").EnumerateArray());
        var jid = ret.GetProperty("jid").GetString()!;
        Assert.Matches(JidPattern(), jid);
        Assert.Equal(Minions, ret.GetProperty("minions").EnumerateArray().Select(m => m.GetString()).Order(StringComparer.Ordinal));

        // The returns land in the job cache as the minions answer; ask until all five are there.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var (s2, b2, _) = await PostAsync(Eauth("runner", $"\"fun\": \"jobs.lookup_jid\", \"jid\": \"{jid}\""));
            Assert.Equal(HttpStatusCode.OK, s2);
            using var lookup = JsonDocument.Parse(b2);
            var result = Assert.Single(lookup.RootElement.GetProperty("return").EnumerateArray());
            if (result.ValueKind == JsonValueKind.Object && result.EnumerateObject().Count() == Minions.Length)
            {
                Assert.All(result.EnumerateObject(), p => Assert.Equal(JsonValueKind.True, p.Value.ValueKind));
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, b2);
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Wrong_password_is_401()
    {
        var (status, body, _) = await PostAsync(Eauth("local", "\"tgt\": \"*\", \"fun\": \"test.ping\"", password: "wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("{\"return\": \"Authentication error occurred.\"}", body);
    }

    [Fact]
    public async Task Wrong_password_on_a_runner_is_401_with_salts_message()
    {
        var (status, body, _) = await PostAsync(Eauth("runner", "\"fun\": \"test.arg\"", password: "wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("{\"return\": \"Authentication failure of type \\\"eauth\\\" occurred for user saltdev.\"}", body);
    }

    [Fact]
    public async Task Restricted_user_gets_401_for_cmd_run_and_200_for_test_ping()
    {
        var (denied, body, _) = await PostAsync(Eauth("local", "\"tgt\": \"*\", \"fun\": \"cmd.run\", \"arg\": [\"id\"]", user: "limited"));
        Assert.Equal(HttpStatusCode.Unauthorized, denied);
        Assert.Equal("{\"return\": \"Authorization error occurred.\"}", body);
        var (allowed, _, _) = await PostAsync(Eauth("local", "\"tgt\": \"ms--0\", \"fun\": \"test.ping\"", user: "limited"));
        Assert.Equal(HttpStatusCode.OK, allowed);
    }

    [Fact]
    public async Task No_credentials_is_401()
    {
        var (status, body, _) = await PostAsync("[{\"client\": \"local\", \"tgt\": \"*\", \"fun\": \"test.ping\"}]");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("{\"return\": \"No authentication credentials given\"}", body);
    }

    [Theory]
    [InlineData("foo", "Invalid client specified: 'foo'")]
    [InlineData("ssh", "Client disabled: 'ssh'. Add to 'netapi_enable_clients' master config option to enable.")]
    public async Task Unknown_or_disabled_client_is_400(string client, string message)
    {
        var (status, body, _) = await PostAsync(Eauth(client, "\"tgt\": \"*\", \"fun\": \"test.ping\""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal($"{{\"return\": \"{message}\"}}", body);
    }

    [Fact]
    public async Task Malformed_json_is_400_with_pythons_message()
    {
        var (status, body, _) = await PostAsync("[{\"client\": \"local\", \"tgt\": \"*\",");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("{\"return\": \"400: Expecting property name enclosed in double quotes: line 1 column 33 (char 32)\"}", body);
    }

    [Theory]
    [InlineData("{\"client\": \"local\"}")]
    [InlineData("42")]
    [InlineData("[\"local\"]")]
    public async Task A_body_that_is_not_a_list_of_objects_is_400(string json)
    {
        var (status, body, _) = await PostAsync(json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("{\"return\": \"400: ", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/plain")]
    public async Task Other_content_types_are_406(string type)
    {
        var (status, body, _) = await PostAsync("[]", type);
        Assert.Equal(HttpStatusCode.NotAcceptable, status);
        Assert.Equal("{\"return\": \"406: JSON required\"}", body);
    }

    [Fact]
    public async Task Json_with_a_charset_parameter_is_accepted()
    {
        var (status, body, _) = await PostAsync("[]", "application/json; charset=utf-8");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{\"return\": []}", body);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Other_methods_are_405(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), D.Wsgi) { Content = new StringContent("[]", Encoding.UTF8, "application/json") };
        using var response = await D.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("{\"return\": \"405: Method Not Allowed\"}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_on_any_path_answers_the_quote_as_characters()
    {
        var body = await D.Http.GetStringAsync(new Uri(D.Wsgi, "/foo/bar"));
        using var doc = JsonDocument.Parse(body);
        var text = string.Concat(doc.RootElement.GetProperty("return").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("They found me. I don't know how, but they found me. Run for it, Marty!", text);
    }

    [Fact]
    public async Task Non_ascii_returns_have_a_byte_content_length_and_two_chunks_run_in_order()
    {
        var lowstate = """
            [{"eauth": "file", "username": "saltdev", "password": "saltdev", "client": "local", "tgt": "ms--0", "fun": "test.echo", "arg": ["héllo ☃"]},
             {"eauth": "file", "username": "saltdev", "password": "saltdev", "client": "runner", "fun": "test.arg", "arg": ["x"], "kwarg": {"y": 1}}]
            """;
        var (status, body, _) = await PostAsync(lowstate, path: "/minions");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{\"return\": [{\"ms--0\": \"héllo ☃\"}, {\"args\": [\"x\"], \"kwargs\": {\"y\": 1}}]}", body);
    }

    [Fact]
    public async Task Tgt_matching_nothing_returns_an_empty_map()
    {
        var (status, body, _) = await PostAsync(Eauth("local", "\"tgt\": \"nosuchminion\", \"fun\": \"test.ping\""));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("{\"return\": [{}]}", body);
    }

    [GeneratedRegex("^[0-9]{20}$")]
    private static partial Regex JidPattern();
}
