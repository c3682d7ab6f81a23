using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using MessagePack;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using NetMQ;
using NetMQ.Sockets;

// The API floor: the least a .NET HTTP-to-Salt bridge does with the daemon's parts (Kestrel, NetMQ, MessagePack)
// and none of its code. POST / (body dropped) sends one clear publish of local_async test.ping to '*' over ONE
// DEALER to the master's ret_port; the reply's jid and minions answer it. No lowstate, no auth, no timeouts.
// Usage: SaltApi.Bench.Floor HTTP_PORT RET_PORT TOKEN [--bus SOCK_DIR/master_event_pub.ipc]
var port = int.Parse(args[0], CultureInfo.InvariantCulture);
var retPort = int.Parse(args[1], CultureInfo.InvariantCulture);
var token = args[2];
if (args.Length > 4 && args[3] == "--bus")
{
    // As every salt-api: a reader of the master's event bus, its bytes read and dropped on a thread of its own.
    new Thread(() => ReadBus(args[4])) { IsBackground = true, Name = "floor-bus" }.Start();
}

// The DEALER is owned by the poller's thread: requests come through a NetMQQueue, replies are matched by id.
using var dealer = new DealerSocket();
dealer.Options.Linger = TimeSpan.Zero;
dealer.Connect($"tcp://127.0.0.1:{retPort}");
using var queue = new NetMQQueue<Job>();
var pending = new Dictionary<uint, TaskCompletionSource<ReadOnlyMemory<byte>>>();
uint next = 0;
queue.ReceiveReady += (_, _) =>
{
    while (queue.TryDequeue(out var job, TimeSpan.Zero))
    {
        var id = ++next;
        pending[id] = job.Done;
        var frame = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, id);
        dealer.SendMoreFrame(frame).SendMoreFrameEmpty().SendFrame(job.Payload);
    }
};
dealer.ReceiveReady += (_, _) =>
{
    // The master echoes [id][empty] before its reply (a REP socket behind its ROUTER).
    NetMQMessage? m = null;
    while (dealer.TryReceiveMultipartMessage(ref m))
    {
        if (m.FrameCount == 3 && m[0].BufferSize == 4 && pending.Remove(BinaryPrimitives.ReadUInt32LittleEndian(m[0].Buffer), out var done))
        {
            done.TrySetResult(new ReadOnlyMemory<byte>(m[2].Buffer, 0, m[2].BufferSize));
        }

        m = null;
    }
};
using var poller = new NetMQPoller { dealer, queue };
poller.RunAsync("floor-dealer");

var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
builder.WebHost.UseKestrelCore();
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http1);
});
await using var app = builder.Build();
var first = 0;
app.Run(async http =>
{
    var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    try
    {
        while (await http.Request.Body.ReadAsync(buffer, http.RequestAborted) > 0)
        {
        }
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
    }

    var done = new TaskCompletionSource<ReadOnlyMemory<byte>>(TaskCreationOptions.RunContinuationsAsynchronously);
    queue.Enqueue(new Job(Publish(token), done));
    var body = Answer(await done.Task);
    if (body is null)
    {
        // Not a publish answer with a jid: an error for wrk to count.
        http.Response.StatusCode = 502;
        return;
    }

    if (Interlocked.Exchange(ref first, 1) == 0)
    {
        Console.WriteLine("first answer: " + System.Text.Encoding.UTF8.GetString(body));
    }

    http.Response.StatusCode = 200;
    http.Response.ContentType = "application/json";
    http.Response.ContentLength = body.Length;
    await http.Response.Body.WriteAsync(body, http.RequestAborted);
});
await app.RunAsync();

// {"enc": "clear", "load": {...}, "version": 2}: the keys and values LocalClient sends for local_async test.ping to '*'.
static byte[] Publish(string token)
{
    var buffer = new ArrayBufferWriter<byte>(256);
    var w = new MessagePackWriter(buffer) { OldSpec = true };
    w.WriteMapHeader(3);
    Pairs(ref w, ("enc", "clear"));
    w.Write("load");
    w.WriteMapHeader(10);
    Pairs(ref w, ("cmd", "publish"), ("tgt", "*"), ("fun", "test.ping"));
    w.Write("arg");
    w.WriteArrayHeader(0);
    Pairs(ref w, ("key", ""), ("tgt_type", "glob"), ("ret", ""), ("jid", ""));
    w.Write("kwargs");
    w.WriteMapHeader(2);
    Pairs(ref w, ("client", "local_async"), ("token", token));
    Pairs(ref w, ("user", "root"));
    w.Write("version");
    w.Write(2L);
    w.Flush();
    return buffer.WrittenSpan.ToArray();
}

static void Pairs(ref MessagePackWriter w, params (string Key, string Value)[] pairs)
{
    foreach (var (k, v) in pairs)
    {
        w.Write(k);
        w.Write(v);
    }
}

// {"return": [{"jid": ..., "minions": [...]}]} from the reply's load, or null without a jid.
static byte[]? Answer(ReadOnlyMemory<byte> reply)
{
    try
    {
        var r = new MessagePackReader(reply);
        string? jid = null;
        var minions = new List<string?>();
        for (var n = r.ReadMapHeader(); n > 0; n--)
        {
            if (r.ReadString() != "load" || r.NextMessagePackType != MessagePackType.Map)
            {
                r.Skip();
                continue;
            }

            for (var m = r.ReadMapHeader(); m > 0; m--)
            {
                switch (r.ReadString())
                {
                    case "jid" when r.NextMessagePackType == MessagePackType.String:
                        jid = r.ReadString();
                        break;
                    case "minions" when r.NextMessagePackType == MessagePackType.Array:
                        for (var i = r.ReadArrayHeader(); i > 0; i--)
                        {
                            minions.Add(r.ReadString());
                        }

                        break;
                    default:
                        r.Skip();
                        break;
                }
            }
        }

        if (jid is not { Length: > 0 })
        {
            return null;
        }

        var output = new ArrayBufferWriter<byte>(256);
        using (var j = new Utf8JsonWriter(output))
        {
            j.WriteStartObject();
            j.WriteStartArray("return");
            j.WriteStartObject();
            j.WriteString("jid", jid);
            j.WriteStartArray("minions");
            minions.ForEach(j.WriteStringValue);
            j.WriteEndArray();
            j.WriteEndObject();
            j.WriteEndArray();
            j.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }
    catch (MessagePackSerializationException)
    {
        return null;
    }
}

static void ReadBus(string path)
{
    var buffer = new byte[64 * 1024];
    while (true)
    {
        try
        {
            using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            s.Connect(new UnixDomainSocketEndPoint(path));
            Console.WriteLine("event bus: reading " + path);
            while (s.Receive(buffer) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }

        Thread.Sleep(1000);
    }
}

internal sealed record Job(byte[] Payload, TaskCompletionSource<ReadOnlyMemory<byte>> Done);
