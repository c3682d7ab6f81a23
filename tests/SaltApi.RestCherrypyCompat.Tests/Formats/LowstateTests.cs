using SaltApi.Abstractions.Json;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestCherrypyCompat.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;

namespace SaltApi.RestCherrypyCompat.Tests.Formats;

public class LowstateTests
{
    private static object? Json(string s) => SaltJson.Parse(System.Text.Encoding.UTF8.GetBytes(s));

    [Fact]
    public void A_map_is_one_chunk_with_arg_wrapped() =>
        Assert.Equal("[{\"fun\": \"test.echo\", \"arg\": [\"x\"]}]", SaltJson.Serialize(Lowstate.Shape(Json("{\"fun\": \"test.echo\", \"arg\": \"x\"}"))));

    [Theory]
    [InlineData("[]", "[]")]
    [InlineData("{}", "{}")]
    [InlineData("\"hello\"", "\"hello\"")]
    public void Anything_else_passes_as_is(string body, string expected) =>
        Assert.Equal(expected, SaltJson.Serialize(Lowstate.Shape(Json(body))));

    [Theory]
    [InlineData("\"hello\"")]
    [InlineData("{}")]
    [InlineData("null")]
    public void Executing_requires_a_list(string body)
    {
        var e = Assert.Throws<HttpError>(() => Lowstate.RequireList(Lowstate.Shape(Json(body))));
        Assert.Equal((400, "Lowstates must be a list"), (e.Status, e.Message));
    }

    [Theory]
    [InlineData("abc123", true)]
    [InlineData("0xABC", true)]
    [InlineData(" ab_cd ", true)]
    [InlineData("-ff", true)]
    [InlineData("", false)]
    [InlineData("xyz", false)]
    [InlineData("/etc/passwd", false)]
    [InlineData("a__b", false)]
    [InlineData("_ab", false)]
    public void Hex_tokens_as_python_int_base_16(string token, bool ok) => Assert.Equal(ok, Lowstate.IsHexToken(token));

    [Fact]
    public void Null_token_is_invalid() => Assert.False(Lowstate.IsHexToken(null));

    [Fact]
    public void Chunk_gets_the_session_token_and_forced_client()
    {
        var chunk = Json("{\"client\": \"local\", \"token\": \"zzz\", \"arg\": 1}");
        var low = Lowstate.PrepareChunk(chunk, "abcdef", "local_async");
        Assert.Equal("{\"client\": \"local_async\", \"token\": \"abcdef\", \"arg\": [1]}", SaltJson.Serialize(low));
    }

    [Fact]
    public void Non_hex_token_is_401_invalid_token()
    {
        var e = Assert.Throws<HttpError>(() => Lowstate.PrepareChunk(Json("{\"client\": \"local\", \"token\": \"xyz\"}"), null, null));
        Assert.Equal((401, "Invalid token"), (e.Status, e.Message));
    }

    [Fact]
    public void A_chunk_that_is_not_a_map_is_a_400() =>
        Assert.Equal(400, Assert.Throws<HttpError>(() => Lowstate.PrepareChunk("x", null, null)).Status);

    [Theory]
    [InlineData("abcdef0123", true)]
    [InlineData("ABCDEF", true)]
    [InlineData("0xab", false)]
    [InlineData("../x", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Session_ids_are_plain_hex(string? id, bool ok) => Assert.Equal(ok, TokenCheck.IsTokenText(id));
}
