using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SaltApi.Client.Config;
using SaltApi.Client.Request;
using SaltApi.Testing;

namespace SaltApi.Client.Tests.Request;

/// <summary>
/// The DEALER envelope against real libzmq: Salt's ROUTER → QUEUE device → REP workers in miniature
/// (<c>tests/data/libzmq/salt_request_device.py</c>), whose workers answer at different speeds.
/// </summary>
public sealed class LibzmqDeviceTests
{
    /// <summary>Debian's python3 first (its python3-zmq is installed for it, whatever else is first on PATH).</summary>
    internal static string? Python { get; } = new[] { "/usr/bin/python3", "python3" }.FirstOrDefault(Imports);

    internal static bool Available => Python is not null;

    private static bool Imports(string python)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(python, ["-c", "import zmq"]) { RedirectStandardError = true, UseShellExecute = false });
            if (p is null || !p.WaitForExit(20_000))
            {
                return false;
            }

            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static OrderedDictionary<string, object?> Ping(int i) => new() { ["cmd"] = "ping", ["n"] = (long)i };

    [LibzmqTheory]
    [InlineData("dealer")]
    [InlineData("req")]
    public async Task Concurrent_requests_through_a_libzmq_queue_device_and_REP_workers_each_get_their_own_reply(string socket)
    {
        var psi = new ProcessStartInfo(Python!, [Path.Combine(TestData.Dir, "libzmq", "salt_request_device.py")])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var device = Process.Start(psi)!;
        try
        {
            var line = await device.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var port = int.Parse(line!, System.Globalization.CultureInfo.InvariantCulture);
            var options = ClientOptions.From(new Dictionary<string, object?>
            {
                ["interface"] = "127.0.0.1",
                ["ret_port"] = (long)port,
                [ClientOptions.ConfigKey] = new Dictionary<string, object?> { ["request_threads"] = 1L, ["request_socket"] = socket },
            });
            using var channel = new RequestChannel(options, NullLogger.Instance);

            var replies = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => channel.SendAsync(Ping(i), TimeSpan.FromSeconds(20), 1, CancellationToken.None))).WaitAsync(TimeSpan.FromSeconds(60));

            // The workers echo the request: each caller gets back its own load.
            for (var i = 0; i < replies.Length; i++)
            {
                var env = (OrderedDictionary<string, object?>)replies[i]!;
                Assert.Equal("clear", env["enc"]);
                Assert.Equal((long)i, ((OrderedDictionary<string, object?>)env["load"]!)["n"]);
            }
        }
        finally
        {
            device.StandardInput.Close();
            if (!device.WaitForExit(10_000))
            {
                device.Kill();
            }
        }
    }
}

/// <summary>Skips a theory when python3 or its zmq module (Debian's python3-zmq) is missing.</summary>
public sealed class LibzmqTheoryAttribute : RequiredTheoryAttribute
{
    public LibzmqTheoryAttribute()
    {
        if (!LibzmqDeviceTests.Available)
        {
            Skip = "python3 with libzmq bindings is not installed (apt-get install python3-zmq)";
        }
    }
}
