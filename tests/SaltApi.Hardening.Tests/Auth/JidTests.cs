using System.Globalization;
using System.Net;
using System.Text.Json;

namespace SaltApi.Hardening.Tests.Auth;

/// <summary>
/// A lowstate's own jid (Salt publishes it as given): only a well-formed jid that is not already in use, so no
/// user can fire an event under another tag or take over another user's job in the job cache.
/// </summary>
public sealed class JidTests(HardeningFixture fixture) : IClassFixture<HardeningFixture>
{
    private static string Job(string user, string jid = "") =>
        $$"""[{"client": "local_async", "tgt": "ms--0", "fun": "test.ping", "eauth": "file", "username": "{{user}}", "password": "saltdev"{{(jid.Length > 0 ? $", \"jid\": \"{jid}\"" : "")}}}]""";

    private static string JidOf(string body)
    {
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("return")[0].GetProperty("jid").GetString()!;
    }

    [Fact]
    public async Task Another_user_s_jid_is_refused_and_the_job_stays_theirs()
    {
        var (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, Job("saltdev"));
        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
        var jid = JidOf(body);

        (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, Job("limited", jid));
        Assert.True(status == HttpStatusCode.BadRequest, $"a jid in use: {(int)status} {body}");
        Assert.Contains("Invalid jid", body, StringComparison.Ordinal);

        (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, $$"""[{"client": "runner", "fun": "jobs.list_job", "jid": "{{jid}}", "eauth": "file", "username": "saltdev", "password": "saltdev"}]""");
        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
        Assert.Contains("\"User\": \"saltdev\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"User\": \"limited\"", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("salt/auth/forged")]
    [InlineData("20261207061500123456/ret/ms--9")]
    [InlineData("20261207061500123456_x/y")]
    [InlineData("not-a-jid")]
    public async Task A_malformed_jid_is_refused_and_fires_nothing(string jid)
    {
        var (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, Job("limited", jid));
        Assert.True(status == HttpStatusCode.BadRequest, $"{(int)status} {body}");
        Assert.Contains("Invalid jid", body, StringComparison.Ordinal);
        (status, body) = await TokenRequests.PostAsync(fixture, new Uri(fixture.Daemon.Cherrypy, "run"), Job("limited", jid));
        Assert.True(status == HttpStatusCode.BadRequest, $"rest_cherrypy /run: {(int)status} {body}");
    }

    [Fact]
    public async Task A_fresh_well_formed_jid_is_used_once()
    {
        var jid = DateTime.UtcNow.ToString("yyyyMMddHHmmssffffff", CultureInfo.InvariantCulture) + "_" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, Job("limited", jid));
        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
        Assert.Equal(jid, JidOf(body));
        (status, body) = await TokenRequests.PostAsync(fixture, fixture.Daemon.Wsgi, Job("saltdev", jid));
        Assert.True(status == HttpStatusCode.BadRequest, $"the same jid again: {(int)status} {body}");
    }
}
