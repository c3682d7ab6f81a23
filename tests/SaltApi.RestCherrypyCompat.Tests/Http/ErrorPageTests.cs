using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.RestCherrypyCompat.Tests.Http;

public class ErrorPageTests
{
    [Theory]
    [InlineData("cp-04-login-wrong-password", 401, "Could not authenticate using provided credentials")]
    [InlineData("cp-20-post-root-no-auth", 401, "No permission -- see authorization schemes")]
    [InlineData("cp-24-post-root-unknown-client", 400, "Invalid client specified: 'foo'")]
    [InlineData("cp-41-post-run-session-id-as-token", 401, "Authentication failure of type \"token\" occurred.")]
    [InlineData("cp-56-get-nosuch", 404, "The path '/nosuch' was not found.")]
    [InlineData("cp-10-get-root-html", 406, "Your client sent this Accept header: text/html. But this resource only emits these media types: application/json, application/x-yaml.")]
    [InlineData("cp-57-options-root", 500, "The server encountered an unexpected condition which prevented it from fulfilling the request.")]
    public void Page_is_CherryPys_byte_for_byte(string transcript, int status, string message)
    {
        var t = Transcript.Load(transcript);
        Assert.Equal(status, t.Status);
        Assert.Equal(t.ExactBody, ErrorPage.Render(status, message));
        Assert.Equal(ErrorPage.ContentType, t.Header("Content-Type"));
    }

    [Fact]
    public void Default_messages_are_CherryPys()
    {
        Assert.Equal("No permission -- see authorization schemes", new HttpError(401).Message);
        Assert.Equal("Specified method is invalid for this resource", new HttpError(405).Message);
        Assert.Equal("Entity is too large", new HttpError(413).Message);
        Assert.Contains("<title>413 Request Entity Too Large</title>", ErrorPage.Render(413, "x"), StringComparison.Ordinal);
    }

    [Fact]
    public void Message_escapes_markup_but_not_quotes()
    {
        var page = ErrorPage.Render(400, "<b>'a' & \"b\"</b>");
        Assert.Contains("<p>&lt;b&gt;'a' &amp; \"b\"&lt;/b&gt;</p>", page, StringComparison.Ordinal);
    }
}
