namespace SaltApi.Abstractions.Client;

/// <summary>
/// What one HTTP request did through the client layer: the jobs it started (their jids, in the order they
/// started) and the lowstate client it ran. Every module's listener front begins one per request (see
/// <see cref="Hosting.HttpFront"/>); the client layer records into <see cref="Current"/>, which flows with
/// the request's awaits. The front answers the jids in the <c>X-Salt-Jid</c> header and labels the request's
/// metrics with the client. A module need not touch it, unless it routes without ASP.NET endpoints: then it
/// names the matched route (<see cref="Route"/>).
/// </summary>
public sealed class NetapiCall
{
    /// <summary>Jids kept for one request (an <c>X-Salt-Jid</c> header of at most about 700 bytes); later jids are not kept.</summary>
    public const int MaxJids = 32;

    private static readonly AsyncLocal<NetapiCall?> Ambient = new();
    private readonly Lock gate = new();
    private readonly List<string> jids = [];
    private string? client;

    private NetapiCall()
    {
    }

    /// <summary>The request's record in this async flow; null outside a request.</summary>
    public static NetapiCall? Current => Ambient.Value;

    /// <summary>Begins the record of a request for the calling async flow and those it awaits.</summary>
    public static NetapiCall Begin()
    {
        var call = new NetapiCall();
        Ambient.Value = call;
        return call;
    }

    /// <summary>The jids of the jobs started, in order (at most <see cref="MaxJids"/>).</summary>
    public IReadOnlyList<string> Jids
    {
        get
        {
            lock (gate)
            {
                return [.. jids];
            }
        }
    }

    /// <summary>The lowstate client run (one of Salt's client names), <c>mixed</c> when chunks used several, or null.</summary>
    public string? Client
    {
        get
        {
            lock (gate)
            {
                return client;
            }
        }
    }

    /// <summary>The module's config key (its metrics' <c>module</c> label), set by the front.</summary>
    internal string Module { get; set; } = "unknown";

    /// <summary>The route template the request matched (bounded: never the raw path), when the module routes itself.</summary>
    public string? Route { get; set; }

    /// <summary>Records a job the request started.</summary>
    public void JobStarted(string jid)
    {
        ArgumentNullException.ThrowIfNull(jid);
        lock (gate)
        {
            if (jids.Count < MaxJids)
            {
                jids.Add(jid);
            }
        }
    }

    /// <summary>Records the lowstate client of a chunk (a name the client layer has checked).</summary>
    public void Ran(string clientName)
    {
        ArgumentNullException.ThrowIfNull(clientName);
        lock (gate)
        {
            client = client is null || client == clientName ? clientName : "mixed";
        }
    }
}
