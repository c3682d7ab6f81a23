using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Testing;
using Master = SaltApi.EmbeddedMaster.SaltMaster;

namespace SaltApi.Hardening.Tests.Faults;

/// <summary>
/// The daemon on a config WITHOUT embedded_master, talking to an embedded master that this test
/// process starts on the same ports and sock_dir, so that the test can stop and restart the master
/// under the daemon's feet. ms--4 is a minion that never answers.
/// </summary>
public sealed class FaultFixture : HardeningFixture
{
    private Master? master;
    private string dir = "";
    private int retPort;

    public bool MasterRunning => master is not null;

    protected override void Configure(string dir)
    {
        base.Configure(dir);
        this.dir = dir;
        var path = Path.Combine(dir, "master");
        var text = File.ReadAllText(path).Replace("embedded_master:\n  minions: 5\n", "", StringComparison.Ordinal);
        File.WriteAllText(path, text);
        retPort = int.Parse(System.Text.RegularExpressions.Regex.Match(text, @"(?m)^ret_port: (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        StartMasterAsync().GetAwaiter().GetResult();
    }

    public OrderedDictionary<string, object?> MasterConfig() => new(StringComparer.Ordinal)
    {
        ["interface"] = "127.0.0.1",
        ["ret_port"] = (long)retPort,
        ["sock_dir"] = Path.Combine(dir, "sock"),
        ["cachedir"] = Path.Combine(dir, "cache"),
        ["timeout"] = 2L,
        ["gather_job_timeout"] = 2L,
        ["external_auth"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["file"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["^filename"] = Path.Combine(dir, "users"),
                ["^filetype"] = "text",
                ["saltdev"] = new List<object?> { ".*", "@runner", "@wheel", "@jobs" },
                ["limited"] = new List<object?> { "test.*" },
            },
        },
        ["embedded_master"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["minions"] = 5L,
            ["silent"] = new List<object?> { "ms--4" },
        },
    };

    public async Task StartMasterAsync()
    {
        if (master is null)
        {
            Directory.CreateDirectory(Path.Combine(dir, "sock"));
            Directory.CreateDirectory(Path.Combine(dir, "cache"));
            master = await Master.StartAsync(MasterConfig(), NullLoggerFactory.Instance);
        }
    }

    public async Task StopMasterAsync()
    {
        if (master is not null)
        {
            await master.DisposeAsync();
            master = null;
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await StopMasterAsync();
    }
}
