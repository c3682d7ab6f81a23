using System.Net;
using System.Text;
using SaltApi.Testing;

namespace SaltApi.RestCherrypyCompat.Tests.EndToEnd;

/// <summary><c>POST /keys</c> on its own daemon with its own pki_dir (it adds a minion key).</summary>
public sealed class KeyGenerationTests : IAsyncLifetime
{
    private readonly string pki = Directory.CreateTempSubdirectory("cherrypy-pki-").FullName;
    private Daemon daemon = null!;

    public async Task InitializeAsync()
    {
        daemon = await Daemon.StartAsync($"pki_dir: {pki}");
    }

    public async Task DisposeAsync()
    {
        await daemon.DisposeAsync();
        Directory.Delete(pki, true);
    }

    [Fact]
    public async Task Post_keys_returns_a_generated_key_pair_and_accepts_it()
    {
        using var resp = await daemon.Http.PostAsync(new Uri(daemon.Cherrypy, "keys"), new StringContent("mid=e2e-new&username=saltdev&password=saltdev&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded"));
        var bytes = await resp.Content.ReadAsByteArrayAsync();
        Assert.True(resp.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(bytes));
        Assert.Equal("application/x-tar", resp.Content.Headers.ContentType!.ToString());
        Assert.Equal("attachment; filename=\"saltkeys-e2e-new.tar\"", resp.Content.Headers.ContentDisposition!.ToString());
        Assert.Equal(0, bytes.Length % 10240);
        using var tar = new System.Formats.Tar.TarReader(new MemoryStream(bytes));
        var pub = await tar.GetNextEntryAsync(copyData: true);
        var pem = await tar.GetNextEntryAsync(copyData: true);
        Assert.Equal(("minion.pub", "minion.pem"), (pub!.Name, pem!.Name));
        Assert.Contains("PUBLIC KEY", new StreamReader(pub.DataStream!).ReadToEnd(), StringComparison.Ordinal);
        Assert.Contains("PRIVATE KEY", new StreamReader(pem.DataStream!).ReadToEnd(), StringComparison.Ordinal);

        using var login = await daemon.Http.PostAsync(new Uri(daemon.Cherrypy, "login"), new StringContent("username=saltdev&password=saltdev&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded"));
        var token = login.Headers.GetValues("X-Auth-Token").Single();
        using var req = new HttpRequestMessage(HttpMethod.Get, new Uri(daemon.Cherrypy, "keys"));
        req.Headers.Add("X-Auth-Token", token);
        using var list = await daemon.Http.SendAsync(req);
        var body = await list.Content.ReadAsStringAsync();
        Assert.True(list.StatusCode == HttpStatusCode.OK, body);
        var ret = (OrderedDictionary<string, object?>)((OrderedDictionary<string, object?>)Shape.Parse(body)!)["return"]!;
        Assert.Contains("e2e-new", ((List<object?>)ret["minions"]!).Cast<string>());

        using var refused = await daemon.Http.PostAsync(new Uri(daemon.Cherrypy, "keys"), new StringContent("mid=e2e-x&username=saltdev&password=wrong&eauth=file", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.InternalServerError, refused.StatusCode);
    }
}
