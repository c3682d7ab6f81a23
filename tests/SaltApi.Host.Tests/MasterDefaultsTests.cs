using SaltApi.Host.Configuration;
using SaltApi.Protocol.Config;

namespace SaltApi.Host.Tests;

/// <summary>The master options' defaults are written once (MasterConfig), and master_uri is the one address used.</summary>
public sealed class MasterDefaultsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("saltapi-defaults-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private LoadedConfig Load(string text)
    {
        File.WriteAllText(Path.Combine(dir, "master"), text);
        return MasterConfigLoader.Load(Path.Combine(dir, "master"), name => name == "HOME" ? "/nonexistent-home" : null);
    }

    [Fact]
    public void Binding_nothing_gives_salts_defaults()
    {
        // Salt 3006's DEFAULT_MASTER_OPTS (salt/config/__init__.py) on Linux (SOCK_DIR /var/run/salt, CACHE_DIR
        // /var/cache/salt, ipc_mode "ipc"), written here rather than read from MasterConfig.Defaults, which
        // From falls back to.
        var bound = MasterConfig.From(new Dictionary<string, object?>());
        Assert.Equal(
            ("0.0.0.0", 4506, "/var/run/salt/master", "/var/cache/salt/master", "ipc", 4512, 4513, "zeromq", 5, 10, 300.0, 43200.0, "sha256", 24.0, 1048576, "", 5.0, false, false, false),
            (bound.Interface, bound.RetPort, bound.SockDir, bound.CacheDir, bound.IpcMode, bound.TcpMasterPubPort, bound.TcpMasterPullPort, bound.Transport, bound.Timeout, bound.GatherJobTimeout, bound.RestTimeout, bound.TokenExpire, bound.HashType, bound.KeepJobs, bound.MaxEventSize, bound.ExtJobCache, bound.SyndicWait, bound.OrderMasters, bound.NetapiAllowRawShell, bound.DetectMode));
        Assert.Empty(bound.NetapiEnableClients);
        Assert.Empty(bound.ExternalAuth);
        Assert.Empty(bound.Nodegroups);
        Assert.Equal("tcp://127.0.0.1:4506", bound.MasterUri);
    }

    [Fact]
    public void The_loaders_defaults_are_masterconfigs()
    {
        var d = MasterConfig.Defaults;
        var bound = MasterConfig.From(Load("").Options);
        // interface is normalised for a client (0.0.0.0 -> 127.0.0.1), as Salt's client_config does.
        Assert.Equal(d.ClientHost, bound.Interface);
        Assert.Equal(
            (d.RetPort, d.SockDir, d.CacheDir, d.IpcMode, d.TcpMasterPubPort, d.TcpMasterPullPort, d.Transport, d.Timeout, d.GatherJobTimeout, d.RestTimeout, d.TokenExpire, d.HashType, d.KeepJobs, d.MaxEventSize, d.ExtJobCache, d.SyndicWait, d.DetectMode, d.OrderMasters, d.NetapiAllowRawShell),
            (bound.RetPort, bound.SockDir, bound.CacheDir, bound.IpcMode, bound.TcpMasterPubPort, bound.TcpMasterPullPort, bound.Transport, bound.Timeout, bound.GatherJobTimeout, bound.RestTimeout, bound.TokenExpire, bound.HashType, bound.KeepJobs, bound.MaxEventSize, bound.ExtJobCache, bound.SyndicWait, bound.DetectMode, bound.OrderMasters, bound.NetapiAllowRawShell));
        Assert.Empty(bound.NetapiEnableClients);
        Assert.Empty(bound.ExternalAuth);
        Assert.Empty(bound.Nodegroups);
        Assert.Equal("tcp://127.0.0.1:4506", bound.MasterUri);
    }

    [Fact]
    public void A_written_master_uri_is_the_address_requests_go_to()
    {
        // Salt's client_config keeps a written master_uri, and its clients connect there.
        var config = Load("interface: 0.0.0.0\nret_port: 4600\nmaster_uri: tcp://10.1.2.3:4606\n");
        Assert.Equal("tcp://10.1.2.3:4606", config.Options["master_uri"]);
        Assert.Equal("tcp://10.1.2.3:4606", MasterConfig.From(config.Options).MasterUri);
    }

    [Fact]
    public void A_derived_master_uri_follows_interface_and_ret_port()
    {
        var config = Load("interface: '::'\nret_port: 4600\n");
        Assert.Equal("tcp://[::1]:4600", MasterConfig.From(config.Options).MasterUri);
        Assert.Equal("tcp://127.0.0.1:4506", MasterConfig.Defaults.MasterUri);
    }
}
