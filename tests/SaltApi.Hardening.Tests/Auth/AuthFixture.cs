using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SaltApi.Testing;

namespace SaltApi.Hardening.Tests.Auth;

/// <summary>
/// A daemon for the auth table: every client enabled (ssh included, where Salt's auth bypasses were),
/// tokens that expire after a few seconds, debug logging, and a user whose password occurs nowhere
/// else so that the log can be searched for it.
/// </summary>
public sealed class AuthFixture : HardeningFixture
{
    public const string SecretUser = "secretuser";
    public const string SecretPassword = "S3cret-Pa55-91f0c2";
    public const string WrongPassword = "Wr0ng-Pa55-6d2e7a";
    public const int TokenExpire = 3;

    private string? expiredToken;

    public static readonly string[] Clients = ["local", "local_async", "local_batch", "local_subset", "runner", "runner_async", "wheel", "wheel_async", "ssh"];

    protected override string ExtraYaml => $"token_expire: {TokenExpire}\n";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync(["-l", "debug"]);
    }

    protected override void Configure(string dir)
    {
        base.Configure(dir);
        File.AppendAllText(Path.Combine(dir, "users"), $"{SecretUser}:{SecretPassword}\n");
        var path = Path.Combine(dir, "master");
        var text = File.ReadAllText(path);
        text = Regex.Replace(text, @"(?m)^(\s+)saltdev: \[.*\]\n", m => m.Value + m.Groups[1].Value + SecretUser + ": ['.*', '@runner', '@wheel', '@jobs']\n");
        text = Regex.Replace(text, @"(?m)^netapi_enable_clients: .*$", $"netapi_enable_clients: [{string.Join(", ", Clients)}]");
        File.WriteAllText(path, text);
    }

    /// <summary>A Salt token of saltdev (from POST /token) that has expired by the time this returns.</summary>
    public async Task<string> ExpiredTokenAsync()
    {
        if (expiredToken is not null)
        {
            return expiredToken;
        }

        var token = await SaltTokenAsync("saltdev", Daemon.Password);
        await Task.Delay(TimeSpan.FromSeconds(TokenExpire + 1.5));
        return expiredToken = token;
    }

    /// <summary>A fresh Salt token from rest_cherrypy's POST /token.</summary>
    public async Task<string> SaltTokenAsync(string user, string password)
    {
        using var content = new StringContent(JsonSerializer.Serialize(new { username = user, password, eauth = "file" }), Encoding.UTF8, "application/json");
        using var response = await Daemon.Http.PostAsync(new Uri(Daemon.Cherrypy, "token"), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /token: {(int)response.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement[0].GetProperty("token").GetString()!;
    }

    /// <summary>A rest_cherrypy session id from POST /login.</summary>
    public async Task<string> LoginAsync(string user, string password)
    {
        using var content = new StringContent(JsonSerializer.Serialize(new { username = user, password, eauth = "file" }), Encoding.UTF8, "application/json");
        using var response = await Daemon.Http.PostAsync(new Uri(Daemon.Cherrypy, "login"), content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("X-Auth-Token").Single();
    }
}
