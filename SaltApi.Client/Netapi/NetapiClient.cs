using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Auth;
using SaltApi.Client.Batch;
using SaltApi.Client.Bus;
using SaltApi.Client.Config;
using SaltApi.Client.Local;
using SaltApi.Client.Master;
using SaltApi.Client.Runner;
using SaltApi.Client.Ssh;
using SaltApi.Client.Wheel;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Netapi;

/// <summary>Salt's <c>salt.netapi.NetapiClient</c>: the checks of spec/03 §1 in order, then dispatch by <c>client</c>.</summary>
internal sealed class NetapiClient(
    ClientOptions options,
    LocalClient local,
    BatchClient batch,
    RunnerClient runner,
    WheelClient wheel,
    TokenClient tokens,
    EventFirer firer,
    ListFunGate listFunGate,
    SshClient ssh,
    RevokedTokens? revokedTokens = null) : INetapiClient
{
    /// <summary>Tokens logged out here that the master kept: every path below refuses them (see <see cref="RemoveTokenAsync"/>).</summary>
    private readonly RevokedTokens revoked = revokedTokens ?? new RevokedTokens(TimeProvider.System);

    public IReadOnlyList<string> Clients => ClientKind.Names;

    /// <summary>The revocation signal every module's token cache obeys (raised by <see cref="RemoveTokenAsync"/>).</summary>
    public event Action<string>? TokenRevoked;

    public async Task<IReadOnlyList<object?>> RunAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lowstate);
        var kind = Check(lowstate);
        NetapiCall.Current?.Ran(kind.Name);
        if (kind.NeedsFun && !lowstate.ContainsKey("fun"))
        {
            // salt.utils.args.format_call on NetapiClient.<client>(self, fun, ...).
            throw new SaltInvocationException($"{kind.Name} takes at least 1 argument (0 given)");
        }

        if (lowstate.GetValueOrDefault("token") is string token && revoked.Contains(token))
        {
            // A token logged out here that the master kept: refused with the master's own answer to a token
            // it does not know, before anything reaches the master.
            // ssh: check_authentication's own refusal of a token (_authorize_ssh), the same text.
            throw kind.Publishes
                ? new SaltAuthenticationException(MasterCalls.PublishRefused, "AuthenticationError")
                : new SaltAuthenticationException(MasterCalls.TokenRefused, "TokenAuthenticationError");
        }

        if (kind.Publishes)
        {
            // Deliberate difference: every function of a list-valued fun must be allowed (see ListFunGate).
            await listFunGate.CheckAsync(lowstate, cancellationToken).ConfigureAwait(false);
        }

        return (kind.Executor, kind.Async) switch
        {
            (ClientExecutor.Local, false) => [await local.CmdAsync(LocalCall.From(lowstate), cancellationToken).ConfigureAwait(false)],
            (ClientExecutor.Local, true) => [await local.RunJobAsync(LocalCall.From(lowstate, "run_job"), cancellationToken).ConfigureAwait(false)],
            (ClientExecutor.LocalSubset, _) => [await batch.SubsetAsync(lowstate, cancellationToken).ConfigureAwait(false)],
            (ClientExecutor.LocalBatch, _) => await batch.BatchAsync(lowstate, cancellationToken).ConfigureAwait(false),
            (ClientExecutor.Runner, false) => [await runner.CmdSyncAsync(lowstate, cancellationToken).ConfigureAwait(false)],
            (ClientExecutor.Runner, true) => [await runner.CmdAsyncAsync(lowstate, cancellationToken).ConfigureAwait(false)],
            (ClientExecutor.Wheel, false) => [await wheel.CmdSyncAsync(lowstate, cancellationToken).ConfigureAwait(false)],
            (ClientExecutor.Wheel, true) => [await wheel.CmdAsync(lowstate, cancellationToken).ConfigureAwait(false)],
            // ssh: authorized by SshClient (_authorize_ssh), then run by the master host's salt-ssh.
            _ => [await ssh.CmdSyncAsync(lowstate, cancellationToken).ConfigureAwait(false)],
        };
    }

    /// <summary>NetapiClient.run's checks, in Salt's order, with Salt's messages (spec/03 §1).</summary>
    internal ClientKind Check(IReadOnlyDictionary<string, object?> low)
    {
        EnsureMasterRunning();

        var client = low.GetValueOrDefault("client");
        if (ClientKind.Find(client) is not { } kind)
        {
            throw new SaltInvocationException($"Invalid client specified: '{PyValue.Str(client)}'");
        }

        var name = kind.Name;
        if (!options.Master.NetapiEnableClients.Contains(kind.EnableKey))
        {
            // Salt's text; with no list at all, also the hint the daemon logs at start (Salt says no more).
            var disabled = $"Client disabled: '{name}'. Add to 'netapi_enable_clients' master config option to enable.";
            throw new SaltInvocationException(options.Master.NetapiEnableClients.Count == 0 ? $"{disabled} {EnableClientsHint.EmptyListSentence}" : disabled);
        }

        if (!low.ContainsKey("token") && !low.ContainsKey("eauth"))
        {
            throw new SaltAuthenticationException("No authentication credentials given");
        }

        if (PyValue.Truthy(low.GetValueOrDefault("raw_shell")) && !options.Master.NetapiAllowRawShell)
        {
            throw new SaltAuthenticationException("Raw shell option not allowed.");
        }

        // Deliberate difference: Salt forwards a token or password of any type and the master answers
        // "Some exception handling minion payload" (500). Credentials that are not strings are refused here.
        foreach (var key in CredentialKeys)
        {
            if (low.TryGetValue(key, out var value) && value is not string)
            {
                throw new SaltAuthenticationException($"Invalid credentials: '{key}' must be a string");
            }
        }

        return kind;
    }

    private static readonly string[] CredentialKeys = ["token", "eauth", "username", "password"];

    /// <summary>
    /// NetapiClient._is_master_running. Deliberate difference: with <c>ipc_mode: tcp</c> Salt's check always fails
    /// on Linux (no such file is created); we skip it there and let the request channel report an unreachable master.
    /// </summary>
    private void EnsureMasterRunning()
    {
        if (options.MasterRunningFile is { } file && !File.Exists(file))
        {
            throw new SaltMasterUnavailableException(MasterCalls.NotAvailable);
        }
    }

    // The same "master running?" check as run(): a master that is down is a 503 at once, not after 3 × 60 s.
    public Task<SaltToken?> MakeTokenAsync(string eauth, string username, string password, CancellationToken cancellationToken)
    {
        EnsureMasterRunning();
        return tokens.MakeTokenAsync(eauth, username, password, cancellationToken);
    }

    public Task<SaltToken?> MakeTokenAsync(IReadOnlyDictionary<string, object?> credentials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        EnsureMasterRunning();
        return tokens.MakeTokenAsync(credentials, cancellationToken);
    }

    /// <summary>get_token; null for a token logged out here that the master kept, as for one it does not know.</summary>
    public async Task<SaltToken?> GetTokenAsync(string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        EnsureMasterRunning();

        if (revoked.Contains(token))
        {
            return null;
        }

        var found = await tokens.GetTokenAsync(token, cancellationToken).ConfigureAwait(false);
        // A logout may have revoked it while the master was asked.
        return found is not null && revoked.Contains(token) ? null : found;
    }

    /// <summary>
    /// LoadAuth.rm_token with the master as the source of truth. With Salt's default store
    /// (<c>eauth_tokens: localfs</c>) and the API on the master host, the token file
    /// <c>{cachedir}/tokens/&lt;token&gt;</c> is deleted as rm_token deletes it; otherwise (or when that is not
    /// allowed) the runner <c>auth.del_token</c> is asked, which needs the user's <c>@runner</c> rights.
    /// When the master keeps the token, this client layer refuses it itself until it expires, on every path,
    /// so every module of this daemon does (<see cref="RevokedTokens"/>). It is recorded there first, so that
    /// it is refused at once whatever the master does (slow, down, or kept it); the entry goes once the master
    /// no longer knows the token. True when the token is refused from now on: gone on the master, or recorded
    /// here; false only when neither (the list is full of live revocations and the master kept it).
    /// </summary>
    public async Task<bool> RemoveTokenAsync(string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length is 0 or > 256 || !token.All(char.IsAsciiHexDigit))
        {
            return false; // never a path: only a token's hex name
        }

        // Until the master says when the token expires, it is kept for the master's token_expire from now
        // (the longest a token lives unless token_expire_user_override lets a user ask for more).
        var recorded = revoked.Add(token, revoked.Now + options.Master.TokenExpire);

        // Refused by this client from now on: every module's cache drops it at once (lookups already under way
        // cache nothing), so a new request or stream batch on any module asks here and is refused.
        TokenRevoked?.Invoke(token);
        try
        {
            if (await DeleteOnMasterAsync(token, cancellationToken).ConfigureAwait(false) is not { } kept)
            {
                revoked.Remove(token); // the master refuses it itself
                if (!recorded)
                {
                    TokenRevoked?.Invoke(token); // caches may have taken it again while the master still knew it
                }

                return true;
            }

            // The master kept it: refused here until it expires (its expiry is known now).
            return revoked.Add(token, kept.Expire);
        }
        catch (Exception e) when (recorded && e is SaltApiException or OperationCanceledException)
        {
            // The master did not answer (down, slow, or the caller stopped waiting): the entry stays.
            return true;
        }
    }

    /// <summary>Deletes the token on the master; the token as the master still knows it, or null once it does not.</summary>
    private async Task<SaltToken?> DeleteOnMasterAsync(string token, CancellationToken cancellationToken)
    {
        EnsureMasterRunning();

        if (string.Equals(options.EauthTokens, "localfs", StringComparison.Ordinal))
        {
            try
            {
                File.Delete(Path.Combine(options.Master.TokenDir, token));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not the master host, or not its user: the runner below.
            }

            if (await tokens.GetTokenAsync(token, cancellationToken).ConfigureAwait(false) is null)
            {
                return null;
            }
        }

        try
        {
            // Straight to the runner client: the master checks the rights, whatever netapi_enable_clients says.
            await runner.CmdSyncAsync(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["client"] = "runner",
                ["fun"] = "auth.del_token",
                ["token"] = token,
                ["kwarg"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["token"] = token },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (SaltApiException)
        {
            // Not allowed or not available: the master keeps the token.
        }

        return await tokens.GetTokenAsync(token, cancellationToken).ConfigureAwait(false);
    }

    public IReadOnlyList<object?>? Permissions(SaltToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Auth.Permissions.Of(token, options.Master.ExternalAuth);
    }

    public Task<bool> FireEventAsync(string tag, IReadOnlyDictionary<string, object?> data, CancellationToken cancellationToken) =>
        firer.FireAsync(tag, data, cancellationToken);
}
