using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;
using SaltApi.Plugins.RestCherrypyCompat.Config;
using SaltApi.Plugins.RestCherrypyCompat.Events;
using SaltApi.Plugins.RestCherrypyCompat.Formats;
using SaltApi.Plugins.RestCherrypyCompat.Http;
using SaltApi.Plugins.RestCherrypyCompat.Keys;
using SaltApi.Plugins.RestCherrypyCompat.Sessions;
using SaltApi.Plugins.RestCherrypyCompat.Stats;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary>
/// The rest_cherrypy application: one terminal request handler that walks Salt's pipeline
/// (spec/05 §3) and dispatches to the resources of §6.
/// </summary>
internal sealed class CherrypyApp(CherrypyOptions options, INetapiClient client, IEventStream events, ILogger logger, TimeProvider time, bool tls) : IDisposable
{
    /// <summary>The Salt release whose rest_cherrypy this module reproduces; sent as <c>X-Salt-Version</c> (pepper reads it).</summary>
    public const string SaltVersion = "3006.0";

    private const string SessionCookie = "session_id";
    private static readonly string[] HookTagBase = ["salt", "netapi", "hook"];

    private readonly SessionValidator sessions = new(client, time);
    private readonly RequestStats stats = new(time);
    private readonly RequestGate gate = new(options.ThreadPool, options.QueueSize, TimeSpan.FromSeconds(60));

    // Every running and queued request may hold a whole body, as when bodies were read inside the gate.
    private readonly BodyBudget bodies = new(Math.Max(options.MaxRequestBodySize, 64 * 1024) * (options.ThreadPool + options.QueueSize));

    /// <summary>A body must have arrived whole within this time (CherryPy's socket_timeout is 10 s per read).</summary>
    internal static readonly TimeSpan BodyTimeout = TimeSpan.FromSeconds(30);

    /// <inheritdoc/>
    public void Dispose() => gate.Dispose();

    /// <summary>The validator, for tests.</summary>
    internal SessionValidator Sessions => sessions;

    /// <summary>Handles one request.</summary>
    public async Task HandleAsync(HttpContext ctx)
    {
        var started = Stopwatch.GetTimestamp();
        stats.Begin();
        var call = new Call(ctx);
        try
        {
            await DispatchAsync(call);
        }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            await FailAsync(call, e);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away mid-stream: nothing left to answer.
        }
        catch (Exception e)
        {
            // As CherryPy for a streamed response: an error after the headers just closes the connection.
            if (logger.IsEnabled(LogLevel.Warning))
            {
                logger.LogWarning("{Path}: stream ended by an error: {Message}", LogPath(ctx.Request), e.Message);
            }

            ctx.Abort();
        }
        finally
        {
            bodies.Release(call.Reserved);
            var elapsed = Stopwatch.GetElapsedTime(started);
            stats.End(ctx.Request.ContentLength ?? 0, ctx.Response.ContentLength ?? 0, elapsed);
            if (logger.IsEnabled(LogLevel.Debug))
            {
                // Our access line (the framework's logs the query and /ws/<token>): path redacted, no query.
                logger.LogDebug("{Method} {Path} {Status} {Elapsed} ms", ctx.Request.Method, LogPath(ctx.Request), ctx.Response.StatusCode, (long)elapsed.TotalMilliseconds);
            }
        }
    }

    private sealed class Call(HttpContext ctx)
    {
        public HttpContext Ctx { get; } = ctx;

        public HttpRequest Request => Ctx.Request;

        public HttpResponse Response => Ctx.Response;

        public CancellationToken Aborted => Ctx.RequestAborted;

        /// <summary>Unexpected errors answer the negotiated JSON/YAML body (hypermedia_out); off for raw outputs.</summary>
        public bool GenericErrorAsData { get; set; }

        private byte[]? body;
        private bool bodyRead;
        private bool bodyIsForm;

        /// <summary>The body read before the gate (null when there was none); see <see cref="Prefetched"/>.</summary>
        public byte[]? Body { get; set; }

        /// <summary>Whether <see cref="Body"/> holds the request body.</summary>
        public bool Prefetched { get; set; }

        /// <summary>Bytes this request holds in the body budget.</summary>
        public long Reserved { get; set; }

        /// <summary>The request body as text for hooks ("" for a form or no body); null before it was read.</summary>
        /// <remarks>Decoded only when asked for: most requests never need it.</remarks>
        public string? RawBody => !bodyRead ? null : body is null || bodyIsForm ? "" : Encoding.UTF8.GetString(body);

        public void SetRawBody(byte[]? bytes, bool isForm)
        {
            body = bytes;
            bodyIsForm = isForm;
            bodyRead = true;
        }
    }

    // ------------------------------------------------------------ pipeline

    private async Task DispatchAsync(Call call)
    {
        var req = call.Request;
        var resp = call.Response;
        resp.Headers["X-Salt-Version"] = SaltVersion;
        resp.Headers.Vary = "Accept-Encoding";

        var path = req.Path.Value ?? "/";
        if (options.RootPrefix != "/")
        {
            if (!(path == options.RootPrefix || path.StartsWith(options.RootPrefix + "/", StringComparison.Ordinal)))
            {
                throw new HttpError(404, $"The path '{path}' was not found.");
            }

            path = path[options.RootPrefix.Length..];
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        AddCors(call);

        if (req.Method == "OPTIONS")
        {
            // Deliberate difference: Salt answers the preflight with a 500 on every resource that has
            // sessions on (Salt issue #14058); we answer 200 everywhere.
            await PreflightAsync(call);
            return;
        }

        if (await TryStaticAsync(call, segments))
        {
            return;
        }

        var (resource, args) = Route(segments);
        if (resource is null)
        {
            throw new HttpError(404, $"The path '{path}' was not found.");
        }

        var r = resource.Value;
        resp.Headers.Allow = Resources.Allow(r);
        if (!Resources.Allows(r, req.Method))
        {
            throw new HttpError(405);
        }

        if (args.Length > Resources.MaxArgs(r, req.Method))
        {
            throw new HttpError(404, $"The path '{path}' was not found.");
        }

        var gated = r is not (Resource.Events or Resource.WebSocket);
        if (gated && HttpMethods.IsPost(req.Method))
        {
            // The body is read before a slot is taken: a client that sends it slowly holds a connection,
            // never a slot of the gate (bounded by the body budget, BodyTimeout and Kestrel's data rate).
            call.Body = await ReadBodyAsync(call);
            call.Prefetched = true;
        }

        if (gated && !await gate.EnterAsync(call.Aborted))
        {
            throw new HttpError(503);
        }

        try
        {
            await ServeAsync(call, r, args);
        }
        finally
        {
            if (gated)
            {
                gate.Exit();
            }
        }
    }

    private async Task ServeAsync(Call call, Resource r, string[] args)
    {
        var req = call.Request;
        var resp = call.Response;
        call.GenericErrorAsData = r is not (Resource.Events or Resource.WebSocket or Resource.App) && !(r == Resource.Keys && req.Method == "POST");

        // Session tool: X-Auth-Token, when present, replaces the cookie.
        SaltToken? session = null;
        if (Resources.HasSession(r, req.Method) && r is not (Resource.Events or Resource.WebSocket))
        {
            session = await sessions.ValidateAsync(SessionId(req), call.Aborted);
            if (session is not null && !ApiAclAllows(session.Name, RemoteIp(call.Ctx)))
            {
                throw new HttpError(401); // api_acl on every path, not only /login (see ApiAclAllows)
            }

            if (session is not null)
            {
                SetSessionCookie(resp, session);
            }
        }

        if (NeedsSessionAuth(r, req.Method))
        {
            if (session is null)
            {
                throw new HttpError(401);
            }

            resp.Headers.CacheControl = "private";
        }

        CheckAuthorizedIp(call);

        switch (r)
        {
            case Resource.Root when req.Method == "POST":
            case Resource.Jobs when req.Method == "POST":
                await RespondAsync(call, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["return"] = await ExecAsync(call, await ReadLowstateAsync(call), session!.Token, null),
                });
                break;
            case Resource.Root:
            case Resource.Token when req.Method != "POST":
            case Resource.Run when req.Method != "POST":
                await RespondAsync(call, Welcome());
                break;
            case Resource.Login:
                await LoginAsync(call);
                break;
            case Resource.Logout when req.Method == "POST":
                await LogoutAsync(call, session!);
                break;
            case Resource.Logout:
                // Deliberate difference: Salt 3006's inherited GET crashes here (a 500); only POST logs out.
                call.Response.Headers.Allow = "POST";
                throw new HttpError(405);
            case Resource.Token:
                await TokenAsync(call);
                break;
            case Resource.Run:
                await RespondAsync(call, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["return"] = await ExecAsync(call, await ReadLowstateAsync(call), null, null),
                });
                break;
            case Resource.Minions:
                await MinionsAsync(call, session!, args);
                break;
            case Resource.Jobs:
                await JobsAsync(call, session!, args);
                break;
            case Resource.Keys:
                await KeysAsync(call, session, args);
                break;
            case Resource.Events:
                await EventsAsync(call);
                break;
            case Resource.WebSocket:
                await WebSocketAsync(call, args);
                break;
            case Resource.Hook:
                await HookAsync(call, args);
                break;
            case Resource.Stats:
                await RespondAsync(call, stats.Snapshot(options.CollectStats));
                break;
            case Resource.App:
                await AppAsync(call);
                break;
        }
    }

    private (Resource? Resource, string[] Args) Route(string[] segments)
    {
        if (segments.Length == 0)
        {
            return (Resource.Root, []);
        }

        var name = segments[0];
        var args = segments[1..];
        Resource? r = name switch
        {
            "login" or "logout" or "minions" or "jobs" when !options.EnableSessions => null,
            "login" => Resource.Login,
            "logout" => Resource.Logout,
            "token" => Resource.Token,
            "run" => Resource.Run,
            "minions" => Resource.Minions,
            "jobs" => Resource.Jobs,
            "keys" => Resource.Keys,
            "events" => Resource.Events,
            "ws" => Resource.WebSocket,
            "stats" => Resource.Stats,
            _ => null,
        };
        if (r is null)
        {
            var hook = options.WebhookUrl.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (hook.Length > 0 && segments.Length >= hook.Length && segments.Take(hook.Length).SequenceEqual(hook, StringComparer.Ordinal))
            {
                return (Resource.Hook, segments[hook.Length..]);
            }

            var app = options.AppPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (app.Length > 0 && segments.Length >= app.Length && segments.Take(app.Length).SequenceEqual(app, StringComparer.Ordinal))
            {
                return (Resource.App, segments[app.Length..]);
            }
        }

        return (r, args);
    }

    private bool NeedsSessionAuth(Resource r, string method) => r switch
    {
        Resource.Root or Resource.Jobs => method == "POST" || r == Resource.Jobs,
        Resource.Logout or Resource.Minions => true,
        Resource.Hook => !options.WebhookDisableAuth,
        Resource.Stats => !options.StatsDisableAuth,
        _ => false,
    };

    private static string? SessionId(HttpRequest req)
    {
        var header = req.Headers["X-Auth-Token"].ToString();
        if (header.Length > 0)
        {
            return header.Trim();
        }

        return req.Cookies.TryGetValue(SessionCookie, out var cookie) ? cookie : null;
    }

    private void SetSessionCookie(HttpResponse resp, SaltToken session)
    {
        // The session lives as long as the Salt token: never longer (Salt #42622, #49993).
        var seconds = (long)Math.Max(0, session.Expire - sessions.Now);
        var expires = time.GetUtcNow().AddSeconds(seconds);
        resp.Headers.SetCookie = $"{SessionCookie}={session.Token}; expires={expires.ToString("ddd, dd MMM yyyy HH:mm:ss", CultureInfo.InvariantCulture)} GMT; Max-Age={seconds}; Path=/; HttpOnly; SameSite=Lax{(tls ? "; Secure" : "")}";
    }

    private void CheckAuthorizedIp(Call call)
    {
        if (options.AuthorizedIps.Count == 0)
        {
            return;
        }

        var ip = RemoteIp(call.Ctx);
        if (!options.AuthorizedIps.Contains(ip, StringComparer.OrdinalIgnoreCase))
        {
            throw new HttpError(403, "Bad IP");
        }
    }

    private static string RemoteIp(HttpContext ctx)
    {
        var ip = ctx.Connection.RemoteIpAddress;
        if (ip is null)
        {
            return "";
        }

        return (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString();
    }

    // ------------------------------------------------------------ CORS

    private bool AnyOrigin => options.CorsOrigins.Contains("*");

    private bool OriginAllowed(string origin) =>
        origin.Length > 0 && (AnyOrigin || options.CorsOrigins.Any(o => string.Equals(o.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)));

    // Deliberate difference: Salt reflects every Origin with credentials allowed; we send CORS
    // headers only for origins listed in our `cors_origin` option (none by default). With `*` the
    // answer is `Access-Control-Allow-Origin: *` without credentials, as the Fetch standard requires:
    // the Origin (`null` included) is never reflected, so no page can send the session cookie.
    private void AddCors(Call call)
    {
        var origin = call.Request.Headers.Origin.ToString();
        if (!OriginAllowed(origin))
        {
            return;
        }

        var h = call.Response.Headers;
        h.AccessControlExposeHeaders = "X-Auth-Token, X-Salt-Version";
        if (AnyOrigin)
        {
            h.AccessControlAllowOrigin = "*";
            return;
        }

        h.AccessControlAllowOrigin = origin;
        h.AccessControlAllowCredentials = "true";
        h.Append("Vary", "Origin");
    }

    private async Task PreflightAsync(Call call)
    {
        var h = call.Response.Headers;
        var method = call.Request.Headers.AccessControlRequestMethod.ToString();
        if (OriginAllowed(call.Request.Headers.Origin.ToString()) && method is "GET" or "POST" or "HEAD")
        {
            h.AccessControlAllowMethods = "GET, POST";
            h.AccessControlAllowHeaders = "Content-Type, X-Auth-Token, X-Requested-With";
            h.AccessControlMaxAge = "1400";
        }

        call.Response.StatusCode = 200;
        call.Response.ContentType = "text/html";
        call.Response.ContentLength = 0;
        await Task.CompletedTask;
    }

    // ------------------------------------------------------------ input / output

    private async Task<byte[]?> ReadBodyAsync(Call call)
    {
        if (call.Prefetched)
        {
            return call.Body;
        }

        var req = call.Request;
        if (req.ContentLength == 0)
        {
            return null;
        }

        if (req.ContentLength > options.MaxRequestBodySize)
        {
            throw new HttpError(413);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(call.Aborted);
        timeout.CancelAfter(BodyTimeout);
        try
        {
            return await ReadBoundedAsync(call, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !call.Aborted.IsCancellationRequested)
        {
            throw new HttpError(408, "The request body did not arrive in time");
        }
    }

    private async Task<byte[]?> ReadBoundedAsync(Call call, CancellationToken cancellationToken)
    {
        var req = call.Request;

        // For speed, a small body of known length is read straight into its own array.
        if (req.ContentLength is <= 64 * 1024 and { } length)
        {
            Reserve(call, length);
            var body = new byte[length];
            var read = 0;
            int got;
            while (read < body.Length && (got = await req.Body.ReadAsync(body.AsMemory(read), cancellationToken)) > 0)
            {
                read += got;
            }

            return read == body.Length ? body : read == 0 ? null : body[..read];
        }

        // Larger or chunked bodies grow as they arrive, each piece reserved in the budget first.
        // Deliberate difference: a chunked body (no Content-Length) is read; CherryPy ignores it.
        using var ms = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await req.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (ms.Length + n > options.MaxRequestBodySize)
                {
                    throw new HttpError(413);
                }

                Reserve(call, n);
                ms.Write(buffer, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return ms.Length == 0 ? null : ms.ToArray();
    }

    private void Reserve(Call call, long bytes)
    {
        if (!bodies.TryReserve(bytes))
        {
            throw new HttpError(503);
        }

        call.Reserved += bytes;
    }

    private async Task<object?> ReadDataAsync(Call call)
    {
        var body = await ReadBodyAsync(call);
        var data = BodyParser.Parse(call.Request.ContentType, body);
        call.SetRawBody(body, BodyParser.MediaType(call.Request.ContentType) == "application/x-www-form-urlencoded");
        return data;
    }

    private async Task<object?> ReadLowstateAsync(Call call) => Lowstate.Shape(await ReadDataAsync(call));

    private async Task<List<object?>> ExecAsync(Call call, object? lowstate, string? token, string? forceClient)
    {
        var chunks = Lowstate.RequireMaps(lowstate);
        var results = new List<object?>();
        foreach (var chunk in chunks)
        {
            var low = Lowstate.PrepareChunk(chunk, token, forceClient);
            await CheckCredentialsAsync(call, low);
            results.AddRange(await client.RunAsync(low, call.Aborted));
        }

        return results;
    }

    // Every path that runs a lowstate (/, /run, /minions, /jobs, /keys): a token that a logout here could
    // not delete on the master is refused, and api_acl is checked for the chunk's user (its eauth
    // username, or its token's user).
    private async Task CheckCredentialsAsync(Call call, IReadOnlyDictionary<string, object?> low)
    {
        var tok = low.GetValueOrDefault("token") as string;
        if (tok is not null && sessions.IsRevoked(tok))
        {
            throw new SaltAuthenticationException("Authentication error occurred.", "AuthenticationError");
        }

        if (options.ApiAclUsers is null)
        {
            return;
        }

        var user = tok is not null ? (await sessions.ValidateAsync(tok, call.Aborted))?.Name : low.GetValueOrDefault("username") as string;
        if (tok is not null && user is null)
        {
            return; // an unknown token: the master refuses it
        }

        if (!ApiAclAllows(user, RemoteIp(call.Ctx)))
        {
            throw new HttpError(401);
        }
    }

    private static async Task RespondAsync(Call call, object? value, int status = 200)
    {
        var accept = call.Request.Headers.Accept.ToString();
        var format = MediaNegotiation.Choose(accept) ?? throw new HttpError(406, MediaNegotiation.NotAcceptableMessage(accept));
        string text;
        try
        {
            text = format == OutputFormat.Json ? SaltJson.Serialize(value) : Yaml.Dump(value);
        }
        catch (InvalidOperationException)
        {
            throw new HttpError(500, "Could not serialize the return data from Salt.");
        }

        // For speed, the text is encoded straight into Kestrel's response buffers (no byte[] copy).
        var resp = call.Response;
        resp.StatusCode = status;
        resp.ContentType = MediaNegotiation.ContentType(format);
        resp.ContentLength = Encoding.UTF8.GetByteCount(text);
        if (!HttpMethods.IsHead(call.Request.Method))
        {
            Encoding.UTF8.GetBytes(text, resp.BodyWriter);
            await resp.BodyWriter.FlushAsync(call.Aborted);
        }
    }

    private static async Task WriteAsync(Call call, int status, string contentType, byte[] bytes)
    {
        var resp = call.Response;
        resp.StatusCode = status;
        resp.ContentType = contentType;
        resp.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(call.Request.Method))
        {
            await resp.Body.WriteAsync(bytes, call.Aborted);
        }
    }

    private async Task FailAsync(Call call, Exception e)
    {
        var (status, message) = e switch
        {
            HttpError h => (h.Status, h.Message),
            BadHttpRequestException b when b.StatusCode == 413 => (413, ErrorPage.DefaultMessage(413)),
            BadHttpRequestException b => (b.StatusCode, b.Message),
            SaltApiException s => s.Kind switch
            {
                SaltErrorKind.Authentication or SaltErrorKind.Authorization => (401, s.Message),
                SaltErrorKind.Invocation => (400, s.Message),
                SaltErrorKind.MasterUnavailable => (503, s.Message),
                SaltErrorKind.Timeout => (504, ErrorPage.DefaultMessage(504)),
                _ => (0, s.Message),
            },
            _ => (0, e.Message),
        };

        if (status == 0 || (status == 500 && e is not HttpError))
        {
            if (logger.IsEnabled(LogLevel.Debug))
            {
                logger.LogDebug(e, "Error while processing request for: {Path}", LogPath(call.Request));
            }

            if (call.GenericErrorAsData)
            {
                // As Salt's hypermedia_handler: the generic 500 is data, negotiated like a result.
                var body = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["status"] = 500L,
                    ["return"] = options.Debug ? e.ToString() : "An unexpected error occurred",
                };
                try
                {
                    await RespondAsync(call, body, 500);
                    return;
                }
                catch (HttpError h)
                {
                    (status, message) = (h.Status, h.Message);
                }
            }
            else
            {
                (status, message) = (500, ErrorPage.DefaultMessage(500));
            }
        }

        if (status >= 500 && logger.IsEnabled(LogLevel.Warning))
        {
            logger.LogWarning("{Status} for {Method} {Path}: {Message}", status, call.Request.Method, LogPath(call.Request), message);
        }

        var page = Encoding.UTF8.GetBytes(ErrorPage.Render(status, message, options.Debug ? e.ToString() : ""));
        await WriteAsync(call, status, ErrorPage.ContentType, page);
    }

    /// <summary>
    /// The request path for logs: the token of <c>/ws/&lt;token&gt;</c> left out, the query never
    /// included (<c>?token=</c>), control characters escaped so that a path cannot forge a log line.
    /// </summary>
    internal static string LogPath(HttpRequest req)
    {
        const int MinTokenLength = 32;
        var path = req.Path.Value ?? "/";
        var ws = path.IndexOf("/ws/", StringComparison.Ordinal);
        path = ws >= 0 ? path[..(ws + 4)] + "***" : path;
        var sb = new StringBuilder(path.Length + 16);
        var hex = 0;
        foreach (var c in path)
        {
            _ = char.IsControl(c) ? sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)) : sb.Append(c);
            hex = char.IsAsciiHexDigit(c) ? hex + 1 : 0;
            if (hex == MinTokenLength)
            {
                // A token anywhere in a path (a client that put it in the wrong place): 32+ hex digits
                // (Salt's tokens are hex digests; jids have 20 digits) are left out.
                sb.Length -= MinTokenLength;
                sb.Append("***");
            }
            else if (hex > MinTokenLength)
            {
                sb.Length--;
            }
        }

        return sb.ToString();
    }

    // ------------------------------------------------------------ handlers

    private OrderedDictionary<string, object?> Welcome() => new(StringComparer.Ordinal)
    {
        ["return"] = "Welcome",
        ["clients"] = client.Clients.Cast<object?>().ToList(),
    };

    private async Task LoginAsync(Call call)
    {
        if (call.Request.Method != "POST")
        {
            call.Response.Headers.WWWAuthenticate = "Session";
            await RespondAsync(call, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["status"] = null,
                ["return"] = "Please log in",
            });
            return;
        }

        var data = Lowstate.Shape(await ReadDataAsync(call));
        var creds = data is List<object?> { Count: > 0 } list ? list[0] : data;
        if (creds is not OrderedDictionary<string, object?> map)
        {
            // Deliberate difference: a body-less login is an AttributeError in Salt (the generic 500).
            throw new HttpError(401, "Could not authenticate using provided credentials");
        }

        var username = map.GetValueOrDefault("username");
        if (!ApiAclAllows(username as string, RemoteIp(call.Ctx)))
        {
            throw new HttpError(401);
        }

        SaltToken? token = null;
        if (map.GetValueOrDefault("eauth") is string && username is string && map.GetValueOrDefault("password") is { } pw)
        {
            // As Login.POST: the whole credentials map goes to mk_token (token_expire, extra eauth fields).
            var whole = new OrderedDictionary<string, object?>(map, StringComparer.Ordinal) { ["password"] = Lowstate.Text(pw) };
            token = await client.MakeTokenAsync(whole, call.Aborted);
        }

        if (token is null)
        {
            throw new HttpError(401, "Could not authenticate using provided credentials");
        }

        sessions.Remember(token);
        call.Response.Headers["X-Auth-Token"] = token.Token;
        SetSessionCookie(call.Response, token);
        IReadOnlyList<object?>? perms = null;
        try
        {
            perms = client.Permissions(token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug(e, "permissions of a token could not be computed");
        }

        await RespondAsync(call, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["return"] = new List<object?>
            {
                new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["token"] = token.Token,
                    ["expire"] = token.Expire,
                    ["start"] = token.Start,
                    ["user"] = token.Name,
                    ["eauth"] = token.Eauth,
                    ["perms"] = perms is { Count: > 0 } ? perms : new OrderedDictionary<string, object?>(),
                },
            },
        });
    }

    // As Salt's salt_api_acl_tool. Deliberate difference: Salt checks it at /login only, so /token, /run,
    // POST /keys and eauth lowstates took credentials from any address; here every path that takes
    // credentials or a session checks the user's address.
    private bool ApiAclAllows(string? username, string ip)
    {
        if (options.ApiAclUsers is not { } users)
        {
            return true;
        }

        if (username is not null && users.TryGetValue(username, out var ips))
        {
            return ips.Contains(ip) || ips.Contains("*");
        }

        return users.TryGetValue("*", out var any) && (any.Contains(ip) || any.Contains("*"));
    }

    private async Task LogoutAsync(Call call, SaltToken session)
    {
        // Deliberate difference: Salt's logout leaves the token valid on the master. The master is the
        // source of truth here: the token is deleted there (its localfs file, or runner auth.del_token),
        // so every daemon and every path refuses it at once. Only when that fails does this daemon keep it
        // refused itself, in a bounded list that never silently drops a revocation.
        sessions.Forget(session);
        var removed = false;
        using (var bounded = CancellationTokenSource.CreateLinkedTokenSource(call.Aborted))
        {
            bounded.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                removed = await client.RemoveTokenAsync(session.Token, bounded.Token);
            }
            catch (Exception e) when (e is SaltApiException or OperationCanceledException && !call.Aborted.IsCancellationRequested)
            {
                if (logger.IsEnabled(LogLevel.Debug))
                {
                    logger.LogDebug("token not deleted on the master at logout: {Message}", e.Message);
                }
            }
        }

        if (!removed && !sessions.Revoke(session))
        {
            logger.LogError("logout of user {User}: the master kept the token and the list of revoked tokens is full; the token stays valid until it expires", session.Name);
            throw new HttpError(503, "The session could not be ended: try again later");
        }

        var past = time.GetUtcNow().AddYears(-1);
        call.Response.Headers.SetCookie = $"{SessionCookie}=; expires={past.ToString("ddd, dd MMM yyyy HH:mm:ss", CultureInfo.InvariantCulture)} GMT; Path=/; HttpOnly; SameSite=Lax{(tls ? "; Secure" : "")}";
        await RespondAsync(call, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["return"] = "Your token has been cleared",
        });
    }

    private async Task TokenAsync(Call call)
    {
        var lowstate = await ReadLowstateAsync(call);
        var chunks = Lowstate.RequireList(lowstate);
        var tokens = new List<object?>();
        foreach (var chunk in chunks)
        {
            if (chunk is not OrderedDictionary<string, object?> creds ||
                !creds.TryGetValue("username", out var user) || !creds.TryGetValue("password", out var pw) || !creds.TryGetValue("eauth", out var eauth))
            {
                throw new HttpError(400, "Require \"username\", \"password\", and \"eauth\" params");
            }

            if (!ApiAclAllows(user as string, RemoteIp(call.Ctx)))
            {
                throw new HttpError(401);
            }

            // Salt runs the runner auth.mk_token here (needing @runner rights); the master's
            // mk_token gives the same token without them, as /login does.
            var token = await client.MakeTokenAsync(Lowstate.Text(eauth), Lowstate.Text(user), Lowstate.Text(pw), call.Aborted)
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

        await RespondAsync(call, tokens);
    }

    private async Task MinionsAsync(Call call, SaltToken session, string[] args)
    {
        if (call.Request.Method != "POST")
        {
            var low = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["client"] = "local",
                ["tgt"] = args.Length > 0 ? args[0] : "*",
                ["fun"] = "grains.items",
            };
            await RespondAsync(call, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["return"] = await ExecAsync(call, new List<object?> { low }, session.Token, null),
            });
            return;
        }

        var jobs = await ExecAsync(call, await ReadLowstateAsync(call), session.Token, "local_async");
        var links = jobs
            .OfType<IEnumerable<KeyValuePair<string, object?>>>()
            .Select(j => j.FirstOrDefault(kv => kv.Key == "jid").Value)
            .Where(jid => jid is not null)
            .Select(jid => (object?)new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["href"] = "/jobs/" + Lowstate.Text(jid) })
            .ToList();
        await RespondAsync(call, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["return"] = jobs,
            ["_links"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["jobs"] = links },
        }, 202);
    }

    private async Task JobsAsync(Call call, SaltToken session, string[] args)
    {
        var low = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["client"] = "runner" };
        if (args.Length > 0)
        {
            low["fun"] = "jobs.list_job";
            low["jid"] = args[0];
        }
        else
        {
            low["fun"] = "jobs.list_jobs";
        }

        var result = await ExecAsync(call, new List<object?> { low }, session.Token, null);
        var first = result.Count > 0 ? result[0] : null;
        var ret = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        if (args.Length > 0)
        {
            ret["info"] = new List<object?> { first };
            var minionRet = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            if (AsMap(first)?.GetValueOrDefault("Result") is { } returns && AsMap(returns) is { } byMinion)
            {
                foreach (var (mid, r) in byMinion)
                {
                    minionRet[mid] = AsMap(r)?.GetValueOrDefault("return");
                }
            }

            ret["return"] = new List<object?> { minionRet };
        }
        else
        {
            ret["return"] = new List<object?> { first };
        }

        await RespondAsync(call, ret);
    }

    private static Dictionary<string, object?>? AsMap(object? v) => CherrypyOptions.Map(v) is { } m ? m : null;

    private static IEnumerable<KeyValuePair<string, object?>>? Ordered(object? v) => v as IEnumerable<KeyValuePair<string, object?>>;

    private static object? Get(object? map, string key) =>
        Ordered(map)?.FirstOrDefault(kv => kv.Key == key).Value;

    private async Task KeysAsync(Call call, SaltToken? session, string[] args)
    {
        if (call.Request.Method != "POST")
        {
            var low = args.Length > 0
                ? new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["client"] = "wheel", ["fun"] = "key.finger", ["match"] = args[0] }
                : new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["client"] = "wheel", ["fun"] = "key.list_all" };
            var result = await ExecAsync(call, new List<object?> { low }, session?.Token, null);
            var ret = result.Count > 0 ? Get(Get(result[0], "data"), "return") : null;
            await RespondAsync(call, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["return"] = ret ?? new OrderedDictionary<string, object?>(),
            });
            return;
        }

        // As Salt's Keys.POST: no output negotiation (the answer is a tarball); errors are HTML pages.
        // Deliberate difference: Salt turns every failure there, bad credentials included, into a 500 page.
        var lowstate = Lowstate.RequireList(await ReadLowstateAsync(call));
        if (lowstate.Count == 0 || lowstate[0] is not OrderedDictionary<string, object?> first)
        {
            throw new HttpError(400, "A key request needs \"mid\" and credentials");
        }

        first["client"] = "wheel";
        first["fun"] = "key.gen_accept";
        if (first.Remove("mid", out var mid))
        {
            first["id_"] = mid;
        }

        // Checked before the master accepts a key: an id Salt's valid_id refuses, or one that could not
        // be put in the Content-Disposition header, is a 400 with nothing done.
        var id = MinionId.Valid(first.GetValueOrDefault("id_") ?? throw new HttpError(400, "A key request needs \"mid\""))
            ?? throw new HttpError(400, "Invalid minion id: \"mid\" must be a plain name (no path separators, control characters, \".\" or \"..\")");
        first["id_"] = id;
        var results = await ExecAsync(call, new List<object?> { first }, null, null);
        var keys = results.Count > 0 ? Get(Get(results[0], "data"), "return") : null;
        var tar = KeyTarball.Build(Lowstate.Text(Get(keys, "pub")), Lowstate.Text(Get(keys, "priv")));
        var h = call.Response.Headers;
        h.ContentDisposition = MinionId.ContentDisposition(id);
        h.CacheControl = "no-cache";
        await WriteAsync(call, 200, "application/x-tar", tar);
    }

    private async Task<SaltToken?> EventTokenAsync(Call call)
    {
        var q = call.Request.Query;
        var candidate = new[] { q["token"].ToString(), q["salt_token"].ToString(), SessionId(call.Request) ?? "" }
            .FirstOrDefault(s => s.Length > 0);
        var token = await sessions.ValidateAsync(candidate, call.Aborted);
        return token is not null && ApiAclAllows(token.Name, RemoteIp(call.Ctx)) ? token : null;
    }

    private async Task EventsAsync(Call call)
    {
        var token = await EventTokenAsync(call) ?? throw new HttpError(401);
        var resp = call.Response;
        resp.StatusCode = 200;
        resp.ContentType = "text/event-stream;charset=utf-8";
        resp.Headers.CacheControl = "no-cache";
        resp.Headers.Connection = "keep-alive";
        if (HttpMethods.IsHead(call.Request.Method))
        {
            return;
        }

        // A quiet stream, or a reader that pauses, is not a slow client: no minimum response rate here
        // (a reader that falls too far behind is dropped by the event stream's own bound).
        if (call.Ctx.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        // Every event to every client: each stream has its own subscription (Salt issue #35798).
        using var sub = events.Subscribe();
        await resp.WriteAsync(Sse.Preamble, call.Aborted);
        await resp.Body.FlushAsync(call.Aborted);
        var sb = new StringBuilder(4096);
        var reader = sub.Reader;
        try
        {
            while (await reader.WaitToReadAsync(call.Aborted))
            {
                // Write what is queued, then flush once: streamed as it happens, no per-event sleep.
                while (sb.Length < 256 * 1024 && reader.TryRead(out var e))
                {
                    if (token.Expire <= sessions.Now || await sessions.ValidateAsync(token.Token, call.Aborted) is null)
                    {
                        await FlushAsync(resp, sb, call.Aborted);
                        return;
                    }

                    Sse.Append(sb, e);
                }

                await FlushAsync(resp, sb, call.Aborted);
            }
        }
        catch (EventStreamOverflowException)
        {
            logger.LogWarning("an /events client fell behind the bus and was disconnected");
        }
        catch (SaltApiException e)
        {
            logger.LogWarning("/events stream ended: {Message}", e.Message);
        }
    }

    private static async Task FlushAsync(HttpResponse resp, StringBuilder sb, CancellationToken ct)
    {
        if (sb.Length == 0)
        {
            return;
        }

        await resp.WriteAsync(sb.ToString(), ct);
        sb.Clear();
        await resp.Body.FlushAsync(ct);
    }

    private async Task WebSocketAsync(Call call, string[] args)
    {
        SaltToken? token = null;
        if (args.Length > 0)
        {
            token = await sessions.ValidateAsync(args[0], call.Aborted);
        }

        token ??= await sessions.ValidateAsync(SessionId(call.Request), call.Aborted);
        if (token is null || !ApiAclAllows(token.Name, RemoteIp(call.Ctx)))
        {
            throw new HttpError(401);
        }

        if (!call.Ctx.WebSockets.IsWebSocketRequest)
        {
            throw new HttpError(400, "WebSocket upgrade required");
        }

        var formatEvents = call.Request.Query.ContainsKey("format_events");
        using var ws = await call.Ctx.WebSockets.AcceptWebSocketAsync();
        using var sendLock = new SemaphoreSlim(1, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(call.Aborted);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task SendAsync(string text)
        {
            await sendLock.WaitAsync(stop.Token);
            try
            {
                await ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, stop.Token);
            }
            finally
            {
                sendLock.Release();
            }
        }

        Task ReceiveAsync() => WebSocketMessages.ReceiveAsync(ws, () => ready.TrySetResult(), () => SendAsync("server received message"), stop.Token);

        async Task PumpAsync()
        {
            await ready.Task.WaitAsync(stop.Token);
            using var sub = events.Subscribe();
            var info = formatEvents ? new SaltInfo() : null;
            await foreach (var e in sub.Reader.ReadAllAsync(stop.Token))
            {
                if (token.Expire <= sessions.Now)
                {
                    return;
                }

                if (info is null)
                {
                    await SendAsync(Sse.WebSocketFrame(e));
                    continue;
                }

                foreach (var frame in info.Process(e))
                {
                    await SendAsync(frame);
                }

                if (info.PendingGrainsTarget is { } tgt)
                {
                    _ = client.RunAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                    {
                        ["client"] = "local_async",
                        ["tgt"] = tgt,
                        ["tgt_type"] = "list",
                        ["fun"] = "grains.items",
                        ["token"] = token.Token,
                    }, stop.Token).ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                }
            }
        }

        var receive = ReceiveAsync();
        var pump = PumpAsync();
        try
        {
            await Task.WhenAny(receive, pump);
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await Task.WhenAll(receive, pump);
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or EventStreamOverflowException or SaltApiException)
            {
            }

            if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                try
                {
                    using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", closing.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or WebSocketException)
                {
                }
            }
        }
    }

    private async Task HookAsync(Call call, string[] args)
    {
        // Deliberate difference: a path whose (decoded) segments hold control characters (CR/LF from
        // %0d%0a or %250d%250a) would make a tag that forges lines in /events streams and logs; Salt
        // fires it. Refused before anything is read.
        if (args.Any(HasControl))
        {
            throw new HttpError(400, "Invalid hook path: control characters are not allowed in an event tag");
        }

        var data = await ReadDataAsync(call);
        if (data is OrderedDictionary<string, object?> map && map.Count > 0)
        {
            data = ((List<object?>)Lowstate.Shape(map)!)[0];
        }

        if (data is null || (data is OrderedDictionary<string, object?> { Count: 0 }))
        {
            data = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        }

        // As rest_cherrypy Webhook.POST: {body, post, headers} on salt/netapi/hook/<path>. Deliberate
        // differences: credential headers are left out (our session id is the Salt token itself, valid
        // on every daemon: on the bus anyone reading /events could replay it), and Remote-Addr is always
        // the socket's address (a client-sent Remote-Addr header never overwrites it).
        var headers = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["Remote-Addr"] = RemoteIp(call.Ctx) };
        foreach (var (name, value) in call.Request.Headers)
        {
            if (!HookHeaders.IsCredential(name))
            {
                headers[TitleCase(name)] = value.ToString();
            }
        }

        var tag = string.Join('/', HookTagBase.Concat(args));
        var ok = await client.FireEventAsync(tag, new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["body"] = call.RawBody ?? "",
            ["post"] = data,
            ["headers"] = headers,
        }, call.Aborted);
        await RespondAsync(call, new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["success"] = ok });
    }

    private static bool HasControl(string s)
    {
        foreach (var c in s)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>CherryPy's header names: each dash-separated part capitalised.</summary>
    internal static string TitleCase(string name) =>
        string.Join('-', name.Split('-').Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()));

    // ------------------------------------------------------------ app, static, favicon

    private async Task AppAsync(Call call)
    {
        byte[] bytes;
        if (options.App is { } file)
        {
            if (!File.Exists(file))
            {
                throw new HttpError(404, $"The path '{call.Request.Path.Value}' was not found.");
            }

            bytes = await File.ReadAllBytesAsync(file, call.Aborted);
        }
        else
        {
            bytes = Encoding.UTF8.GetBytes(DefaultApp);
        }

        await WriteAsync(call, 200, "text/html", bytes);
    }

    private async Task<bool> TryStaticAsync(Call call, string[] segments)
    {
        var req = call.Request;
        if (!HttpMethods.IsGet(req.Method) && !HttpMethods.IsHead(req.Method))
        {
            return false;
        }

        if (segments is ["favicon.ico"] && options.Favicon is { } favicon && File.Exists(favicon))
        {
            await WriteAsync(call, 200, "image/x-icon", await File.ReadAllBytesAsync(favicon, call.Aborted));
            return true;
        }

        var staticPath = options.StaticPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (options.Static is { } root && staticPath.Length > 0 && segments.Length > staticPath.Length &&
            segments.Take(staticPath.Length).SequenceEqual(staticPath, StringComparer.Ordinal))
        {
            var full = Path.GetFullPath(Path.Combine([root, .. segments[staticPath.Length..]]));
            var rootFull = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
            if (!full.StartsWith(rootFull, StringComparison.Ordinal) || !File.Exists(full))
            {
                throw new HttpError(404, $"The path '{req.Path.Value}' was not found.");
            }

            await WriteAsync(call, 200, ContentTypeOf(full), await File.ReadAllBytesAsync(full, call.Aborted));
            return true;
        }

        // As Salt's html_override_tool: a browser asking for HTML anywhere but the app/static gets the app.
        if (options.App is not null && HttpMethods.IsGet(req.Method))
        {
            var accept = req.Headers.Accept.ToString();
            var appPath = options.AppPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var underApp = appPath.Length > 0 && segments.Length >= appPath.Length && segments.Take(appPath.Length).SequenceEqual(appPath, StringComparer.Ordinal);
            if (accept != "*/*" && PrefersHtml(accept) && !underApp)
            {
                await AppAsync(call);
                return true;
            }
        }

        return false;
    }

    private static bool PrefersHtml(string accept)
    {
        var best = accept.Split(',')
            .Select(p => p.Split(';'))
            .Select(p => (Value: p[0].Trim().ToLowerInvariant(), Q: p.Skip(1).Select(x => x.Trim()).Where(x => x.StartsWith("q=", StringComparison.Ordinal))
                .Select(x => double.TryParse(x[2..], NumberStyles.Float, CultureInfo.InvariantCulture, out var q) ? q : 1.0).DefaultIfEmpty(1.0).First()))
            .OrderByDescending(p => p.Q)
            .FirstOrDefault();
        return best.Value == "text/html";
    }

    private static string ContentTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" or ".htm" => "text/html",
        ".js" => "application/javascript",
        ".css" => "text/css",
        ".json" => "application/json",
        ".png" => "image/png",
        ".svg" => "image/svg+xml",
        ".ico" => "image/x-icon",
        ".txt" => "text/plain",
        _ => "application/octet-stream",
    };

    private const string DefaultApp = """
        <!DOCTYPE html>
        <html>
        <head><meta charset="utf-8"><title>salt-api</title></head>
        <body>
        <h1>salt-api</h1>
        <p>This is the rest_cherrypy-compatible API. Log in with <code>POST /login</code>,
        then send lowstate to <code>POST /</code> with the <code>X-Auth-Token</code> header,
        and watch the event bus at <code>GET /events</code>.</p>
        </body>
        </html>
        """;
}
