namespace SaltApi.NetapiKit.Routing;

/// <summary>
/// The JSON Schemas (2020-12, as OpenAPI 3.1 takes them) of the bodies Salt's netapi modules read and write, by
/// name: what <see cref="NetapiRoute.BodySchema"/> and <see cref="RouteAnswer.Schema"/> refer to. Shapes as in
/// Salt 3006's rest_cherrypy, rest_tornado and rest_wsgi, and their recorded answers.
/// </summary>
public static class OpenApiSchemas
{
    /// <summary>One lowstate chunk: the <c>client</c> and its arguments, with a token or eauth credentials.</summary>
    public const string LowstateChunk = "LowstateChunk";

    /// <summary>A list of lowstate chunks, run in order.</summary>
    public const string Lowstate = "Lowstate";

    /// <summary>A list of lowstate chunks, or one chunk (rest_cherrypy's lowdata_fmt wraps a single map).</summary>
    public const string LowstateOrChunk = "LowstateOrChunk";

    /// <summary><c>username</c>, <c>password</c>, <c>eauth</c>.</summary>
    public const string Credentials = "Credentials";

    /// <summary><c>{"return": [{"token", "expire", "start", "user", "eauth", "perms"}]}</c>.</summary>
    public const string LoginReturn = "LoginReturn";

    /// <summary>rest_cherrypy's <c>/token</c>: the master's token records, a bare list.</summary>
    public const string TokenList = "TokenList";

    /// <summary><c>{"return": "Welcome", "clients": [...]}</c>.</summary>
    public const string Welcome = "Welcome";

    /// <summary><c>{"return": [...]}</c>: one result per chunk.</summary>
    public const string Return = "Return";

    /// <summary>rest_cherrypy's <c>POST /minions</c>: the jobs and links to them.</summary>
    public const string JobLinks = "JobLinks";

    /// <summary>rest_cherrypy's <c>GET /jobs/{jid}</c>: the job's info and its returns by minion.</summary>
    public const string JobReturn = "JobReturn";

    /// <summary><c>{"status": ..., "return": "Please log in"}</c>.</summary>
    public const string LoginPrompt = "LoginPrompt";

    /// <summary><c>{"return": "Your token has been cleared"}</c>.</summary>
    public const string Logout = "Logout";

    /// <summary><c>{"success": true}</c>.</summary>
    public const string HookReturn = "HookReturn";

    /// <summary>Any JSON value (a webhook's body, the hook's data).</summary>
    public const string Any = "Any";

    /// <summary>rest_cherrypy's generic 500 as data: <c>{"status": 500, "return": "An unexpected error occurred"}</c>.</summary>
    public const string ErrorData = "ErrorData";

    /// <summary>rest_wsgi's answer to an error: <c>{"return": "401: ..."}</c>.</summary>
    public const string ErrorReturn = "ErrorReturn";

    /// <summary>CherryPy's cpstats tree.</summary>
    public const string Stats = "Stats";

    /// <summary>Text: an event stream, an HTML error page, a file.</summary>
    public const string Text = "Text";

    /// <summary>Bytes: a tarball, a file.</summary>
    public const string Binary = "Binary";

    /// <summary>The schemas by name, as JSON text.</summary>
    internal static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [LowstateChunk] = """
            {"type": "object", "description": "One lowstate chunk: the client to run and its arguments. Authenticated by the session (where the route takes one), by `token`, or by `username`, `password` and `eauth`.",
             "properties": {
              "client": {"type": "string", "description": "local, local_async, local_batch, local_subset, runner, runner_async, wheel, wheel_async, ssh (as netapi_enable_clients allows)"},
              "tgt": {"description": "The target", "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
              "tgt_type": {"type": "string", "description": "glob (default), pcre, list, grain, grain_pcre, pillar, pillar_pcre, nodegroup, range, compound, ipcidr"},
              "fun": {"description": "The function, or a list of functions", "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
              "arg": {"description": "Positional arguments", "anyOf": [{"type": "array"}, {"type": "string"}]},
              "kwarg": {"type": "object", "description": "Keyword arguments"},
              "timeout": {"type": "number"},
              "batch": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
              "jid": {"type": "string"},
              "token": {"type": "string", "description": "A Salt token (instead of eauth credentials)"},
              "username": {"type": "string"},
              "password": {"type": "string", "format": "password"},
              "eauth": {"type": "string", "description": "The external authentication backend (pam, file, ldap, ...)"}
             },
             "required": ["client"], "additionalProperties": true}
            """,
        [Lowstate] = """{"type": "array", "items": {"$ref": "#/components/schemas/LowstateChunk"}}""",
        [LowstateOrChunk] = """{"anyOf": [{"$ref": "#/components/schemas/Lowstate"}, {"$ref": "#/components/schemas/LowstateChunk"}]}""",
        [Credentials] = """
            {"type": "object", "properties": {"username": {"type": "string"}, "password": {"type": "string", "format": "password"}, "eauth": {"type": "string", "description": "pam, file, ldap, ..."}},
             "required": ["username", "password", "eauth"]}
            """,
        [LoginReturn] = """
            {"type": "object", "required": ["return"], "properties": {"return": {"type": "array", "items": {"type": "object",
             "properties": {"token": {"type": "string"}, "expire": {"type": "number"}, "start": {"type": "number"}, "user": {"type": "string"}, "eauth": {"type": "string"}, "perms": {}},
             "required": ["token", "expire", "start", "user", "eauth", "perms"]}}}}
            """,
        [TokenList] = """
            {"type": "array", "items": {"type": "object", "properties": {"start": {"type": "number"}, "expire": {"type": "number"}, "name": {"type": "string"}, "eauth": {"type": "string"}, "groups": {"type": "array", "items": {"type": "string"}}, "token": {"type": "string"}},
             "required": ["token", "expire", "start", "name", "eauth"]}}
            """,
        [Welcome] = """{"type": "object", "required": ["return", "clients"], "properties": {"return": {"const": "Welcome"}, "clients": {"type": "array", "items": {"type": "string"}}}}""",
        [Return] = """{"type": "object", "required": ["return"], "properties": {"return": {"type": "array", "description": "One result per lowstate chunk (a map by minion id, a job's jid and minions, a runner's return, ...)"}}}""",
        [JobLinks] = """
            {"type": "object", "required": ["return", "_links"], "properties": {"return": {"type": "array"},
             "_links": {"type": "object", "properties": {"jobs": {"type": "array", "items": {"type": "object", "properties": {"href": {"type": "string"}}}}}}}}
            """,
        [JobReturn] = """{"type": "object", "required": ["return"], "properties": {"info": {"type": "array"}, "return": {"type": "array"}}}""",
        [LoginPrompt] = """{"type": "object", "required": ["return"], "properties": {"status": {}, "return": {"const": "Please log in"}}}""",
        [Logout] = """{"type": "object", "required": ["return"], "properties": {"return": {"type": "string"}}}""",
        [HookReturn] = """{"type": "object", "required": ["success"], "properties": {"success": {"type": "boolean"}}}""",
        [Any] = "{}",
        [ErrorData] = """{"type": "object", "required": ["status", "return"], "properties": {"status": {"type": "integer"}, "return": {"type": "string"}}}""",
        [ErrorReturn] = """{"type": "object", "required": ["return"], "properties": {"return": {"type": "string", "description": "The status and Salt's message"}}}""",
        [Stats] = """{"type": "object", "description": "CherryPy's cpstats tree", "additionalProperties": true}""",
        [Text] = """{"type": "string"}""",
        [Binary] = """{"type": "string", "contentMediaType": "application/octet-stream"}""",
    };
}
