namespace SaltApi.Abstractions.Client;

/// <summary>
/// Salt's <c>salt.netapi.NetapiClient</c>: runs one lowstate chunk against the master.
/// Values in and out are plain JSON-ready trees: <c>null</c>, <c>bool</c>, <c>long</c>,
/// <c>ulong</c>, <c>double</c>, <c>string</c>, <c>byte[]</c> (bytes that are not UTF-8),
/// <c>IReadOnlyList&lt;object?&gt;</c> and <c>IReadOnlyDictionary&lt;string, object?&gt;</c>
/// whose enumeration order is Salt's key order.
/// </summary>
public interface INetapiClient
{
    /// <summary>Every client name Salt knows, in Salt's order (rest_cherrypy <c>GET /</c> lists them).</summary>
    IReadOnlyList<string> Clients { get; }

    /// <summary>
    /// Runs one lowstate chunk. The result is a list of items to append to the HTTP
    /// <c>return</c> list: one item for every client but <c>local_batch</c>, which yields one per minion.
    /// Throws a <see cref="Errors.SaltApiException"/> subclass for every failure Salt reports.
    /// </summary>
    Task<IReadOnlyList<object?>> RunAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken cancellationToken);

    /// <summary>Master <c>mk_token</c>: authenticates with eauth and mints a Salt token; null when refused.</summary>
    Task<SaltToken?> MakeTokenAsync(string eauth, string username, string password, CancellationToken cancellationToken);

    /// <summary>
    /// Master <c>mk_token</c> with the whole credentials map, as <c>salt.auth.Resolver.mk_token</c> sends it
    /// (rest_cherrypy <c>/login</c>): extra fields such as <c>token_expire</c> reach the master. Null when refused.
    /// </summary>
    Task<SaltToken?> MakeTokenAsync(IReadOnlyDictionary<string, object?> credentials, CancellationToken cancellationToken) =>
        credentials is not null && credentials.GetValueOrDefault("eauth") is string eauth && credentials.GetValueOrDefault("username") is string username
            && credentials.GetValueOrDefault("password") is string password
            ? MakeTokenAsync(eauth, username, password, cancellationToken)
            : Task.FromResult<SaltToken?>(null);

    /// <summary>Master <c>get_token</c>: the stored token when it exists and has not expired, else null.</summary>
    Task<SaltToken?> GetTokenAsync(string token, CancellationToken cancellationToken);

    /// <summary>
    /// Salt's <c>sum_permissions</c> + <c>sorted_permissions</c> for a token (rest_cherrypy <c>/login</c>).
    /// Null when the user has none.
    /// </summary>
    IReadOnlyList<object?>? Permissions(SaltToken token);

    /// <summary>
    /// Salt's <c>LoadAuth.rm_token</c>: deletes a token on the master, so that every daemon and every path
    /// refuses it from then on. When the master keeps it, the client refuses it itself until it expires, on
    /// every path of this daemon: <see cref="RunAsync"/> answers as the master does for an unknown token and
    /// <see cref="GetTokenAsync"/> returns null, for every module. True when the token is refused from now on
    /// by every module of this daemon (gone on the master, or refused by the client); false only when neither
    /// happened (the caller must not report the token as ended). The default does nothing and returns false.
    /// </summary>
    Task<bool> RemoveTokenAsync(string token, CancellationToken cancellationToken) => Task.FromResult(false);

    /// <summary>
    /// The daemon's revocation signal: raised with a token as soon as this daemon refuses it from now on (a
    /// logout in any module, <see cref="RemoveTokenAsync"/>). Every module's cache of positive token lookups obeys
    /// it (<see cref="TokenCache"/>), so a token revoked anywhere in the daemon is refused everywhere in it at
    /// once. Handlers run on the revoking call and must be quick. The default never raises it.
    /// </summary>
    event Action<string>? TokenRevoked
    {
        add { }
        remove { }
    }

    /// <summary>Fires one event onto the master bus (<c>master_event_pull.ipc</c>), as <c>/hook</c> does.</summary>
    Task<bool> FireEventAsync(string tag, IReadOnlyDictionary<string, object?> data, CancellationToken cancellationToken);
}
