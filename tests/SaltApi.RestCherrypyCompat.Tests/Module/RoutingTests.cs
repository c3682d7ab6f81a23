using System.Net.Sockets;
using System.Text;

namespace SaltApi.RestCherrypyCompat.Tests.Module;

/// <summary>
/// CherryPy's URL tree on ASP.NET Core routing: the request line as sent (raw bytes, no client-side URI
/// normalisation), answered as CherryPy's dispatcher does.
/// </summary>
public sealed class RoutingTests
{
    private static async Task<(int Status, string Head, string Body)> RawAsync(ModuleHost host, string method, string target, string extraHeaders = "", string body = "")
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", host.Port);
        var stream = tcp.GetStream();
        var request = $"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: application/json\r\n{extraHeaders}Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20));
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = text[..split];
        return (int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture), head, text[(split + 4)..]);
    }

    [Theory]
    [InlineData("/LOGIN")]
    [InlineData("/Minions")]
    [InlineData("/Hook/x")]
    public async Task Names_are_case_sensitive_as_in_CherryPy(string path)
    {
        await using var host = await ModuleHost.StartAsync();
        var (status, head, body) = await RawAsync(host, "GET", path);
        Assert.Equal(404, status);
        Assert.Contains($"The path '{path}' was not found.", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Allow:", head, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("//login//")]
    [InlineData("/log%2569n")]
    [InlineData("/login/")]
    public async Task Empty_segments_are_dropped_and_segments_decoded_once_more(string path)
    {
        await using var host = await ModuleHost.StartAsync();
        var (status, head, body) = await RawAsync(host, "GET", path);
        Assert.Equal(200, status);
        Assert.Contains("WWW-Authenticate: Session", head, StringComparison.Ordinal);
        Assert.Equal("{\"status\": null, \"return\": \"Please log in\"}", body);
    }

    [Fact]
    public async Task A_method_the_resource_lacks_is_405_before_its_path_is_too_long_404()
    {
        await using var host = await ModuleHost.StartAsync();
        var (status, head, _) = await RawAsync(host, "PUT", "/minions/a/b");
        Assert.Equal(405, status);
        Assert.Contains("Allow: GET, HEAD, POST", head, StringComparison.Ordinal);

        // POST takes no trailing segment, GET one: both 404 with the resource's Allow.
        (status, head, _) = await RawAsync(host, "POST", "/minions/x");
        Assert.Equal(404, status);
        Assert.Contains("Allow: GET, HEAD, POST", head, StringComparison.Ordinal);
        (status, head, _) = await RawAsync(host, "GET", "/keys/a/b");
        Assert.Equal(404, status);
        Assert.Contains("Allow: GET, HEAD, POST", head, StringComparison.Ordinal);

        // The hook takes any path, by POST only.
        (status, head, _) = await RawAsync(host, "GET", "/hook/a/b/c");
        Assert.Equal(405, status);
        Assert.Contains("Allow: POST", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configured_path_with_route_syntax_characters_is_a_plain_path()
    {
        // Braces and '?' are route syntax in ASP.NET Core; in webhook_url they are the path's own characters.
        await using var host = await ModuleHost.StartAsync(("webhook_url", "/h{o}?k"), ("webhook_disable_auth", true));
        var (status, _, body) = await RawAsync(host, "POST", "/h%7Bo%7D%3Fk/x%2Fy", "Content-Type: application/json\r\n", "{}");
        Assert.Equal(200, status);
        Assert.Equal("{\"success\": true}", body);
        var (tag, _) = Assert.Single(host.Client.Fired);
        Assert.Equal("salt/netapi/hook/x/y", tag);

        (status, _, _) = await RawAsync(host, "POST", "/hook/x", "Content-Type: application/json\r\n", "{}");
        Assert.Equal(404, status);
    }
}
