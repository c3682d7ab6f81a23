using SaltApi.Abstractions.Events;
using SaltApi.Plugins.RestCherrypyCompat.Events;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.RestCherrypyCompat.Tests.Http;

/// <summary>Tags with CR/LF (any minion can fire one) never forge lines in an /events stream.</summary>
public class TagEscapingTests
{
    [Theory]
    [InlineData("a\r\ndata: {\"tag\": \"forged\"}\r\n\r\ntag: forged")]
    [InlineData("a\ndata: forged\n\n")]
    [InlineData("a\rdata: forged\r\r")]
    [InlineData("a\0b")]
    public void A_tag_with_line_breaks_stays_on_its_line(string tag)
    {
        var text = Sse.Format(new SaltEvent(tag, new Dictionary<string, object?>()));
        var lines = text.Split('\n');
        Assert.Equal(4, lines.Length); // tag line, data line, blank line, "" after the last \n
        Assert.StartsWith("tag: a", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain('\r', text);
        Assert.DoesNotContain('\0', text);
        Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
        Assert.Equal(["", ""], lines[2..]);
    }

    [Fact]
    public void Escapes_are_unambiguous_and_plain_tags_unchanged()
    {
        Assert.Equal("tag: a\\\\nb\\nc\n", Sse.Format(new SaltEvent("a\\nb\nc", new Dictionary<string, object?>())).Split("data:")[0]);
        Assert.Equal("tag: salt/job/1/ret/ms--0\n", Sse.Format(new SaltEvent("salt/job/1/ret/ms--0", new Dictionary<string, object?>())).Split("data:")[0]);
    }

    [Theory]
    [InlineData("X-Auth-Token", true)]
    [InlineData("x-auth-token", true)]
    [InlineData("Authorization", true)]
    [InlineData("Proxy-Authorization", true)]
    [InlineData("Cookie", true)]
    [InlineData("X-Gitlab-Token", true)]
    [InlineData("X-Api-Key", true)]
    [InlineData("X-Session-Id", true)]
    [InlineData("Remote-Addr", true)]
    [InlineData("Content-Type", false)]
    [InlineData("User-Agent", false)]
    [InlineData("X-Hub-Signature-256", false)]
    [InlineData("X-Github-Event", false)]
    public void Hook_events_leave_out_credential_headers(string name, bool credential) =>
        Assert.Equal(credential, HookHeaders.IsCredential(name));
}
