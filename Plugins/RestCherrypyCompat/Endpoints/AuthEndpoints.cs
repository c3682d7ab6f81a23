using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestCherrypyCompat.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;
using SaltApi.Plugins.RestCherrypyCompat.Pipeline;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary><c>/login</c>, <c>/logout</c> and <c>/token</c>: rest_cherrypy's Login, Logout and Token.</summary>
internal sealed class AuthEndpoints(CherrypyServices api)
{
    /// <summary>GET <c>/login</c>: the prompt.</summary>
    public static Task PromptAsync(Call call)
    {
        call.Response.Headers.WWWAuthenticate = "Session";
        return call.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["status"] = null,
            ["return"] = "Please log in",
        });
    }

    /// <summary>POST <c>/login</c>.</summary>
    public async Task LoginAsync(Call call)
    {
        var data = Lowstate.Shape(await call.ReadDataAsync());
        var creds = data is List<object?> { Count: > 0 } list ? list[0] : data;
        if (creds is not OrderedDictionary<string, object?> map)
        {
            // Deliberate difference: a body-less login is an AttributeError in Salt (the generic 500).
            throw new HttpError(401, "Could not authenticate using provided credentials");
        }

        var username = map.GetValueOrDefault("username");
        if (!api.ApiAclAllows(username as string, call.Ctx))
        {
            throw new HttpError(401);
        }

        SaltToken? token = null;
        if (map.GetValueOrDefault("eauth") is string && username is string && map.GetValueOrDefault("password") is { } pw)
        {
            // As Login.POST: the whole credentials map goes to mk_token (token_expire, extra eauth fields).
            var whole = new OrderedDictionary<string, object?>(map, StringComparer.Ordinal) { ["password"] = Lowstate.Text(pw) };
            token = await api.Client.MakeTokenAsync(whole, call.Aborted);
        }

        if (token is null)
        {
            throw new HttpError(401, "Could not authenticate using provided credentials");
        }

        api.Sessions.Remember(token);
        Gzip.Never(call.Ctx);
        call.Response.Headers["X-Auth-Token"] = token.Token;
        api.SetSessionCookie(call.Response, token);
        await call.RespondAsync(LoginReturn.Of(api.Client, token, api.Logger));
    }

    /// <summary>GET <c>/logout</c>, after the session check.</summary>
    public static Task LogoutGetAsync(Call call)
    {
        // Deliberate difference: Salt 3006's inherited GET crashes here (a 500); only POST logs out.
        call.Response.Headers.Allow = "POST";
        throw new HttpError(405);
    }

    /// <summary>POST <c>/logout</c>.</summary>
    public async Task LogoutAsync(Call call)
    {
        // Deliberate difference: Salt's logout leaves the token valid on the master. The master is the
        // source of truth here: the token is deleted there (its localfs file, or runner auth.del_token),
        // so every daemon and every path refuses it at once. When the master keeps it, the client layer
        // refuses it itself for every module of this daemon, in a bounded list that never silently drops a
        // revocation: a logout it cannot record is a 503.
        var session = call.Session!;
        api.Sessions.Forget(session);
        var removed = false;
        using (var bounded = CancellationTokenSource.CreateLinkedTokenSource(call.Aborted))
        {
            bounded.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                removed = await api.Client.RemoveTokenAsync(session.Token, bounded.Token);
            }
            catch (Exception e) when (e is SaltApiException or OperationCanceledException && !call.Aborted.IsCancellationRequested)
            {
                if (api.Logger.IsEnabled(LogLevel.Debug))
                {
                    api.Logger.LogDebug("token not deleted on the master at logout: {Message}", e.Message);
                }
            }
        }

        // Again now that the token is refused: a session lookup that overlapped the logout caches nothing.
        api.Sessions.Forget(session);
        if (!removed)
        {
            api.Logger.LogError("logout of user {User}: the master kept the token and the list of revoked tokens is full; the token stays valid until it expires", session.Name);
            throw new HttpError(503, "The session could not be ended: try again later");
        }

        api.ClearSessionCookie(call.Response);
        await call.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["return"] = "Your token has been cleared",
        });
    }

    /// <summary>POST <c>/token</c>: a token per credentials chunk.</summary>
    public async Task TokenAsync(Call call)
    {
        var lowstate = await call.ReadLowstateAsync();
        var chunks = Lowstate.RequireList(lowstate);
        var tokens = new List<object?>();
        foreach (var chunk in chunks)
        {
            if (chunk is not OrderedDictionary<string, object?> creds ||
                !creds.TryGetValue("username", out var user) || !creds.TryGetValue("password", out var pw) || !creds.TryGetValue("eauth", out var eauth))
            {
                throw new HttpError(400, "Require \"username\", \"password\", and \"eauth\" params");
            }

            if (!api.ApiAclAllows(user as string, call.Ctx))
            {
                throw new HttpError(401);
            }

            // Salt runs the runner auth.mk_token here (needing @runner rights); the master's
            // mk_token gives the same token without them, as /login does.
            var token = await api.Client.MakeTokenAsync(Lowstate.Text(eauth), Lowstate.Text(user), Lowstate.Text(pw), call.Aborted)
                ?? throw new SaltAuthenticationException($"Authentication failure of type \"eauth\" occurred for user {Lowstate.Text(user)}.");
            var entry = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["start"] = token.Start,
                ["expire"] = token.Expire,
                ["name"] = token.Name,
                ["eauth"] = token.Eauth,
            };
            if (token.Groups is { } groups)
            {
                entry["groups"] = groups.Cast<object?>().ToList();
            }

            entry["token"] = token.Token;
            tokens.Add(entry);
        }

        Gzip.Never(call.Ctx);
        await call.RespondAsync(tokens);
    }
}
