namespace SaltApi.Abstractions.Client;

/// <summary>A Salt eauth token as the master stores it (<c>salt.auth.LoadAuth.mk_token</c>).</summary>
/// <param name="Token">The token itself: hex digest of <c>hash_type</c>.</param>
/// <param name="Name">The user name.</param>
/// <param name="Eauth">The eauth backend that authenticated the user.</param>
/// <param name="Start">Creation time, seconds since the epoch.</param>
/// <param name="Expire">Expiry time, seconds since the epoch.</param>
/// <param name="Groups">The user's groups when the eauth module reports them.</param>
public sealed record SaltToken(string Token, string Name, string Eauth, double Start, double Expire, IReadOnlyList<string>? Groups)
{
    /// <summary>The ACL stored in the token (<c>auth_list</c>, with <c>keep_acl_in_token</c>), when present.</summary>
    public IReadOnlyList<object?>? AuthList { get; init; }
}
