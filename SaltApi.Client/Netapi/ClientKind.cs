namespace SaltApi.Client.Netapi;

/// <summary>Which client of this layer runs a lowstate client kind.</summary>
internal enum ClientExecutor
{
    Local, // LocalClient.cmd, or run_job when async
    LocalSubset, // LocalClient.cmd_subset
    LocalBatch, // LocalClient.cmd_batch
    Runner, // RunnerClient.cmd_sync, or cmd_async
    Wheel, // WheelClient.cmd_sync, or cmd_async
    Ssh, // SSHClient.cmd_sync, by the master host's salt-ssh
}

/// <summary>One of salt.netapi.CLIENTS: its name, whether it answers before the job is done, the client that runs it.</summary>
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
