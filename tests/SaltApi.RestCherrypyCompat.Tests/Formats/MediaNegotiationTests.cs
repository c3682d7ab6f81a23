using SaltApi.Plugins.RestCherrypyCompat.Formats;

namespace SaltApi.RestCherrypyCompat.Tests.Formats;

public class MediaNegotiationTests
{
    [Theory]
    [InlineData(null, 0)]
    [InlineData("", 0)]
    [InlineData("*/*", 0)]
    [InlineData("application/json", 0)]
    [InlineData("application/x-yaml", 1)]
    [InlineData("application/*", 0)]
    [InlineData("application/x-yaml;q=0.9, application/json;q=0.5", 1)]
    [InlineData("application/json;q=0.1, application/x-yaml", 1)]
    [InlineData("text/html, application/xhtml+xml, */*;q=0.8", 0)]
    [InlineData("application/json, text/javascript, */*; q=0.01", 0)]
    public void Chooses_as_CherryPy_accept(string? accept, int expected) =>
        Assert.Equal((OutputFormat)expected, MediaNegotiation.Choose(accept));

    [Theory]
    [InlineData("text/html")]
    [InlineData("application/ms-word")]
    [InlineData("application/json;q=0")]
    public void Nothing_acceptable_is_null(string accept) => Assert.Null(MediaNegotiation.Choose(accept));

    [Fact]
    public void Not_acceptable_message_is_Salts() =>
        Assert.Equal(
            "Your client sent this Accept header: application/ms-word. But this resource only emits these media types: application/json, application/x-yaml.",
            MediaNegotiation.NotAcceptableMessage("application/ms-word"));
}
