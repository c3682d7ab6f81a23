using System.Net;
using System.Text;
using System.Text.Json;
using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests.EndToEnd;

/// <summary>
/// <c>/login</c> sends the whole credentials map to the master's <c>mk_token</c>, as Login.POST does through
/// salt.auth.Resolver: a <c>token_expire</c> the master allows (<c>token_expire_user_override</c>) sets the
/// token's life.
/// </summary>
public class LoginCredentialsTests
{
    private static async Task<double> LifeAsync(Daemon d, HttpContent body)
    {
        using var login = await d.Http.PostAsync(new Uri(d.Cherrypy, "login"), body);
        var text = await login.Content.ReadAsStringAsync();
        Assert.True(login.StatusCode == HttpStatusCode.OK, text);
        using var doc = JsonDocument.Parse(text);
        var ret = doc.RootElement.GetProperty("return")[0];
        return ret.GetProperty("expire").GetDouble() - ret.GetProperty("start").GetDouble();
    }

    private static StringContent Form(string form) => new(form, Encoding.UTF8, "application/x-www-form-urlencoded");

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Token_expire_is_honoured_for_the_users_the_master_allows()
    {
        await using var d = await Daemon.StartAsync("token_expire_user_override:\n  file: [saltdev]\n");

        Assert.InRange(await LifeAsync(d, Json("""{"username": "saltdev", "password": "saltdev", "eauth": "file", "token_expire": 60}""")), 59.9, 60.1);
        // A form sends text: the number is sent as a number.
        Assert.InRange(await LifeAsync(d, Form("eauth=file&username=saltdev&password=saltdev&token_expire=90")), 89.9, 90.1);
        // Not allowed for this user: the master's token_expire.
        Assert.InRange(await LifeAsync(d, Json("""{"username": "limited", "password": "saltdev", "eauth": "file", "token_expire": 60}""")), 43199.9, 43200.1);
        Assert.InRange(await LifeAsync(d, Form("username=saltdev&password=saltdev&eauth=file")), 43199.9, 43200.1);
    }

    [Fact]
    public async Task Token_expire_is_ignored_without_the_override()
    {
        await using var d = await Daemon.StartAsync();
        Assert.InRange(await LifeAsync(d, Json("""{"username": "saltdev", "password": "saltdev", "eauth": "file", "token_expire": 60}""")), 43199.9, 43200.1);
    }
}
