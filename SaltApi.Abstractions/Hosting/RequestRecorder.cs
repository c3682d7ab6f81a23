using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SaltApi.Abstractions.Client;

namespace SaltApi.Abstractions.Hosting;

/// <summary>
/// The step of every module's front that begins the request's <see cref="NetapiCall"/>: its jobs' jids go out
/// in the <c>X-Salt-Jid</c> header of the answer, and the request is counted with its latency by module, route
/// template, lowstate client and status (<see cref="NetapiMetrics"/>).
/// </summary>
internal static class RequestRecorder
{
    /// <summary>
    /// The jids of the jobs a request started, comma-separated in the order they started (at most
    /// <see cref="NetapiCall.MaxJids"/>). Salt's salt-api has no such header: a sync call that gives up
    /// waiting answers without its jid (salt-api issues #139, #148); a header is ignored by every client that
    /// does not look for it.
    /// </summary>
    public const string JidHeader = "X-Salt-Jid";

    /// <summary>The route label of a request no route matched (a 404 or a refusal before routing).</summary>
    public const string Unmatched = "unmatched";

    public static Func<RequestDelegate, RequestDelegate> For(string module) => next => ctx => InvokeAsync(ctx, next, module);

    private static async Task InvokeAsync(HttpContext ctx, RequestDelegate next, string module)
    {
        var call = NetapiCall.Begin();
        call.Module = module;
        ctx.Response.OnStarting(AddJids, (call, ctx.Response));
        var start = Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            await next(ctx).ConfigureAwait(false);
            failed = false;
        }
        finally
        {
            // As the access line: an exception that left every step is Kestrel's 500, unless the answer had started.
            var status = failed && !ctx.Response.HasStarted ? 500 : ctx.Response.StatusCode;
            var route = call.Route ?? (ctx.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? Unmatched;
            NetapiMetrics.RequestDuration.Record(
                Stopwatch.GetElapsedTime(start).TotalSeconds,
                new KeyValuePair<string, object?>("module", module),
                new KeyValuePair<string, object?>("route", route),
                new KeyValuePair<string, object?>("client", call.Client ?? "none"),
                new KeyValuePair<string, object?>("status", StatusText(status)));
        }
    }

    private static Task AddJids(object state)
    {
        var (call, response) = ((NetapiCall, HttpResponse))state;
        if (call.Jids is { Count: > 0 } jids)
        {
            response.Headers[JidHeader] = string.Join(", ", jids);
        }

        return Task.CompletedTask;
    }

    private static readonly string[] Statuses = [.. Enumerable.Range(0, 600).Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private static string StatusText(int status) => (uint)status < Statuses.Length ? Statuses[status] : "other";
}
