using System.Buffers;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;
using SaltApi.Protocol.Channel;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.EmbeddedMaster.Tests;

/// <summary>A running embedded master on a free loopback port with a throw-away sock_dir and cachedir.</summary>
public sealed class MasterHarness : IAsyncDisposable
{
    public const string Password = "saltdev";

    // The tests wait for replies synchronously while the master under test runs on the same thread pool.
    // On a 2-core runner the pool starts with 2 threads and, while work items keep completing, grows
    // slowly: a master continuation could wait seconds behind blocked test threads and a timing
    // assertion fail for the test's sake, not the master's.
    static MasterHarness()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), io);
    }

    private MasterHarness(string dir, SaltMaster master)
    {
        Dir = dir;
        Master = master;
    }

    public string Dir { get; }

    public SaltMaster Master { get; }

    public string SockDir => Path.Combine(Dir, "sock");

    public string CacheDir => Path.Combine(Dir, "cache");

    public string Uri => $"tcp://127.0.0.1:{Master.RetPort}";

    public static OrderedDictionary<string, object?> Map(params (string Key, object? Value)[] pairs)
    {
        var m = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in pairs)
        {
            m[k] = v;
        }

        return m;
    }

    /// <summary>The config the tests use: file eauth with saltdev (everything) and limited (test.* only).</summary>
    public static OrderedDictionary<string, object?> Config(string dir, Action<OrderedDictionary<string, object?>>? tweak = null)
    {
        var cfg = Map(
            ("interface", "127.0.0.1"),
            ("ret_port", 0L),
            ("sock_dir", Path.Combine(dir, "sock")),
            ("cachedir", Path.Combine(dir, "cache")),
            ("external_auth", Map(
                ("file", Map(
                    ("^filename", Path.Combine(dir, "users")),
                    ("^filetype", "text"),
                    ("saltdev", new List<object?> { ".*", "@runner", "@wheel", "@jobs" }),
                    ("limited", new List<object?> { "test.*" }),
                    ("webonly", new List<object?> { Map(("ms--1", new List<object?> { "test.*" })) }),
                    ("argsonly", new List<object?> { Map(("*", new List<object?> { Map(("test.echo", Map(("args", new List<object?> { "^hello$" })))) })) }),
                    ("adm%", new List<object?> { "grains.*" }))),
                ("auto", Map(("*", new List<object?> { "test.ping" }))))),
            ("nodegroups", Map(("first2", "L@ms--0,ms--1"), ("listgroup", new List<object?> { "ms--3", "ms--4" }))),
            ("embedded_master", Map(("minions", 5L), ("latency_ms", 1L), ("auth_failure_delay", 0.05))));
        tweak?.Invoke(cfg);
        return cfg;
    }

    public static async Task<MasterHarness> StartAsync(Action<OrderedDictionary<string, object?>>? tweak = null)
    {
        var dir = Directory.CreateTempSubdirectory("saltem-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "users"), "saltdev:saltdev\nlimited:saltdev\nwebonly:saltdev\nargsonly:saltdev\n");
        var master = await SaltMaster.StartAsync(Config(dir, tweak), NullLoggerFactory.Instance);
        return new MasterHarness(dir, master);
    }

    /// <summary>One REQ round trip with raw payload bytes; null when no reply came within the limit.</summary>
    public byte[]? SendRaw(byte[] payload, TimeSpan? limit = null)
    {
        using var req = new RequestSocket();
        req.Options.Linger = TimeSpan.Zero;
        req.Connect(Uri);
        req.SendFrame(payload);
        return req.TryReceiveFrameBytes(limit ?? TimeSpan.FromSeconds(20), out var reply) ? reply : null;
    }

    /// <summary>Sends a clear load, returns the decoded reply.</summary>
    public object? Send(OrderedDictionary<string, object?> load)
    {
        var reply = SendRaw(ClearEnvelope.Encode(load)) ?? throw new TimeoutException("no reply from the master");
        return ClearEnvelope.DecodeReply(reply);
    }

    /// <summary><see cref="Send"/> on a thread of its own: the blocking receive must not hold a pool thread the master needs.</summary>
    public Task<object?> SendAsync(OrderedDictionary<string, object?> load) =>
        Task.Factory.StartNew(() => Send(load), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>A bus reader, returned once the master has registered it (events fired later all reach it).</summary>
    public BusReader Reader()
    {
        var bus = Master.Context!.Bus;
        var before = bus.ReaderCount;
        var reader = new BusReader(Path.Combine(SockDir, "master_event_pub.ipc"));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (bus.ReaderCount <= before && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(1);
        }

        return reader;
    }

    public async ValueTask DisposeAsync()
    {
        await Master.DisposeAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A unix-socket reader of the master's bus, as salt-api connects one.</summary>
public sealed class BusReader : IDisposable
{
    private readonly Socket socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Channel<(BusEvent Event, byte[] Raw)> events = System.Threading.Channels.Channel.CreateUnbounded<(BusEvent, byte[])>();
    private readonly CancellationTokenSource stop = new();

    public BusReader(string path)
    {
        socket.Connect(new UnixDomainSocketEndPoint(path));
        _ = Task.Run(ReadLoopAsync);
    }

    private async Task ReadLoopAsync()
    {
        var pipe = System.IO.Pipelines.PipeReader.Create(new NetworkStream(socket, ownsSocket: false));
        try
        {
            while (true)
            {
                var result = await pipe.ReadAsync(stop.Token);
                var seq = result.Buffer;
                while (true)
                {
                    var before = seq;
                    if (!EventFrame.TryRead(ref seq, out var evt))
                    {
                        break;
                    }

                    if (evt is not null)
                    {
                        events.Writer.TryWrite((evt, before.Slice(0, before.Length - seq.Length).ToArray()));
                    }
                }

                pipe.AdvanceTo(seq.Start, seq.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
        }

        events.Writer.TryComplete();
    }

    /// <summary>The next event whose tag satisfies the predicate (others are skipped).</summary>
    public async Task<BusEvent> NextAsync(Func<string, bool> tag, TimeSpan? limit = null) => (await NextRawAsync(tag, limit)).Event;

    public async Task<(BusEvent Event, byte[] Raw)> NextRawAsync(Func<string, bool> tag, TimeSpan? limit = null)
    {
        using var cts = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var e = await events.Reader.ReadAsync(cts.Token);
            if (tag(e.Event.Tag))
            {
                return e;
            }
        }
    }

    /// <summary>Whether the reader was closed by the master.</summary>
    public async Task<bool> ClosedAsync(TimeSpan limit)
    {
        using var cts = new CancellationTokenSource(limit);
        try
        {
            while (await events.Reader.WaitToReadAsync(cts.Token))
            {
                events.Reader.TryRead(out _);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        socket.Dispose();
        stop.Dispose();
    }
}

/// <summary>What the captured vectors say a reply looks like.</summary>
public static class Vectors
{
    public static object? Decode(string name) => SaltMsgpack.Deserialize(SaltApi.Testing.TestData.VectorBytes(name));

    /// <summary>The shape of a value: maps by key order and value shape, lists by element shapes, scalars by type.</summary>
    public static string Shape(object? v) => v switch
    {
        null => "null",
        string => "str",
        bool => "bool",
        long or ulong => "int",
        double => "float",
        OrderedDictionary<string, object?> m => "{" + string.Join(",", m.Select(kv => kv.Key + ":" + Shape(kv.Value))) + "}",
        List<object?> l => "[" + string.Join(",", l.Select(Shape).Distinct()) + "]",
        _ => v.GetType().Name,
    };
}

/// <summary>Requests captured from the real salt-api, adapted to this test config (eauth file, minions ms--N).</summary>
public static class CapturedRequests
{
    /// <summary>The load of a req-* vector with eauth pam → file, ms-N → ms--N, and the root key blanked.</summary>
    public static OrderedDictionary<string, object?> Load(string name)
    {
        var env = (OrderedDictionary<string, object?>)Vectors.Decode(name)!;
        var load = (OrderedDictionary<string, object?>)Adapt(env["load"])!;
        if (load.ContainsKey("key"))
        {
            load["key"] = "";
        }

        return load;
    }

    private static object? Adapt(object? v) => v switch
    {
        "pam" => "file",
        string s when System.Text.RegularExpressions.Regex.IsMatch(s, "^ms-[0-9]+$") => s.Replace("ms-", "ms--", StringComparison.Ordinal),
        OrderedDictionary<string, object?> m => m.Aggregate(new OrderedDictionary<string, object?>(StringComparer.Ordinal), (acc, kv) =>
        {
            acc[kv.Key] = Adapt(kv.Value);
            return acc;
        }),
        List<object?> l => l.Select(Adapt).ToList(),
        _ => v,
    };
}
