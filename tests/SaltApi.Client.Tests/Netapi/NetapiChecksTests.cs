using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Tests.Support;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Netapi;

/// <summary>NetapiClient.run's checks (spec/03 §1), in Salt's order, with Salt's messages.</summary>
public sealed class NetapiChecksTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private SaltClientLayer Layer(bool masterUp = true, bool rawShell = false, bool clientList = true)
    {
        if (masterUp)
        {
            File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");
        }

        var opts = new Dictionary<string, object?>
        {
            ["interface"] = "127.0.0.1",
            ["ret_port"] = (long)FreePort.Next(),
            ["sock_dir"] = dir.Path,
            ["cachedir"] = dir.Path,
            ["netapi_allow_raw_shell"] = rawShell,
        };
        if (clientList)
        {
            opts["netapi_enable_clients"] = new List<object?> { "local", "runner", "ssh" };
        }

        return SaltClientLayer.Create(opts, NullLoggerFactory.Instance);
    }

    private static Dictionary<string, object?> Low(params (string Key, object? Value)[] kv) => kv.ToDictionary(k => k.Key, k => k.Value);

    [Fact]
    public async Task Master_not_running_comes_first()
    {
        await using var layer = Layer(masterUp: false);

        var e = await Assert.ThrowsAsync<SaltMasterUnavailableException>(() => layer.Client.RunAsync(Low(("client", "nope")), CancellationToken.None));
        Assert.Equal("Salt Master is not available.", e.Message);
        Assert.Equal(SaltErrorKind.MasterUnavailable, e.Kind);
    }

    [Theory]
    [InlineData(null, "Invalid client specified: 'None'")]
    [InlineData("nope", "Invalid client specified: 'nope'")]
    [InlineData(5L, "Invalid client specified: '5'")]
    public async Task Invalid_client(object? client, string message)
    {
        await using var layer = Layer();
        var low = client is null ? Low(("token", "x")) : Low(("client", client), ("token", "x"));

        var e = await Assert.ThrowsAsync<SaltInvocationException>(() => layer.Client.RunAsync(low, CancellationToken.None));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public async Task Disabled_client()
    {
        await using var layer = Layer();

        var e = await Assert.ThrowsAsync<SaltInvocationException>(() => layer.Client.RunAsync(Low(("client", "wheel"), ("token", "x")), CancellationToken.None));
        Assert.Equal("Client disabled: 'wheel'. Add to 'netapi_enable_clients' master config option to enable.", e.Message);
    }

    [Fact]
    public async Task Disabled_client_without_any_list_says_which_key_to_add_and_how()
    {
        await using var layer = Layer(clientList: false);

        var e = await Assert.ThrowsAsync<SaltInvocationException>(() => layer.Client.RunAsync(Low(("client", "local"), ("token", "x")), CancellationToken.None));
        Assert.Equal(
            "Client disabled: 'local'. Add to 'netapi_enable_clients' master config option to enable. The master config's netapi_enable_clients is missing or empty, "
            + "so every client is disabled (since Salt 3006); list the clients to allow, e.g. netapi_enable_clients: [local, local_async, local_batch, local_subset, runner, runner_async, wheel, wheel_async].",
            e.Message);
        Assert.Equal(400, e.HttpStatus());
    }

    [Fact]
    public void The_start_warning_names_the_modules_the_clients_and_the_key()
    {
        var empty = Protocol.Config.MasterConfig.From(new Dictionary<string, object?> { ["conf_file"] = "/etc/salt/master" });
        Assert.Equal(
            "netapi_enable_clients is missing or empty in the master config (/etc/salt/master): rest_cherrypy, rest_tornado will refuse every lowstate client "
            + "(local, local_async, local_batch, local_subset, runner, runner_async, ssh, wheel, wheel_async) with 400 \"Client disabled\"; /login, /jobs, /events and /hook still work. "
            + "Add the clients to allow, e.g. netapi_enable_clients: [local, local_async, local_batch, local_subset, runner, runner_async, wheel, wheel_async]",
            SaltApi.Client.Netapi.EnableClientsHint.StartWarning(empty, ["rest_cherrypy", "rest_tornado"]));
        Assert.Null(SaltApi.Client.Netapi.EnableClientsHint.StartWarning(empty, []));
        var listed = Protocol.Config.MasterConfig.From(new Dictionary<string, object?> { ["netapi_enable_clients"] = new List<object?> { "local" } });
        Assert.Null(SaltApi.Client.Netapi.EnableClientsHint.StartWarning(listed, ["rest_cherrypy"]));
    }

    [Fact]
    public async Task Credentials_must_be_present()
    {
        await using var layer = Layer();

        var e = await Assert.ThrowsAsync<SaltAuthenticationException>(() => layer.Client.RunAsync(Low(("client", "local"), ("username", "u"), ("password", "p")), CancellationToken.None));
        Assert.Equal("No authentication credentials given", e.Message);
        Assert.Equal("EauthAuthenticationError", e.SaltName);
    }

    [Fact]
    public async Task Raw_shell_refused_unless_allowed()
    {
        await using var layer = Layer();

        var e = await Assert.ThrowsAsync<SaltAuthenticationException>(() => layer.Client.RunAsync(Low(("client", "local"), ("token", "x"), ("raw_shell", true)), CancellationToken.None));
        Assert.Equal("Raw shell option not allowed.", e.Message);
    }

    [Fact]
    public async Task Clients_are_Salts_nine_in_order()
    {
        await using var layer = Layer();

        Assert.Equal(["local", "local_async", "local_batch", "local_subset", "runner", "runner_async", "ssh", "wheel", "wheel_async"], layer.Client.Clients);
    }
}

public sealed class MissingArgumentsTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Theory]
    [InlineData("runner")]
    [InlineData("runner_async")]
    [InlineData("wheel")]
    [InlineData("wheel_async")]
    public async Task Runner_and_wheel_without_fun_are_invocation_errors(string client)
    {
        File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");
        await using var layer = SaltClientLayer.Create(new Dictionary<string, object?>
        {
            ["sock_dir"] = dir.Path,
            ["cachedir"] = dir.Path,
            ["netapi_enable_clients"] = new List<object?> { client },
        }, NullLoggerFactory.Instance);

        var e = await Assert.ThrowsAsync<SaltInvocationException>(() => layer.Client.RunAsync(new Dictionary<string, object?> { ["client"] = client, ["token"] = "t" }, CancellationToken.None));
        Assert.Equal($"{client} takes at least 1 argument (0 given)", e.Message);
    }

    [Fact]
    public async Task Local_without_tgt_and_fun_is_an_invocation_error()
    {
        File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");
        await using var layer = SaltClientLayer.Create(new Dictionary<string, object?>
        {
            ["sock_dir"] = dir.Path,
            ["cachedir"] = dir.Path,
            ["netapi_enable_clients"] = new List<object?> { "local" },
        }, NullLoggerFactory.Instance);

        var e = await Assert.ThrowsAsync<SaltInvocationException>(() => layer.Client.RunAsync(new Dictionary<string, object?> { ["client"] = "local", ["token"] = "t" }, CancellationToken.None));
        Assert.Equal("cmd() missing 2 required positional arguments: 'tgt' and 'fun'", e.Message);
    }
}
