using Microsoft.Extensions.Logging;
using SaltApi.EmbeddedMaster.Auth;
using SaltApi.EmbeddedMaster.Bus;
using SaltApi.EmbeddedMaster.Config;
using SaltApi.EmbeddedMaster.Jobs;
using SaltApi.EmbeddedMaster.Minions;
using SaltApi.EmbeddedMaster.Targeting;
using SaltApi.EmbeddedMaster.Wheel;
using SaltApi.Protocol.Config;

namespace SaltApi.EmbeddedMaster;

/// <summary>Everything the master's commands, runners and wheel functions share.</summary>
internal sealed record MasterContext(
    IReadOnlyDictionary<string, object?> Opts,
    MasterConfig Config,
    EmbeddedOptions Options,
    EventPublisher Bus,
    MinionRegistry Registry,
    CheckMinions CkMinions,
    Acl Acl,
    LoadAuth LoadAuth,
    JobCache Jobs,
    RunningJobs Running,
    MinionExecutor Executor,
    KeyStore Keys,
    IReadOnlyDictionary<string, string> RootKeys,
    ILogger Log,
    CancellationToken Stop);
