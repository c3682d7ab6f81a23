using SaltApi.NetapiKit.Tokens;

namespace SaltApi.Plugins.RestTornadoCompat.Handlers;

/// <summary>A request handler of saltnado's URL table.</summary>
internal delegate Task Handler(TornadoRequest request);

/// <summary>One entry of the URL table: its handlers by method; streams hold no request slot.</summary>
internal sealed record Route(string Name, Handler? Get, Handler? Post, bool Stream = false)
{
    /// <summary>The route's template as saltnado's URL table has it, for the request metrics (never the raw path).</summary>
    public string Template(bool withArg) => Name switch
    {
        "root" => "/",
        _ when !withArg => "/" + Name,
        "minions" => "/minions/{mid}",
        "jobs" => "/jobs/{jid}",
        "hook" => "/hook/{tag}",
        _ => "/" + Name + "/{token}",
    };

    /// <summary>The handler of a method, or null (Tornado's 405).</summary>
    public Handler? For(string method) => method switch
    {
        "GET" => Get,
        "POST" => Post,
        _ => null,
    };
}

/// <summary>
/// rest_tornado's URL table (<c>__init__.start</c>), anchored as Tornado anchors its patterns. The handlers
/// inherit as saltnado's classes do: <c>POST /jobs</c> and <c>POST /events</c> are <c>POST /</c>, <c>GET /run</c>
/// and <c>GET /hook</c> are <c>GET /</c>.
/// </summary>
internal sealed class Routes(Route root, Route login, Route minions, Route jobs, Route run, Route events, Route hook, Route? allEvents, Route? formattedEvents, string hookPath, int tokenLength)
{
    /// <summary>The route and its path argument, or null (Tornado's 404).</summary>
    public (Route Route, string? Arg)? Match(string path)
    {
        switch (path)
        {
            case "/":
                return (root, null);
            case "/login":
                return (login, null);
            case "/minions":
                return (minions, null);
            case "/jobs":
                return (jobs, null);
            case "/run":
                return (run, null);
            case "/events":
                return (events, null);
        }

        if (path.StartsWith("/minions/", StringComparison.Ordinal))
        {
            return (minions, path["/minions/".Length..]);
        }

        if (path.StartsWith("/jobs/", StringComparison.Ordinal))
        {
            return (jobs, path["/jobs/".Length..]);
        }

        if (path == hookPath)
        {
            return (hook, null);
        }

        if (path.StartsWith(hookPath + "/", StringComparison.Ordinal))
        {
            return (hook, path[hookPath.Length..]);
        }

        if (allEvents is not null && Token(path, "/all_events/") is { } a)
        {
            return (allEvents, a);
        }

        if (formattedEvents is not null && Token(path, "/formatted_events/") is { } f)
        {
            return (formattedEvents, f);
        }

        return null;
    }

    // The websocket paths take a token of exactly the hex length of the master's hash_type.
    private string? Token(string path, string prefix)
    {
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var token = path[prefix.Length..];
        return TokenCheck.IsTokenText(token, tokenLength) ? token : null;
    }

    /// <summary>The hex length of a digest of <c>hash_type</c> (Salt's default sha256: 64).</summary>
    public static int HexLength(string? hashType) => hashType?.ToLowerInvariant() switch
    {
        "md5" => 32,
        "sha1" => 40,
        "sha224" => 56,
        "sha384" => 96,
        "sha512" => 128,
        _ => 64,
    };
}
