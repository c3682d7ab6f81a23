using SaltApi.NetapiKit.Lowstates;
using SaltApi.Plugins.RestCherrypyCompat.Formats;

namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary><c>/minions[/mid]</c>: rest_cherrypy's Minions.</summary>
internal sealed class MinionsEndpoints(CherrypyServices api)
{
    /// <summary>GET: the grains of one minion or of all.</summary>
    public async Task GetAsync(Call call)
    {
        var low = GrainsItems.Lowstate("local", call.Arg("mid") ?? "*");
        await call.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["return"] = await api.ExecAsync(call, new List<object?> { low }, call.Session!.Token, null),
        });
    }

    /// <summary>POST: the lowstate as <c>local_async</c> jobs, answered 202 with links to them.</summary>
    public async Task PostAsync(Call call)
    {
        var jobs = await api.ExecAsync(call, await call.ReadLowstateAsync(), call.Session!.Token, "local_async");
        var links = jobs
            .OfType<IEnumerable<KeyValuePair<string, object?>>>()
            .Select(j => j.FirstOrDefault(kv => kv.Key == "jid").Value)
            .Where(jid => jid is not null)
            .Select(jid => (object?)new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["href"] = "/jobs/" + Lowstate.Text(jid) })
            .ToList();
        await call.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["return"] = jobs,
            ["_links"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["jobs"] = links },
        }, 202);
    }
}
