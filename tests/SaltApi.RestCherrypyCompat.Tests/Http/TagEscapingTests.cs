using SaltApi.Abstractions.Events;
using SaltApi.RestCherrypyCompat.Tests.Events;

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
        var text = SseText.Written(new SaltEvent(tag, new Dictionary<string, object?>()));
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
        Assert.Equal("tag: a\\\\nb\\nc\n", SseText.Written(new SaltEvent("a\\nb\nc", new Dictionary<string, object?>())).Split("data:")[0]);
        Assert.Equal("tag: salt/job/1/ret/ms--0\n", SseText.Written(new SaltEvent("salt/job/1/ret/ms--0", new Dictionary<string, object?>())).Split("data:")[0]);
    }
}
