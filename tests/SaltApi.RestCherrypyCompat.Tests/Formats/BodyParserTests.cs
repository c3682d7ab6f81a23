using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Plugins.RestCherrypyCompat.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.RestCherrypyCompat.Tests.Formats;

public class BodyParserTests
{
    private static string Parse(string? contentType, string body) =>
        SaltJson.Serialize(BodyParser.Parse(contentType, Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Form_lowstate_as_the_transcript()
    {
        Assert.Equal(
            "{\"client\": \"local\", \"tgt\": \"ms-0\", \"fun\": \"test.arg\", \"arg\": [\"a\", \"b\"]}",
            Parse("application/x-www-form-urlencoded", "client=local&tgt=ms-0&fun=test.arg&arg=a&arg=b"));
    }

    [Fact]
    public void Form_drops_blank_values_decodes_and_yamlifies_arg_and_kwarg()
    {
        Assert.Equal(
            "{\"a\": \"x y\", \"b\": [\"2\", \"3\"], \"arg\": [1], \"kwarg\": {\"k\": true}, \"u\": \"é/\"}",
            Parse("application/x-www-form-urlencoded; charset=utf-8", "a=x+y&empty=&b=2&b=3&arg=1&kwarg=%7Bk%3A+yes%7D&u=%C3%A9%2F&noval"));
    }

    [Fact]
    public void Json_yaml_and_text()
    {
        Assert.Equal("[{\"a\": 1}]", Parse("application/json", "[{\"a\": 1}]"));
        Assert.Equal("[{\"a\": 1}]", Parse("application/json; charset=utf-8", "[{\"a\": 1}]"));
        Assert.Equal("[{\"a\": 1}]", Parse("application/x-yaml", "- a: 1\n"));
        Assert.Equal("[{\"a\": 1}]", Parse("text/yaml", "- a: 1\n"));
        Assert.Equal("[{\"a\": 1}]", Parse("text/plain", "[{\"a\": 1}]"));
        Assert.Equal("\"not json\"", Parse("text/plain", "not json"));
    }

    [Fact]
    public void No_body_is_null() => Assert.Null(BodyParser.Parse("application/json", null));

    [Theory]
    [InlineData("application/json", "[{", 400, "Invalid JSON document")]
    [InlineData("application/xml", "<a/>", 406, "Content type not supported")]
    [InlineData("multipart/form-data", "x", 406, "Content type not supported")]
    [InlineData(null, "x", 406, "Content type not supported")]
    [InlineData("application/x-yaml", "a: [1", 500, "The server encountered an unexpected condition which prevented it from fulfilling the request.")]
    public void Bad_bodies_are_Salts_errors(string? contentType, string body, int status, string message)
    {
        var e = Assert.Throws<HttpError>(() => BodyParser.Parse(contentType, Encoding.UTF8.GetBytes(body)));
        Assert.Equal(status, e.Status);
        Assert.Equal(message, e.Message);
    }
}
