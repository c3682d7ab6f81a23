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
/// Endpoint metadata: a resource, the literal path segments it is mapped under (compared with the request
/// ordinally: CherryPy's URL tree is case-sensitive, ASP.NET Core routing is not) and its routes (<see cref="CherrypyRoutes"/>).
/// </summary>
internal sealed record ResourceEndpoint(Resource Resource, string[] Literal, IReadOnlyList<CherrypyRoute> Routes)
{
    private static readonly string[] Order = ["GET", "HEAD", "POST"];

    /// <summary>CherryPy's Allow value: the methods the class defines plus HEAD.</summary>
    public string Allow { get; } = string.Join(", ", Order.Where(m => Routes.Any(r => r.Spec.Methods.Contains(m))));

    /// <summary>The route answering <paramref name="method"/>, or null (CherryPy's 405).</summary>
    public CherrypyRoute? For(string method) => Routes.FirstOrDefault(r => r.Spec.Methods.Contains(method, StringComparer.Ordinal));
}
