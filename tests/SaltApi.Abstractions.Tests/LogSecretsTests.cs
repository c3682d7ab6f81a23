using SaltApi.Abstractions.Hosting;

namespace SaltApi.Abstractions.Tests;

/// <summary>
/// The one masking of secrets, as each of its users calls it: the access log's request target, a module's
/// request path, and the line guard of the daemon's log and a module's error log.
/// </summary>
public class LogSecretsTests
{
    private const string Token = "91259e1b55a4c0ffee0123456789abcdef0123456789abcdef0123456789440f";

    [Theory]
    [InlineData("/events?token=0123abc", "/events?token=***")]
    [InlineData("/events?salt_token=x&tag=salt/job", "/events?salt_token=***&tag=salt/job")]
    [InlineData("/login?username=u&password=p%20w&eauth=pam", "/login?username=u&password=***&eauth=pam")]
    [InlineData("/login?PASSWD=x", "/login?PASSWD=***")]
    [InlineData("/x?tok%65n=abc", "/x?tok%65n=***")]
    [InlineData("/jobs?session_id=abc", "/jobs?session_id=***")]
    [InlineData("/ws/abcdef", "/ws/***")]
    [InlineData("/ws/abcdef?format_events", "/ws/***?format_events")]
    [InlineData("/api/WS/abcdef/x", "/api/WS/***/x")]
    [InlineData("/w%73/abcdef", "/w%73/***")]
    [InlineData("/all_events/abc", "/all_events/***")]
    [InlineData("/formatted_events/abc", "/formatted_events/***")]
    [InlineData("/ws", "/ws")]
    [InlineData("/ws/", "/ws/")]
    [InlineData("/minions/ms--0", "/minions/ms--0")]
    [InlineData("/jobs/20261201175656123456", "/jobs/20261201175656123456")]
    [InlineData("/nowhere/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/x", "/nowhere/***/x")]
    [InlineData("http://salt.example/app/?token=abc#frag", "http://salt.example/app/?token=***#frag")]
    [InlineData("/app#token=abc", "/app#token=***")]
    public void Secrets_in_a_request_target_are_masked(string target, string masked)
    {
        Assert.Equal(masked, LogSecrets.Target(target));
    }

    // The request path a module names in its own lines (rest_cherrypy's error lines).
    [Theory]
    [InlineData("/ws/" + Token, "/ws/***")]
    [InlineData("/api/ws/" + Token, "/api/ws/***")]
    [InlineData("/all_events/" + Token, "/all_events/***")]
    [InlineData("/formatted_events/" + Token, "/formatted_events/***")]
    [InlineData("/minions/" + Token, "/minions/***")]
    [InlineData("/minions/" + Token + "/x", "/minions/***/x")]
    [InlineData("/jobs/20261201175656123456", "/jobs/20261201175656123456")]
    [InlineData("/keys/ms--0", "/keys/ms--0")]
    [InlineData("/run\r\n[ERROR   ] forged", "/run\\x0d\\x0a[ERROR   ] forged")]
    [InlineData("/hook/a\u0000b\u001b", "/hook/a\\x00b\\x1b")]
    [InlineData("/login?token=abc", "/login?token=***")]
    [InlineData("/", "/")]
    public void Secrets_in_a_request_path_are_masked(string path, string logged) => Assert.Equal(logged, LogSecrets.Path(path));

    [Theory]
    [InlineData("Request starting HTTP/1.1 GET http://127.0.0.1:8000/events?token=" + Token + " - - -", "Request starting HTTP/1.1 GET http://127.0.0.1:8000/events?token=*** - - -")]
    [InlineData("GET /events?salt_token=" + Token + "&x=1", "GET /events?salt_token=***&x=1")]
    [InlineData("Request starting HTTP/1.1 GET http://127.0.0.1:8000/ws/" + Token + "?format_events", "Request starting HTTP/1.1 GET http://127.0.0.1:8000/ws/***?format_events")]
    [InlineData("Cookie: session_id=" + Token, "Cookie: ***")]
    [InlineData("session_id=" + Token + "; other=1", "session_id=***; other=1")]
    [InlineData("X-Auth-Token: " + Token, "X-Auth-Token: ***")]
    [InlineData("username=saltdev&password=hunter2&eauth=pam", "username=saltdev&password=***&eauth=pam")]
    [InlineData("Request starting HTTP/1.1 GET http://127.0.0.1:8002/all_events/" + Token, "Request starting HTTP/1.1 GET http://127.0.0.1:8002/all_events/***")]
    [InlineData("GET /formatted_events/" + Token + " 101", "GET /formatted_events/*** 101")]
    [InlineData("GET /WS/" + Token, "GET /WS/***")]
    [InlineData("/ws/0123abcd failed with token=s3cr3t", "/ws/*** failed with token=***")]
    [InlineData("authorization: Basic c2FsdDpzYWx0", "authorization: ***")]
    public void Secrets_in_a_line_are_replaced(string line, string expected) => Assert.Equal(expected, LogSecrets.Line(line));

    [Theory]
    [InlineData("rest_cherrypy listening on http://0.0.0.0:8000")]
    [InlineData("Starting netapi module 'rest_wsgi' (RestWsgi 1.0.0)")]
    [InlineData("GET /ws/*** 200 3 ms")]
    [InlineData("GET /jobs/20261201175656123456 200")]
    public void Other_lines_are_untouched(string line) => Assert.Equal(line, LogSecrets.Line(line));

    [Theory]
    [InlineData("could not fire event salt/netapi/hook/a\r\n[ERROR   ] forged", "could not fire event salt/netapi/hook/a\\r\\n[ERROR   ] forged")]
    [InlineData("minion a\nb", "minion a\\nb")]
    public void Line_breaks_in_a_message_never_start_a_new_log_line(string line, string expected) => Assert.Equal(expected, LogSecrets.Line(line));

    [Fact]
    public void An_exception_trace_keeps_its_lines_and_loses_its_secrets()
    {
        var trace = "System.InvalidOperationException: boom at /ws/0123abcd\n   at Handler with token=s3cr3t";
        Assert.Equal("System.InvalidOperationException: boom at /ws/***\n   at Handler with token=***", LogSecrets.Text(trace));
    }
}
