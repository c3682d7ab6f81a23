namespace SaltApi.Plugins.RestCherrypyCompat.Endpoints;

/// <summary><c>/</c>, <c>/run</c> and <c>/stats</c>: rest_cherrypy's LowDataAdapter, Run and Stats.</summary>
internal sealed class RootEndpoints(CherrypyServices api)
{
    /// <summary>GET on <c>/</c>, <c>/token</c> and <c>/run</c>: the welcome with the client list.</summary>
    public Task WelcomeAsync(Call call) => call.RespondAsync(Welcome);

    /// <summary>The welcome, built once: the client list is fixed for the daemon's life, and the value is only read.</summary>
    internal OrderedDictionary<string, object?> Welcome => welcome ??= new OrderedDictionary<string, object?>(StringComparer.Ordinal)
    {
        ["return"] = "Welcome",
        ["clients"] = api.Client.Clients.Cast<object?>().ToList(),
    };

    private OrderedDictionary<string, object?>? welcome;

    /// <summary>POST <c>/</c> (and <c>/jobs</c>): the lowstate, run with the session's token.</summary>
    public async Task LowstateAsync(Call call) => await call.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
    {
        ["return"] = await api.ExecAsync(call, await call.ReadLowstateAsync(), call.Session!.Token, null),
    });

    /// <summary>POST <c>/run</c>: the lowstate carries its own credentials; no session.</summary>
    public async Task RunAsync(Call call) => await call.RespondAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
    {
        ["return"] = await api.ExecAsync(call, await call.ReadLowstateAsync(), null, null),
    });

    /// <summary>GET <c>/stats</c>: CherryPy's cpstats tree.</summary>
    public Task StatsAsync(Call call) => call.RespondAsync(api.Stats.Snapshot(api.Options.CollectStats));
}
