namespace SaltApi.NetapiKit.Lowstates;

/// <summary>The jobs runner lowstate of rest_cherrypy's Jobs.GET and saltnado's JobsSaltAPIHandler.get.</summary>
public static class JobsLowstate
{
    /// <summary>
    /// <c>jobs.list_job</c> of <paramref name="jid"/>, else <c>jobs.list_jobs</c>, with <c>client: runner</c> where the
    /// module's Salt puts it: first in rest_cherrypy's Jobs.GET, last in saltnado's.
    /// </summary>
    public static OrderedDictionary<string, object?> For(string? jid, bool clientFirst)
    {
        var low = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["fun"] = jid is null ? "jobs.list_jobs" : "jobs.list_job" };
        if (jid is not null)
        {
            low["jid"] = jid;
        }

        low.Insert(clientFirst ? 0 : low.Count, "client", "runner");
        return low;
    }
}
