using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Auth;
using SaltApi.Client.Config;
using SaltApi.Client.Lowstate;
using SaltApi.Client.Master;
using SaltApi.Protocol.Jobs;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Ssh;

/// <summary>
/// NetapiClient.ssh: _authorize_ssh, then SSHClient(mopts, disable_custom_roster=True).cmd_sync(low), run as the
/// master host's own salt-ssh program (<see cref="SshArgs"/>, <see cref="SshRunner"/>, <see cref="SshReturn"/>).
/// </summary>
internal sealed class SshClient(ClientOptions options, TokenClient tokens, ListFunGate acl, ILogger logger)
{
    /// <summary>_authorize_ssh's refusal of a function or target the auth list does not allow (401).</summary>
    public const string Unauthorized = "Authorization error occurred.";

    private readonly SshRunner runner = new(options.Ssh, logger);

    /// <summary>The runner, for its bounds.</summary>
    internal SshRunner Runner => runner;

    public async Task<object?> CmdSyncAsync(IReadOnlyDictionary<string, object?> low, CancellationToken cancellationToken)
    {
        await AuthorizeAsync(low, cancellationToken).ConfigureAwait(false);
        if (low.GetValueOrDefault("fun") is not string fun)
        {
            // A compound fun that passed the ACL still cannot be given to salt-ssh.
            throw new SaltInvocationException("ssh: 'fun' must be one function name");
        }

        // Checked before anything runs: a bad lowstate is a 400, not a process.
        SshArgs.Build(low, options.Ssh, saltfile: null);
        var jid = Jid.New();
        var output = await runner.RunAsync(saltfile => SshArgs.Build(low, options.Ssh, saltfile, jid), cancellationToken).ConfigureAwait(false);
        var funArgs = ClientLowstate.ConditionInput(ClientLowstate.ArgList(low.GetValueOrDefault("arg")), low.GetValueOrDefault("kwarg"));
        // salt-ssh saves each host's whole answer in the master job cache under the jid given (cache_job).
        var jobDir = options.Master.ExtJobCache.Length == 0 && options.MasterJobCache == "local_cache" ? Path.Combine(options.Master.CacheDir, "jobs") : null;
        // SSH.__init__ makes an event bus when master_event_pull.ipc exists: run_iter then fires each host's answer.
        var events = File.Exists(options.Master.EventPullPath) ? TimeProvider.System : null;
        return SshReturn.Parse(output, jid, fun, funArgs, jobDir, options.Master.HashType, events);
    }

    /// <summary>
    /// NetapiClient._authorize_ssh: the token or the credentials checked by the master (check_authentication), then
    /// the function and target against the user's auth list (auth_check, with the roster's hosts: <see cref="SshAcl"/>).
    /// Deliberate difference: a compound fun passes only when every function in it is allowed (Salt's auth_check
    /// accepts it when one is); where it cannot be decided here (an eauth backend with its own ACL function, a target
    /// entry it cannot resolve) the call is refused: there is no master to leave it to.
    /// </summary>
    private async Task AuthorizeAsync(IReadOnlyDictionary<string, object?> low, CancellationToken ct)
    {
        SaltToken? token;
        if (low.GetValueOrDefault("token") is string t)
        {
            token = await tokens.GetTokenAsync(t, ct).ConfigureAwait(false)
                ?? throw new SaltAuthenticationException(MasterCalls.TokenRefused, "TokenAuthenticationError");
        }
        else
        {
            var username = low.GetValueOrDefault("username") as string ?? "";
            token = await tokens.MakeTokenAsync(low.GetValueOrDefault("eauth") as string ?? "", username, low.GetValueOrDefault("password") as string ?? "", ct).ConfigureAwait(false)
                ?? throw new SaltAuthenticationException($"Authentication failure of type \"eauth\" occurred for user {username}.");
        }

        if (!low.ContainsKey("tgt") || !low.ContainsKey("fun"))
        {
            // Salt: low["tgt"] / low["fun"] raise KeyError (500); a clear 400 here.
            throw new SaltInvocationException("ssh requires 'tgt' and 'fun'");
        }

        var funs = low["fun"] switch
        {
            string one => [one],
            List<object?> list when list.Count > 0 => list,
            _ => null,
        };
        var tgtType = low.GetValueOrDefault("tgt_type") is { } tt ? PyValue.Str(tt) : "glob";
        if (acl.AuthListOf(token, low.GetValueOrDefault("eauth") as string) is not { } authList || funs is null)
        {
            throw new SaltAuthenticationException(Unauthorized);
        }

        // auth_check(auth_list, low["fun"], low.get("arg", []), ...) without a whitelist: a single function's args are [arg].
        var arg = ClientLowstate.ArgList(low.GetValueOrDefault("arg"));
        var args = low["fun"] is string ? [arg] : arg;
        var (verdict, why) = ListFunGate.Decide(authList, funs, args, low["tgt"], tgtType, whitelistFindJob: false);
        if (verdict == ListFunGate.Verdict.Undecided)
        {
            acl.LogSshUndecided(authList.Eauth, why!);
        }

        // and each function's target entry only over accepted minion keys, never a roster-only host (SshAcl).
        if (verdict != ListFunGate.Verdict.Allowed
            || !funs.TrueForAll(f => f is string name && SshAcl.Allowed(authList.Entries, name, low["tgt"], tgtType, options.Ssh.PkiDir)))
        {
            throw new SaltAuthenticationException(Unauthorized);
        }
    }
}
