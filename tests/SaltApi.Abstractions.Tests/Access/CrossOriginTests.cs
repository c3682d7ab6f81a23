using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Access;

namespace SaltApi.Abstractions.Tests.Access;

/// <summary>Which browser requests come from another origin than the API's own or cors_origin.</summary>
public sealed class CrossOriginTests
{
    private static HttpRequest Request(string host, string? origin = null, string? referer = null)
    {
        var ctx = new DefaultHttpContext();
        ctx.Request.Host = new HostString(host);
        if (origin is not null)
        {
            ctx.Request.Headers.Origin = origin;
        }

        if (referer is not null)
        {
            ctx.Request.Headers.Referer = referer;
        }

        return ctx.Request;
    }

    [Theory]
    [InlineData("api:8000", null, null, false)] // curl, pepper, SDKs
    [InlineData("api:8000", "http://api:8000", null, false)]
    [InlineData("API:8000", "https://api:8000", null, false)]
    [InlineData("api", "https://api", null, false)]
    [InlineData("api:443", "https://api", null, false)]
    [InlineData("api:8000", "http://api:9999", null, true)] // same site, another port
    [InlineData("api:8000", "http://evil.example", null, true)]
    [InlineData("api:8000", "null", null, true)]
    [InlineData("api:8000", "file://x", null, true)]
    [InlineData("api:8000", null, "http://api:8000/app/index.html", false)]
    [InlineData("api:8000", null, "http://evil.example/page", true)]
    [InlineData("api:8000", null, "not a url", true)]
    [InlineData("api:8000", "https://gui.example", null, false)] // listed in cors_origin
    [InlineData("api:8000", "https://gui.example:443", null, false)]
    [InlineData("api:8000", "http://gui.example", null, true)]
    public void Origin_then_referer_against_the_host_and_cors_origin(string host, string? origin, string? referer, bool foreign) =>
        Assert.Equal(foreign, CrossOrigin.IsForeign(Request(host, origin, referer), ["https://gui.example"]));

    [Fact]
    public void A_cors_origin_of_any_lets_no_cookie_through() =>
        Assert.True(CrossOrigin.IsForeign(Request("api:8000", "http://evil.example"), ["*"]));

    [Theory]
    [InlineData("GET", false)]
    [InlineData("HEAD", false)]
    [InlineData("OPTIONS", false)]
    [InlineData("POST", true)]
    [InlineData("PUT", true)]
    [InlineData("DELETE", true)]
    public void State_changing_methods(string method, bool changes) => Assert.Equal(changes, CrossOrigin.IsStateChanging(method));
}
