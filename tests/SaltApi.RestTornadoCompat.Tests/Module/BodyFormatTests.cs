using System.Text;
using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Json;
using SaltApi.Plugins.RestTornadoCompat.Http;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>saltnado's body formats: the form loader, the lowstate shape, and untrusted bytes in every format.</summary>
public sealed class BodyFormatTests
{
    private static DefaultHttpContext Request(string contentType, string query = "")
    {
        var ctx = new DefaultHttpContext();
        ctx.Request.ContentType = contentType;
        ctx.Request.QueryString = new QueryString(query);
        return ctx;
    }

    [Fact]
    public void Form_decodes_as_python_and_lists_repeated_keys()
    {
        var form = RequestData.Form("?tgt=ms--1", Encoding.UTF8.GetBytes("fun=test.echo&arg=caf%C3%A9+au+lait&arg=%ZZ&tgt=ms--2&empty=&;&=x"));
        Assert.Equal("{\"tgt\": [\"ms--1\", \"ms--2\"], \"fun\": \"test.echo\", \"arg\": [\"café au lait\", \"%ZZ\"]}", SaltJson.Serialize(form));
    }

    [Fact]
    public void A_map_gets_its_arg_as_a_list_and_becomes_one_chunk()
    {
        var low = RequestData.Lowstate(SaltJson.Parse("{\"client\": \"local\", \"arg\": \"x\"}"u8));
        Assert.Equal("[{\"client\": \"local\", \"arg\": [\"x\"]}]", SaltJson.Serialize(low));
        Assert.Equal("[{\"arg\": [1]}, 2]", SaltJson.Serialize(RequestData.Lowstate(SaltJson.Parse("[{\"arg\": [1]}, 2]"u8))));
        Assert.Null(RequestData.Lowstate(null));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    [InlineData("application/x-yaml")]
    [InlineData("text/yaml")]
    public void Nesting_past_the_limit_is_a_400_not_a_stack_overflow(string contentType)
    {
        var deep = contentType.Contains("yaml", StringComparison.Ordinal) ? new string('[', 100_000) : new string('[', 100_000) + new string(']', 100_000);
        var e = Assert.Throws<BadBodyException>(() => RequestData.Deserialize(Request(contentType).Request, Encoding.UTF8.GetBytes(deep)));
        Assert.Equal(400, e.Status);
    }

    [Fact]
    public void A_body_without_a_content_type_is_406()
    {
        var e = Assert.Throws<BadBodyException>(() => RequestData.Deserialize(new DefaultHttpContext().Request, "[]"u8.ToArray()));
        Assert.Equal(406, e.Status);
    }

    [Fact]
    public void Random_bytes_in_every_format_are_a_value_or_a_4xx()
    {
        var random = new Random(16);
        string[] types = ["application/json", "text/plain", "application/x-yaml", "text/yaml", "application/x-www-form-urlencoded", "image/png"];
        byte[] alphabet = "[]{}:,\"'\\-?&=%+;#!*|> \n\t0123456789abcdefxyzéü\u0000"u8.ToArray();
        for (var i = 0; i < 3000; i++)
        {
            var body = new byte[random.Next(1, 200)];
            for (var j = 0; j < body.Length; j++)
            {
                body[j] = random.Next(4) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            }

            foreach (var type in types)
            {
                try
                {
                    _ = RequestData.Lowstate(RequestData.Deserialize(Request(type, "?a=%41").Request, body));
                }
                catch (BadBodyException e) when (e.Status is 400 or 406)
                {
                }
            }
        }
    }
}
