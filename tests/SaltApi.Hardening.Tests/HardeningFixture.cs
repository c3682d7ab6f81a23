using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using SaltApi.Testing;

namespace SaltApi.Hardening.Tests;

/// <summary>
/// One daemon for a test class, on the default test config with bounded bodies (max_request_body_size
/// 1 MiB on both modules), a static folder for rest_cherrypy, and a session logged in as saltdev.
/// </summary>
public class HardeningFixture : IAsyncLifetime
{
    public const long WsgiBodyLimit = 1 << 20;

    private Daemon? daemon;
    private string? session;

    public Daemon Daemon => daemon ?? throw new InvalidOperationException("not started");

    /// <summary>YAML added to the test config.</summary>
    protected virtual string ExtraYaml => "";

    /// <summary>Keys added to the rest_wsgi and rest_cherrypy sections.</summary>
    protected virtual string WsgiKeys => $"  max_request_body_size: {WsgiBodyLimit}\n";

    /// <summary>rest_cherrypy keys: a static folder whose parent holds the users file (traversal target).</summary>
    protected virtual string CherrypyKeys(string dir) => $"  static: {dir}/static\n  max_request_body_size: 1048576\n";

    public virtual Task InitializeAsync() => InitializeAsync(null);

    protected async Task InitializeAsync(string[]? args) => daemon = await Daemon.StartAsync(ExtraYaml, configure: Configure, args: args);

    protected virtual void Configure(string dir)
    {
        var path = Path.Combine(dir, "master");
        var text = File.ReadAllText(path);
        text = Regex.Replace(text, @"(?m)^rest_wsgi:\n  port: \d+\n", m => m.Value + WsgiKeys);
        text = Regex.Replace(text, @"(?m)^rest_cherrypy:\n  port: \d+\n", m => m.Value + CherrypyKeys(dir));
        File.WriteAllText(path, text);
        Directory.CreateDirectory(Path.Combine(dir, "static"));
        File.WriteAllText(Path.Combine(dir, "static", "hello.txt"), "hello");
        File.WriteAllText(Path.Combine(dir, "secret.txt"), "TOPSECRET-outside-static");
    }

    /// <summary>A rest_cherrypy session id of saltdev (logged in once).</summary>
    public async Task<string> SessionAsync()
    {
        if (session is not null)
        {
            return session;
        }

        using var content = new StringContent("""{"username": "saltdev", "password": "saltdev", "eauth": "file"}""", Encoding.UTF8, "application/json");
        using var response = await Daemon.Http.PostAsync(new Uri(Daemon.Cherrypy, "login"), content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        session = response.Headers.GetValues("X-Auth-Token").Single();
        return session;
    }

    public virtual async Task DisposeAsync()
    {
        if (daemon is not null)
        {
            await daemon.DisposeAsync();
        }
    }
}
