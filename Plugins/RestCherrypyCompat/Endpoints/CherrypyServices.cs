using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Access;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Hosting;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using SaltApi.Plugins.RestCherrypyCompat.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;
using SaltApi.Plugins.RestCherrypyCompat.Stats;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary>What the pipeline and the resources of one rest_cherrypy module share (spec/05 §3).</summary>
internal sealed class CherrypyServices(CherrypyOptions options, INetapiClient client, IEventStream events, ILogger logger, TimeProvider time) : IDisposable
{
    /// <summary>The Salt release whose rest_cherrypy this module reproduces; sent as <c>X-Salt-Version</c> (pepper reads it).</summary>
    public const string SaltVersion = "3006.0";

    public CherrypyOptions Options { get; } = options;

    public INetapiClient Client { get; } = client;

    public IEventStream Events { get; } = events;

    public ILogger Logger { get; } = logger;

    public TokenCheck Sessions { get; } = new(client, time);

    public RequestStats Stats { get; } = new(time);

    public RequestGate Gate { get; } = new(options.Listener.ThreadPool, options.Listener.QueueSize, TimeSpan.FromSeconds(60));

    /// <summary>Every running and queued request may hold a body of the anonymous limit (1 MiB); a larger one waits for budget.</summary>
    public RequestBodyBudget Bodies { get; } = RequestBodyBudget.For(options.Listener.MaxRequestBodySize, Math.Min(options.Listener.ThreadPool + options.Listener.QueueSize, RequestBodyBudget.MaxBodiesBudgeted), largeBodiesWait: true);

    /// <summary>Where requests with credentials in their body wait for the master's verdict (not in <see cref="Gate"/>).</summary>
    public AuthThrottle Logins { get; } = new(options.Listener.ThreadPool);

    /// <inheritdoc/>
    public void Dispose()
    {
        Gate.Dispose();
        Sessions.Dispose();
    }

    /// <summary>
    /// Deliberate difference: whether the request is authenticated by the session cookie alone (no X-Auth-Token)
    /// and its Origin (or Referer) names another origin than the API's own or one of cors_origin. Salt's cors_tool
    /// reflects every Origin with credentials allowed, so any page could read and act with a visitor's cookie
    /// (SameSite=Lax also lets every page of the same site, another port of the host, send it): such a request is
    /// refused (403), for every method, on the session resources, <c>/events</c> and <c>/ws</c>. Requests without
    /// those headers (curl, pepper, SDKs), or carrying the token themselves, are not concerned.
    /// </summary>
    public bool CookieFromOtherOrigin(HttpRequest req) => TokenCheck.ReadsCookie(req, emptyHeaderIsAbsent: true) && CrossOrigin.IsForeign(req, Options.CorsOrigins);

    public void SetSessionCookie(HttpResponse resp, SaltToken session)
    {
        // The session lives as long as the Salt token: never longer (Salt #42622, #49993).
        var seconds = (long)Math.Max(0, session.Expire - Sessions.Now);
        SetCookie(resp, session.Token, time.GetUtcNow().AddSeconds(seconds), $"; Max-Age={seconds}");
    }

    public void ClearSessionCookie(HttpResponse resp) => SetCookie(resp, "", time.GetUtcNow().AddYears(-1), "");

    // Secure when the request came over HTTPS: our TLS, or X-Forwarded-Proto: https from a trusted proxy.
    private static void SetCookie(HttpResponse resp, string token, DateTimeOffset expires, string maxAge) =>
        resp.Headers.SetCookie = $"{TokenCheck.CookieName}={token}; expires={expires.ToString("ddd, dd MMM yyyy HH:mm:ss", CultureInfo.InvariantCulture)} GMT{maxAge}; Path=/; HttpOnly; SameSite=Lax{(resp.HttpContext.Request.IsHttps ? "; Secure" : "")}";

    // As Salt's salt_api_acl_tool. Deliberate difference: Salt checks it at /login only, so /token, /run,
    // POST /keys and eauth lowstates took credentials from any address; here every path that takes
    // credentials or a session checks the user's address.
    public bool ApiAclAllows(string? username, HttpContext ctx) => Options.ApiAcl?.Allows(username, ctx) ?? true;

    /// <summary>Runs each chunk of a lowstate through the client layer (rest_cherrypy's exec_lowstate).</summary>
    public async Task<List<object?>> ExecAsync(Call call, object? lowstate, string? token, string? forceClient)
    {
        var chunks = Lowstate.RequireMaps(lowstate);
        var results = new List<object?>();
        foreach (var chunk in chunks)
        {
            var low = Lowstate.PrepareChunk(chunk, token, forceClient);

            // Every path that runs a lowstate (/, /run, /minions, /jobs, /keys): api_acl is checked for the chunk's
            // user (its eauth username, or its token's user). A token logged out here that the master kept is
            // refused by the client layer, as the master refuses an unknown one.
            if (Options.ApiAcl is { } acl && !await acl.AllowsChunkAsync(low, call.Ctx, Sessions, call.Aborted))
            {
                throw new HttpError(401);
            }

            results.AddRange(await Client.RunAsync(low, call.Aborted));
        }

        return results;
    }
}
