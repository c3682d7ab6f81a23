using System.Net;
using Microsoft.AspNetCore.Http;
using SaltApi.Abstractions.Hooks;

namespace SaltApi.Abstractions.Tests.Access;

/// <summary>/hook's event headers: every header as Salt keeps them, but this API's own credentials.</summary>
public sealed class HookHeadersTests
{
    private static DefaultHttpContext Request(params (string Name, string Value)[] headers)
    {
        var ctx = new DefaultHttpContext();
        ctx.Connection.RemoteIpAddress = IPAddress.Parse("::ffff:127.0.0.5");
        foreach (var (name, value) in headers)
        {
            ctx.Request.Headers[name] = value;
        }

        return ctx;
    }

    [Fact]
    public void Every_header_is_kept_but_the_token_header_and_the_session_cookie()
    {
        var headers = HookHeaders.Of(Request(
            ("X-Auth-Token", "aa11"),
            ("Cookie", "theme=dark; session_id=aa11; lang=en"),
            ("X-Gitlab-Token", "gitlab-secret"),
            ("X-My-Secret-Key", "reactor-secret"),
            ("Authorization", "Basic c2FsdDpzYWx0"),
            ("x-hub-signature-256", "sha256=abc"),
            ("Remote-Addr", "6.6.6.6")));

        Assert.Equal(["Remote-Addr", "Cookie", "X-Gitlab-Token", "X-My-Secret-Key", "Authorization", "X-Hub-Signature-256"], headers.Keys);
        Assert.Equal("127.0.0.5", headers["Remote-Addr"]);
        Assert.Equal("theme=dark; lang=en", headers["Cookie"]);
        Assert.Equal("gitlab-secret", headers["X-Gitlab-Token"]);
        Assert.Equal("reactor-secret", headers["X-My-Secret-Key"]);
        Assert.Equal("Basic c2FsdDpzYWx0", headers["Authorization"]);
    }

    [Theory]
    [InlineData("session_id=aa11", "")]
    [InlineData("a=1;session_id=aa11", "a=1")]
    [InlineData("Session_Id=aa11; b=2", "b=2")]
    [InlineData("my_session_id=1; b=2", "my_session_id=1; b=2")]
    [InlineData("a=1", "a=1")]
    public void The_session_cookie_alone_leaves_the_cookie_header(string cookie, string kept) =>
        Assert.Equal(kept, HookHeaders.WithoutSession(cookie));

    [Fact]
    public void A_cookie_header_with_only_the_session_is_left_out()
    {
        var headers = HookHeaders.Of(Request(("Cookie", "session_id=aa11"), ("X-Custom", "1")));
        Assert.Equal(["Remote-Addr", "X-Custom"], headers.Keys);
    }

    [Theory]
    [InlineData("x-custom", "X-Custom")]
    [InlineData("content-type", "Content-Type")]
    [InlineData("X-AUTH-TOKEN", "X-Auth-Token")]
    public void Header_names_are_title_case(string name, string expected) => Assert.Equal(expected, HookHeaders.TitleCase(name));
}
