namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary>The objects of rest_cherrypy's URL tree (spec/05 §2).</summary>
internal enum Resource
{
    Root,
    Login,
    Logout,
    Token,
    Run,
    Minions,
    Jobs,
    Keys,
    Events,
    WebSocket,
    Hook,
    Stats,
    App,
}

/// <summary>
/// Endpoint metadata: the resource an endpoint serves and the literal path segments it is mapped under
/// (compared with the request ordinally: CherryPy's URL tree is case-sensitive, ASP.NET Core routing is not).
/// </summary>
internal sealed record ResourceEndpoint(Resource Resource, string[] Literal);

/// <summary>Per-resource facts: the Allow header, how many extra path segments it takes.</summary>
internal static class Resources
{
    /// <summary>CherryPy's Allow value: the methods the class defines plus HEAD.</summary>
    public static string Allow(Resource r) => r switch
    {
        Resource.Events or Resource.WebSocket or Resource.Stats or Resource.App => "GET, HEAD",
        Resource.Hook => "POST",
        _ => "GET, HEAD, POST",
    };

    /// <summary>Whether the method is one the resource answers (HEAD wherever GET).</summary>
    public static bool Allows(Resource r, string method)
    {
        var allow = Allow(r);
        return method switch
        {
            "GET" or "HEAD" => allow.Contains("GET", StringComparison.Ordinal),
            "POST" => allow.Contains("POST", StringComparison.Ordinal),
            _ => false,
        };
    }

    /// <summary>The most extra path segments a resource accepts (positional handler arguments).</summary>
    public static int MaxArgs(Resource r, string method) => r switch
    {
        Resource.Minions or Resource.Jobs or Resource.Keys => method == "POST" ? 0 : 1,
        Resource.WebSocket => 1,
        Resource.Hook or Resource.App => int.MaxValue,
        _ => 0,
    };

    /// <summary>Resources whose class has CherryPy sessions on (they refresh the session cookie).</summary>
    public static bool HasSession(Resource r, string method) => r switch
    {
        Resource.Root => method == "POST",
        Resource.Token or Resource.Run or Resource.App => false,
        Resource.Keys => method != "POST",
        _ => true,
    };

    /// <summary>
    /// Resources whose POST carries credentials rather than a session: they wait for the master's verdict in
    /// the login throttle (a refusal is held ~1 s by Salt's anti-timing delay), never in a request slot.
    /// </summary>
    public static bool CarriesCredentials(Resource r, string method) =>
        method == "POST" && r is Resource.Login or Resource.Token or Resource.Run or Resource.Keys;

    /// <summary>Resources that run inside the request gate (event streams and WebSockets hold no slot).</summary>
    public static bool Gated(Resource r) => r is not (Resource.Events or Resource.WebSocket);

    /// <summary>Whether an unexpected error answers as negotiated data (off where the output is raw).</summary>
    public static bool ErrorsAsData(Resource r, string method) =>
        r is not (Resource.Events or Resource.WebSocket or Resource.App) && !(r == Resource.Keys && method == "POST");
}
