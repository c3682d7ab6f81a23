using Microsoft.AspNetCore.Http;
using SaltApi.NetapiKit.Tokens;
using SaltApi.Plugins.RestTornadoCompat.Http;

namespace SaltApi.Plugins.RestTornadoCompat.Handlers;

/// <summary>One request after BaseSaltAPIHandler.prepare: its answer format, body data and lowstate, token.</summary>
internal sealed class TornadoRequest(HttpContext ctx, Output output, string? pathArg)
{
    public HttpContext Ctx { get; } = ctx;

    public Output Output { get; } = output;

    /// <summary>The path's argument (<c>/minions/&lt;mid&gt;</c>, <c>/jobs/&lt;jid&gt;</c>, the hook's tag suffix, the websocket token).</summary>
    public string? PathArg { get; } = pathArg;

    /// <summary>saltnado's <c>request_payload</c>: the deserialized body, null without one.</summary>
    public object? Payload { get; init; }

    /// <summary>saltnado's <c>lowstate</c>: the body as a list of chunks, null without one.</summary>
    public List<object?>? Lowstate { get; set; }

    public CancellationToken Aborted => Ctx.RequestAborted;

    /// <summary>A chunk's credentials were refused ("Failed to authenticate" in a 200 answer): counts as a failed login.</summary>
    public bool AuthFailed { get; set; }

    /// <summary>As the <c>token</c> property: the X-Auth-Token header when present, else the session_id cookie.</summary>
    public string? Token => TokenCheck.Read(Ctx.Request, emptyHeaderIsAbsent: false);

    /// <summary>Whether <see cref="Token"/> is the session cookie (no X-Auth-Token header sent).</summary>
    public bool TokenFromCookie => TokenCheck.ReadsCookie(Ctx.Request, emptyHeaderIsAbsent: false);

    /// <summary>As <c>self.write(self.serialize(data))</c>.</summary>
    public Task RespondAsync(object? data, int status = 200) =>
        TornadoResponse.WriteAsync(Ctx, status, Output.Dump(data), Output.ContentType);
}
