using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Abstractions.Errors;
using SaltApi.Client.Tests.Support;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Netapi;

/// <summary>
/// NetapiClient.run refuses <c>raw_shell</c> when <c>low.get("raw_shell")</c> is true in Python's sense:
/// "0" and "false" are non-empty strings, so they are refused too (they were let through before).
/// </summary>
public sealed class RawShellTruthinessTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Theory]
    [InlineData("0")]
    [InlineData("false")]
    [InlineData(1L)]
    public async Task Raw_shell_truthy_in_python_is_refused(object flag)
    {
        File.WriteAllText(Path.Combine(dir.Path, "workers.ipc"), "");
        await using var layer = SaltClientLayer.Create(new Dictionary<string, object?>
        {
            ["interface"] = "127.0.0.1",
            ["ret_port"] = (long)FreePort.Next(),
            ["sock_dir"] = dir.Path,
            ["cachedir"] = dir.Path,
            ["netapi_enable_clients"] = new List<object?> { "local" },
        }, NullLoggerFactory.Instance);

        var low = new Dictionary<string, object?> { ["client"] = "local", ["token"] = "x", ["raw_shell"] = flag };
        var e = await Assert.ThrowsAsync<SaltAuthenticationException>(() => layer.Client.RunAsync(low, CancellationToken.None));
        Assert.Equal("Raw shell option not allowed.", e.Message);
    }
}
