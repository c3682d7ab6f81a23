namespace SaltApi.Client.Netapi;

/// <summary>Which client of this layer runs a lowstate client kind.</summary>
internal enum ClientExecutor
{
    /// <summary>LocalClient: <c>cmd</c>, or <c>run_job</c> when async.</summary>
    Local,

    /// <summary>LocalClient.cmd_subset (BatchClient).</summary>
    LocalSubset,

    /// <summary>LocalClient.cmd_batch (BatchClient).</summary>
    LocalBatch,

    /// <summary>RunnerClient: <c>cmd_sync</c>, or <c>cmd_async</c> when async.</summary>
    Runner,

    /// <summary>WheelClient: <c>cmd_sync</c>, or <c>cmd_async</c> when async.</summary>
    Wheel,

    /// <summary>SSHClient.cmd_sync, run by the master host's salt-ssh.</summary>
    Ssh,
}

/// <summary>
/// One of salt.netapi.CLIENTS: its name, whether it answers before the job is done, and the client that runs it.
/// </summary>
internal sealed record ClientKind(string Name, bool Async, ClientExecutor Executor)
{
    /// <summary>salt.netapi.CLIENTS, in Salt's order.</summary>
    public static readonly IReadOnlyList<ClientKind> All =
    [
        new("local", Async: false, ClientExecutor.Local),
        new("local_async", Async: true, ClientExecutor.Local),
        new("local_batch", Async: false, ClientExecutor.LocalBatch),
        new("local_subset", Async: false, ClientExecutor.LocalSubset),
        new("runner", Async: false, ClientExecutor.Runner),
        new("runner_async", Async: true, ClientExecutor.Runner),
        new("ssh", Async: false, ClientExecutor.Ssh),
        new("wheel", Async: false, ClientExecutor.Wheel),
        new("wheel_async", Async: true, ClientExecutor.Wheel),
    ];

    /// <summary>The names of <see cref="All"/>, in Salt's order.</summary>
    public static readonly IReadOnlyList<string> Names = [.. All.Select(k => k.Name)];

    /// <summary>The entry of <c>netapi_enable_clients</c> that allows this kind: in Salt, the client's name.</summary>
    public string EnableKey => Name;

    /// <summary>A publish to minions (LocalClient and its batch forms): the master's publish checks apply.</summary>
    public bool Publishes => Executor is ClientExecutor.Local or ClientExecutor.LocalSubset or ClientExecutor.LocalBatch;

    /// <summary>A master call (runner, wheel): NetapiClient.&lt;client&gt;(self, fun, ...) needs <c>fun</c>.</summary>
    public bool NeedsFun => Executor is ClientExecutor.Runner or ClientExecutor.Wheel;

    /// <summary>The kind of that name; null for a name that is not one of salt.netapi.CLIENTS.</summary>
    public static ClientKind? Find(object? name) => name is string s ? All.FirstOrDefault(k => k.Name == s) : null;
}
