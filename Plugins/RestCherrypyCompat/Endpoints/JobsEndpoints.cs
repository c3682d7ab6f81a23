using SaltApi.Abstractions.Modules;
using SaltApi.NetapiKit.Lowstates;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary><c>/jobs[/jid]</c>: rest_cherrypy's Jobs (POST is the lowstate of <c>/</c>).</summary>
internal sealed class JobsEndpoints(CherrypyServices api)
{
    /// <summary>GET: <c>jobs.list_jobs</c>, or <c>jobs.list_job</c> with the returns by minion.</summary>
    public async Task GetAsync(Call call)
    {
        var jid = call.Arg("jid");
        var result = await api.ExecAsync(call, new List<object?> { JobsLowstate.For(jid, clientFirst: true) }, call.Session!.Token, null);
        var first = result.Count > 0 ? result[0] : null;
        var ret = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        if (jid is not null)
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

        await call.RespondAsync(ret);
    }

    private static Dictionary<string, object?>? AsMap(object? v) => ModuleSection.ToMap(v);
}
