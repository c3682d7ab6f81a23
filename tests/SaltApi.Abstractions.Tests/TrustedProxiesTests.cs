using System.Net;
using SaltApi.Abstractions.Hosting;
using SaltApi.Abstractions.Modules;

namespace SaltApi.Abstractions.Tests;

public class TrustedProxiesTests
{
    private static TrustedProxies Read(object? value, out IReadOnlyList<ConfigProblem> problems)
    {
        var section = new ModuleSection("rest_cherrypy", new Dictionary<string, object?> { ["port"] = 8000L, ["trusted_proxies"] = value });
        var proxies = TrustedProxies.Read(section);
        problems = section.Problems;
        return proxies;
    }

    [Fact]
    public void Addresses_and_networks_are_trusted_and_nothing_else()
    {
        var proxies = Read(new List<object?> { "10.0.0.0/8", "192.0.2.7", "::1", "[2001:db8::5]" }, out var problems);
        Assert.Empty(problems);
        Assert.True(proxies.Trusts(IPAddress.Parse("10.200.1.1")));
        Assert.True(proxies.Trusts(IPAddress.Parse("10.200.1.1").MapToIPv6()));
        Assert.True(proxies.Trusts(IPAddress.Parse("192.0.2.7")));
        Assert.False(proxies.Trusts(IPAddress.Parse("192.0.2.8")));
        Assert.True(proxies.Trusts(IPAddress.IPv6Loopback));
        Assert.True(proxies.Trusts(IPAddress.Parse("2001:db8::5")));
        Assert.False(proxies.Trusts(IPAddress.Loopback));
    }

    [Fact]
    public void One_comma_separated_string_is_a_list()
    {
        var proxies = Read("127.0.0.1, 172.16.0.0/12", out var problems);
        Assert.Empty(problems);
        Assert.Equal(2, proxies.Networks.Count);
    }

    [Fact]
    public void Absent_means_no_proxy_and_loopback_is_not_trusted()
    {
        var proxies = Read(null, out var problems);
        Assert.Empty(problems);
        Assert.False(proxies.Any);
        Assert.False(proxies.Trusts(IPAddress.Loopback));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.1/8")]
    [InlineData("nginx.local")]
    [InlineData("*")]
    public void A_wrong_entry_is_a_problem_naming_the_key(string entry)
    {
        Read(new List<object?> { "127.0.0.1", entry }, out var problems);
        var problem = Assert.Single(problems);
        Assert.Equal("rest_cherrypy.trusted_proxies", problem.Key);
        Assert.Contains($"'{entry}'", problem.Message, StringComparison.Ordinal);
    }
}
