using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.NetapiKit.Lowstates;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestTornadoCompat.Http;

namespace SaltApi.Plugins.RestTornadoCompat.Handlers;

/// <summary>saltnado's SaltAPIHandler, SaltAuthHandler, MinionSaltAPIHandler, JobsSaltAPIHandler and RunSaltAPIHandler.</summary>
internal sealed class ApiHandlers(Saltnado app)
{
    /// <summary>saltnado's own dispatch: the only clients rest_tornado serves.</summary>
    public static readonly IReadOnlyList<string> SaltClients = ["local", "local_async", "runner", "runner_async"];

    /// <summary>GET <c>/</c> (and the handlers that inherit it): the clients.</summary>
    public static Task WelcomeAsync(TornadoRequest r) =>
        r.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["clients"] = SaltClients.ToList<object?>(), ["return"] = "Welcome" });

    /// <summary>GET <c>/login</c>: a parked endpoint, 401.</summary>
    public static Task LoginGetAsync(TornadoRequest r)
    {
        r.Ctx.Response.Headers.WWWAuthenticate = "Session";
        return r.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["status"] = "401 Unauthorized", ["return"] = "Please log in" }, 401);
    }

    /// <summary>POST <c>/login</c>: as SaltAuthHandler.post.</summary>
    public async Task LoginPostAsync(TornadoRequest r)
    {
        if (r.Payload is not OrderedDictionary<string, object?> payload
            || !payload.TryGetValue("username", out var username) || !payload.TryGetValue("password", out var password)
            || !payload.TryGetValue("eauth", out var eauth))
        {
            await TornadoResponse.ErrorAsync(r.Ctx, 400);
            return;
        }

        // Deliberate difference: api_acl (ours, as rest_cherrypy's /login).
        if (!app.AclAllows(username as string, r.Ctx))
        {
            await TornadoResponse.ErrorAsync(r.Ctx, 401);
            return;
        }

        // As SaltAuthHandler.post: exactly these three credentials go to mk_token.
        var creds = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["username"] = username, ["password"] = password, ["eauth"] = eauth };
        SaltToken? token;
        try
        {
            token = await app.Client.MakeTokenAsync(creds, r.Aborted);
        }
        catch (SaltApiException e)
        {
            // Salt lets a master error escape as a 500; ours says what kind it is (503 when the master is down).
            await TornadoResponse.ErrorAsync(r.Ctx, e.HttpStatus());
            return;
        }

        if (token is null)
        {
            await TornadoResponse.ErrorAsync(r.Ctx, 401);
            return;
        }

        app.Tokens.Remember(token);

        // As set_cookie(session_id, token). Deliberate difference: HttpOnly and SameSite=Lax (Secure over
        // TLS), so that no page script can read the token and no other site can send it.
        r.Ctx.Response.Cookies.Append(TokenCheck.CookieName, token.Token, new CookieOptions
        {
            Path = "/",
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = r.Ctx.Request.IsHttps,
        });
        await r.RespondAsync(LoginReturn.Of(app.Client, token, app.Logger));
    }

    /// <summary>POST <c>/</c>: the lowstate, for a live token; otherwise a redirect to <c>/login</c>.</summary>
    public async Task PostAsync(TornadoRequest r)
    {
        if (await VerifiedAsync(r))
        {
            await DisbatchAsync(r);
        }
    }

    /// <summary>POST <c>/run</c>: the lowstate without the session check (credentials in each chunk).</summary>
    public Task RunAsync(TornadoRequest r) => DisbatchAsync(r);

    /// <summary>GET <c>/minions[/mid]</c>: <c>grains.items</c> of one minion or of all.</summary>
    public async Task MinionsGetAsync(TornadoRequest r)
    {
        if (!await VerifiedAsync(r))
        {
            return;
        }

        r.Lowstate = [GrainsItems.Lowstate("local", string.IsNullOrEmpty(r.PathArg) ? "*" : r.PathArg)];
        await DisbatchAsync(r);
    }

    /// <summary>POST <c>/minions</c>: <c>local_async</c> only.</summary>
    public async Task MinionsPostAsync(TornadoRequest r)
    {
        if (!await VerifiedAsync(r))
        {
            return;
        }

        foreach (var chunk in r.Lowstate ?? [])
        {
            if (chunk is OrderedDictionary<string, object?> low && !low.ContainsKey("client"))
            {
                low["client"] = "local_async";
            }
            else if (chunk is not OrderedDictionary<string, object?> other || other["client"] is not "local_async")
            {
                await TornadoResponse.WriteAsync(r.Ctx, 400, "We don't serve your kind here", TornadoResponse.Html);
                return;
            }
        }

        await DisbatchAsync(r);
    }

    /// <summary>GET <c>/jobs[/jid]</c>: the job cache through the jobs runner.</summary>
    public async Task JobsGetAsync(TornadoRequest r)
    {
        if (!await VerifiedAsync(r))
        {
            return;
        }

        r.Lowstate = [JobsLowstate.For(string.IsNullOrEmpty(r.PathArg) ? null : r.PathArg, clientFirst: false)];
        await DisbatchAsync(r);
    }

    /// <summary>As <c>if not self._verify_auth(): self.redirect("/login")</c>; true when the token is live.</summary>
    public async Task<bool> VerifiedAsync(TornadoRequest r)
    {
        if (app.ForeignCookie(r))
        {
            await TornadoResponse.WriteAsync(r.Ctx, 403, "Cross origin request with a session cookie not allowed", TornadoResponse.Html);
            return false;
        }

        if (await app.SessionAsync(r, r.Token) is not null)
        {
            return true;
        }

        await TornadoResponse.RedirectAsync(r.Ctx, "/login");
        return false;
    }

    /// <summary>
    /// As SaltAPIHandler.disbatch: each chunk in turn through the client layer, its answer (or the error's
    /// text) appended to <c>return</c>; an authentication or authorization error ends the list.
    /// </summary>
    private async Task DisbatchAsync(TornadoRequest r)
    {
        if (r.Lowstate is not { } lowstate)
        {
            // Deliberate difference: Salt iterates over None (a TypeError, the generic 500).
            await TornadoResponse.ErrorAsync(r.Ctx, 400);
            return;
        }

        // Deliberate difference: a bound on the chunks of one request (ours, as rest_wsgi's).
        if (lowstate.Count > app.Options.MaxLowstateChunks)
        {
            await TornadoResponse.WriteAsync(r.Ctx, 400, $"400 Too many lowstate chunks: at most {app.Options.MaxLowstateChunks}", TornadoResponse.Html);
            return;
        }

        // Deliberate difference: every chunk is checked before any runs, as saltnado's comment intends
        // ("we want to throw 400 if one is bad"); Salt runs the chunks before a bad one, then answers 400.
        if (lowstate.Any(c => c is not OrderedDictionary<string, object?> low || low.GetValueOrDefault("client") is not string name || !SaltClients.Contains(name)))
        {
            await TornadoResponse.WriteAsync(r.Ctx, 400, "400 Invalid Client: Client not found in salt clients", TornadoResponse.Html);
            return;
        }

        // The session cookie's token goes into every chunk without one of its own (/run included): from another
        // origin it is refused as in VerifiedAsync.
        if (app.ForeignCookie(r) && lowstate.Any(c => !((OrderedDictionary<string, object?>)c!).ContainsKey("token")))
        {
            await TornadoResponse.WriteAsync(r.Ctx, 403, "Cross origin request with a session cookie not allowed", TornadoResponse.Html);
            return;
        }

        var token = r.Token;
        var ret = new List<object?>();
        foreach (var chunk in lowstate.Cast<OrderedDictionary<string, object?>>())
        {
            var low = new OrderedDictionary<string, object?>(chunk, StringComparer.Ordinal);
            if (token is not null && !low.ContainsKey("token"))
            {
                low["token"] = token;
            }

            if (!(low.ContainsKey("token") || (low.ContainsKey("username") && low.ContainsKey("password") && low.ContainsKey("eauth"))))
            {
                ret.Add("Failed to authenticate");
                break;
            }

            // Deliberate difference: api_acl (ours) for the chunk's user, its token's or its eauth username; a
            // token the master does not know is left to the master to refuse.
            if (app.Options.ApiAcl is { } acl && !await acl.AllowsChunkAsync(low, r.Ctx, app.Tokens, r.Aborted))
            {
                ret.Add("Failed to authenticate");
                break;
            }

            try
            {
                ret.AddRange(await app.Client.RunAsync(low, r.Aborted));
            }
            catch (SaltApiException e) when (e.Kind is SaltErrorKind.Authentication or SaltErrorKind.Authorization)
            {
                r.AuthFailed = e.Kind == SaltErrorKind.Authentication;
                ret.Add("Failed to authenticate");
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // As disbatch: any other error is the chunk's answer, and the next chunk runs.
                ret.Add($"Unexpected exception while handling request: {e.Message}");
                app.Logger.LogError("Unexpected exception while handling request: {Kind} {Message}", (e as SaltApiException)?.SaltName ?? e.GetType().Name, e.Message);
            }
        }

        await r.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["return"] = ret });
    }
}
