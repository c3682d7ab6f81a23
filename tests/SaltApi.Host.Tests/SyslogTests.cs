using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using SaltApi.Host.Logging;
using SaltApi.Testing;

namespace SaltApi.Host.Tests;

/// <summary><c>api_logfile</c> / <c>--log-file</c> as a syslog URL, as Salt's logging reads it, on real sockets.</summary>
public sealed class SyslogTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData("tcp://localhost:514/LOG_USER", "Tcp", "localhost", 514, "LOG_USER", 1)]
    [InlineData("tcp://localhost/LOG_DAEMON", "Tcp", "localhost", 514, "LOG_DAEMON", 3)]
    [InlineData("udp://localhost:5145/LOG_KERN", "Udp", "localhost", 5145, "LOG_KERN", 0)]
    [InlineData("udp://localhost", "Udp", "localhost", 514, "LOG_USER", 1)]
    [InlineData("udp://[::1]:1514/log_local0", "Udp", "::1", 1514, "LOG_LOCAL0", 16)]
    [InlineData("UDP://LogHost:0", "Udp", "loghost", 514, "LOG_USER", 1)]
    [InlineData("file:///dev/log", "Unix", "/dev/log", 0, "LOG_USER", 1)]
    [InlineData("file:///dev/log/LOG_SYSLOG", "Unix", "/dev/log", 0, "LOG_SYSLOG", 5)]
    [InlineData("file:///dev/log/LOG_DAEMON", "Unix", "/dev/log", 0, "LOG_DAEMON", 3)]
    [InlineData("file:///run/systemd/journal/dev-log", "Unix", "/run/systemd/journal/dev-log", 0, "LOG_USER", 1)]
    public void Salts_syslog_urls(string url, string transport, string address, int port, string facility, int code)
    {
        Assert.True(SyslogTarget.IsUrl(url));
        Assert.Equal(new SyslogTarget(Enum.Parse<SyslogTransport>(transport), address, port, facility, code), SyslogTarget.Parse(url));
    }

    [Theory]
    [InlineData("udp://loghost/daemon", "The syslog facility 'DAEMON' is not known")]
    [InlineData("tcp://loghost/LOG_NOPE", "The syslog facility 'LOG_NOPE' is not known")]
    [InlineData("file:///dev/log/LOG_NOPE", "The syslog facility 'LOG_NOPE' is not known")]
    [InlineData("udp://loghost:99999", "the port must be a number from 0 to 65535")]
    [InlineData("udp://loghost:http", "the port must be a number from 0 to 65535")]
    [InlineData("udp://:514", "names no host")]
    [InlineData("file://", "names no socket path")]
    public void Bad_syslog_urls_say_why(string url, string why) =>
        Assert.Contains(why, Assert.Throws<FormatException>(() => SyslogTarget.Parse(url)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("/var/log/salt/api")]
    [InlineData("api.log")]
    [InlineData("logs/udp://x")]
    public void Paths_are_not_urls(string path) => Assert.False(SyslogTarget.IsUrl(path));

    [Fact]
    public void Frames_as_python_sysloghandler_for_datagrams_and_lf_framed_for_streams()
    {
        Assert.Equal("<14>hello\0", Encoding.UTF8.GetString(SyslogSink.Frame(14, "hello", stream: false)));
        Assert.Equal("<11>a\nb\0", Encoding.UTF8.GetString(SyslogSink.Frame(11, "a\nb", stream: false)));
        Assert.Equal("<11>a\\nb\\r\n", Encoding.UTF8.GetString(SyslogSink.Frame(11, "a\nb\r", stream: true)));
        var cut = SyslogSink.Frame(14, new string('é', SyslogSink.MaxMessageBytes), stream: false);
        Assert.True(cut.Length <= SyslogSink.MaxMessageBytes + 1);
        Assert.Equal(0, cut[^1]);
        Assert.DoesNotContain('\uFFFD', Encoding.UTF8.GetString(cut));
        Assert.Equal(
            [7, 7, 6, 4, 3, 2],
            new[] { LogLevel.Trace, LogLevel.Debug, LogLevel.Information, LogLevel.Warning, LogLevel.Error, LogLevel.Critical }.Select(SyslogSink.Severity));
    }

    private static ILogger Logger(ILogSink sink, string name = "salt.test") =>
        new SaltLoggerProvider(sink, LogLevel.Debug, new LogFormat("[%(levelname)s] %(message)s", "")).CreateLogger(name);

    [Fact]
    public async Task Udp_datagrams_carry_the_priority_and_redacted_line()
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)server.Client.LocalEndPoint!).Port;
        using (var sink = new SyslogSink(SyslogTarget.Parse($"udp://127.0.0.1:{port}/LOG_LOCAL0")))
        {
            var log = Logger(sink);
            log.LogInformation("GET /events?token=0123456789abcdef0123456789abcdef done");
            log.LogError("failed");
            using var cts = new CancellationTokenSource(Limit);
            Assert.Equal("<134>[INFO] GET /events?token=*** done\0", Encoding.UTF8.GetString((await server.ReceiveAsync(cts.Token)).Buffer));
            Assert.Equal("<131>[ERROR] failed\0", Encoding.UTF8.GetString((await server.ReceiveAsync(cts.Token)).Buffer));
        }
    }

    [Fact]
    public async Task Tcp_lines_are_lf_framed_with_one_record_per_line()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var sink = new SyslogSink(SyslogTarget.Parse($"tcp://127.0.0.1:{port}/LOG_DAEMON"));
        var log = Logger(sink);
        log.LogWarning("first; password=hunter2");
        log.LogError(new InvalidOperationException("why"), "second");
        using var cts = new CancellationTokenSource(Limit);
        using var client = await listener.AcceptTcpClientAsync(cts.Token);
        using var reader = new StreamReader(client.GetStream());
        Assert.Equal("<28>[WARNING] first; password=***", await reader.ReadLineAsync(cts.Token));
        var second = await reader.ReadLineAsync(cts.Token);
        Assert.StartsWith("<27>[ERROR] second\\nSystem.InvalidOperationException: why", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_unix_datagram_socket_receives_lines()
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-syslog-").FullName;
        try
        {
            var path = Path.Combine(dir, "log");
            using var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            server.Bind(new UnixDomainSocketEndPoint(path));
            using var sink = new SyslogSink(SyslogTarget.Parse($"file://{path}/LOG_AUTH"));
            Logger(sink).LogCritical("/ws/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef closed");
            var buffer = new byte[4096];
            using var cts = new CancellationTokenSource(Limit);
            var n = await server.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            Assert.Equal("<34>[CRITICAL] /ws/*** closed\0", Encoding.UTF8.GetString(buffer, 0, n));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task A_unix_stream_socket_is_used_when_datagrams_are_refused()
    {
        var dir = Directory.CreateTempSubdirectory("saltapi-syslog-").FullName;
        try
        {
            var path = Path.Combine(dir, "log");
            using var server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            server.Bind(new UnixDomainSocketEndPoint(path));
            server.Listen();
            using var sink = new SyslogSink(SyslogTarget.Parse($"file://{path}"));
            Logger(sink).LogInformation("over a stream");
            using var cts = new CancellationTokenSource(Limit);
            using var accepted = await server.AcceptAsync(cts.Token);
            using var reader = new StreamReader(new NetworkStream(accepted));
            Assert.Equal("<14>[INFO] over a stream", await reader.ReadLineAsync(cts.Token));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task An_absent_target_never_blocks_lines_are_dropped_counted_and_reported_when_it_answers()
    {
        var port = FreePort.Next();
        var problems = new List<string>();
        using var sink = new SyslogSink(SyslogTarget.Parse($"tcp://127.0.0.1:{port}"), p => { lock (problems) { problems.Add(p); } }, maxRetry: TimeSpan.FromMilliseconds(200));
        var log = Logger(sink);
        var watch = Stopwatch.StartNew();
        const int Lines = 3 * SyslogSink.MaxQueuedLines;
        for (var i = 0; i < Lines; i++)
        {
            log.LogInformation("line {Number}", i);
        }

        // 30,000 lines to nobody: the caller never waits on the socket, the queue stays within its bound.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{watch.Elapsed}");
        Assert.InRange(sink.Queued, 0, SyslogSink.MaxQueuedLines);
        Assert.True(sink.Dropped >= Lines - SyslogSink.MaxQueuedLines - 1, $"{sink.Dropped} dropped");
        // The sink's own thread finds the target absent and says so: waited for, as it may come after the lines.
        var reported = Stopwatch.StartNew();
        bool Reported()
        {
            lock (problems)
            {
                return problems.Any(p => p.Contains($"tcp://127.0.0.1:{port}/LOG_USER", StringComparison.Ordinal));
            }
        }

        while (!Reported() && reported.Elapsed < Limit)
        {
            await Task.Delay(20);
        }

        Assert.True(Reported(), $"the absent target was not reported within {Limit}");

        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        using var cts = new CancellationTokenSource(Limit);
        using var client = await listener.AcceptTcpClientAsync(cts.Token);
        using var reader = new StreamReader(client.GetStream());
        string? line;
        var received = 0;
        do
        {
            line = await reader.ReadLineAsync(cts.Token);
            received += line?.StartsWith("<14>[INFO] line ", StringComparison.Ordinal) == true ? 1 : 0;
        }
        while (line is not null && !line.Contains("log lines were dropped", StringComparison.Ordinal));

        Assert.NotNull(line);
        Assert.Matches(@"^<12>salt-api: \d+ log lines were dropped", line);
        Assert.InRange(received, 1, SyslogSink.MaxQueuedLines + 1);
    }

    [Fact]
    public async Task The_daemon_logs_to_syslog_given_on_the_command_line_or_in_the_config()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var udpPort = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        await using (var daemon = await Daemon.StartAsync(args: ["--log-file", $"udp://127.0.0.1:{udpPort}/LOG_LOCAL0"]))
        {
            using var cts = new CancellationTokenSource(Limit);
            string text;
            do
            {
                text = Encoding.UTF8.GetString((await udp.ReceiveAsync(cts.Token)).Buffer);
                Assert.StartsWith("<1", text, StringComparison.Ordinal);
                Assert.EndsWith("\0", text, StringComparison.Ordinal);
            }
            while (!text.Contains("The salt-api is starting up", StringComparison.Ordinal));

            Assert.StartsWith("<134>", text, StringComparison.Ordinal);
            Assert.Contains($"[{daemon.Pid}] The salt-api is starting up", text, StringComparison.Ordinal);
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(daemon.Dir), e => Path.GetFileName(e).StartsWith("udp", StringComparison.Ordinal));
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var tcpPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using (var daemon = await Daemon.StartAsync(configure: dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "master.d"));
            File.WriteAllText(Path.Combine(dir, "master.d", "syslog.conf"), $"api_logfile: tcp://127.0.0.1:{tcpPort}/LOG_DAEMON\n");
        }))
        {
            using var cts = new CancellationTokenSource(Limit);
            using var client = await listener.AcceptTcpClientAsync(cts.Token);
            using var reader = new StreamReader(client.GetStream());
            string? line;
            do
            {
                line = await reader.ReadLineAsync(cts.Token);
                Assert.NotNull(line);
            }
            while (!line.Contains("The salt-api is starting up", StringComparison.Ordinal));

            Assert.StartsWith("<30>", line, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(daemon.Dir, "api.log")));
        }
    }

    [Fact]
    public async Task A_syslog_url_with_an_unknown_facility_stops_the_daemon_at_start()
    {
        await using var daemon = await Daemon.StartAsync(
            configure: dir =>
            {
                Directory.CreateDirectory(Path.Combine(dir, "master.d"));
                File.WriteAllText(Path.Combine(dir, "master.d", "syslog.conf"), "api_logfile: udp://127.0.0.1/LOG_NOPE\n");
            },
            waitForPorts: []);
        Assert.True(await daemon.WaitForExitAsync(Limit));
        Assert.Equal(1, daemon.ExitCode);
        Assert.Contains("key 'api_logfile': The syslog facility 'LOG_NOPE' is not known", daemon.Output, StringComparison.Ordinal);
    }
}
