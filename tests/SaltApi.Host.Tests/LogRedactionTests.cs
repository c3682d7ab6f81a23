using SaltApi.Host.Logging;

namespace SaltApi.Host.Tests;

public class LogRedactionTests
{
    private const string Token = "91259e1b55a4c0ffee0123456789abcdef0123456789abcdef0123456789440f";

    [Theory]
    [InlineData("Request starting HTTP/1.1 GET http://127.0.0.1:8000/events?token=" + Token + " - - -", "Request starting HTTP/1.1 GET http://127.0.0.1:8000/events?token=*** - - -")]
    [InlineData("GET /events?salt_token=" + Token + "&x=1", "GET /events?salt_token=***&x=1")]
    [InlineData("Request starting HTTP/1.1 GET http://127.0.0.1:8000/ws/" + Token + "?format_events", "Request starting HTTP/1.1 GET http://127.0.0.1:8000/ws/***?format_events")]
    [InlineData("Cookie: session_id=" + Token, "Cookie: ***")]
    [InlineData("session_id=" + Token + "; other=1", "session_id=***; other=1")]
    [InlineData("X-Auth-Token: " + Token, "X-Auth-Token: ***")]
    [InlineData("username=saltdev&password=hunter2&eauth=pam", "username=saltdev&password=***&eauth=pam")]
    public void Secrets_are_replaced(string line, string expected) => Assert.Equal(expected, LogRedactor.Redact(line));

    [Theory]
    [InlineData("rest_cherrypy listening on http://0.0.0.0:8000")]
    [InlineData("Starting netapi module 'rest_wsgi' (RestWsgi 1.0.0)")]
    [InlineData("GET /ws/*** 200 3 ms")]
    public void Other_lines_are_untouched(string line) => Assert.Equal(line, LogRedactor.Redact(line));

    [Theory]
    [InlineData("could not fire event salt/netapi/hook/a\r\n[ERROR   ] forged", "could not fire event salt/netapi/hook/a\\r\\n[ERROR   ] forged")]
    [InlineData("minion a\nb", "minion a\\nb")]
    public void Line_breaks_in_a_message_never_start_a_new_log_line(string line, string expected) => Assert.Equal(expected, LogRedactor.Redact(line));
}
