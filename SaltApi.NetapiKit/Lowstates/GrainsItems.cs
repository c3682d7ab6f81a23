using SaltApi.Abstractions.Client;

namespace SaltApi.NetapiKit.Lowstates;

/// <summary>The <c>grains.items</c> lowstate of rest_cherrypy's and saltnado's Minions GET and of their event views.</summary>
public static class GrainsItems
{
    /// <summary>
    /// <c>{client, tgt, [tgt_type], fun: grains.items, [token]}</c>: Minions GET's (<c>local</c>), or the event view's job
    /// (<c>local_async</c> with the stream's token).
    /// </summary>
    public static OrderedDictionary<string, object?> Lowstate(string client, string tgt, string? tgtType = null, string? token = null)
    {
        var low = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["client"] = client, ["tgt"] = tgt };
        if (tgtType is not null)
        {
            low["tgt_type"] = tgtType;
        }

        low["fun"] = "grains.items";
        if (token is not null)
        {
            low["token"] = token;
        }

        return low;
    }

    /// <summary>
    /// Starts the event view's job (<c>local_async</c>), as Salt's process_presence_events asks new minions for their
    /// grains; its returns are read from the bus. Not awaited: <paramref name="failed"/> gets its error.
    /// </summary>
    public static void Start(INetapiClient client, string token, string tgt, string tgtType, Action<AggregateException>? failed, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        _ = client.RunAsync(Lowstate("local_async", tgt, tgtType, token), ct).ContinueWith(
            t => failed?.Invoke(t.Exception!),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default);
    }
}
