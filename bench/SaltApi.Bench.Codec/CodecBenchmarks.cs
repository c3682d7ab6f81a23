using System.Buffers;
using BenchmarkDotNet.Attributes;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Bench.Codec;

/// <summary>
/// One operation = every captured vector of a kind, once. Program divides by the count to report
/// per-message figures.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private byte[][] requestPayloads = [];
    private object?[] requestTrees = [];
    private byte[][] busFrames = [];
    private BusEvent[] busEvents = [];

    /// <summary>Loads and pre-decodes the vectors.</summary>
    [GlobalSetup]
    public void Setup()
    {
        requestPayloads = Vectors.RequestChannel();
        requestTrees = requestPayloads.Select(p => SaltMsgpack.Deserialize(p)).ToArray();
        busFrames = Vectors.BusFrames();
        busEvents = Vectors.BusEvents();
    }

    /// <summary>Request channel: msgpack bytes to the plain value tree.</summary>
    [Benchmark]
    public int RequestDecode()
    {
        var n = 0;
        foreach (var p in requestPayloads)
        {
            n += SaltMsgpack.Deserialize(p) is null ? 0 : 1;
        }

        return n;
    }

    /// <summary>Request channel: value tree to old-spec msgpack.</summary>
    [Benchmark]
    public int RequestEncode()
    {
        var n = 0;
        foreach (var t in requestTrees)
        {
            n += SaltMsgpack.Serialize(t, MsgpackDialect.Request).Length;
        }

        return n;
    }

    /// <summary>Event bus: stream bytes to events, as the bus reader does (frame split + body decode).</summary>
    [Benchmark]
    public int BusDecode()
    {
        var n = 0;
        foreach (var f in busFrames)
        {
            var seq = new ReadOnlySequence<byte>(f);
            while (EventFrame.TryRead(ref seq, out var evt))
            {
                n += evt is null ? 0 : 1;
            }
        }

        return n;
    }

    /// <summary>Event bus: an event to a whole frame, as a firer writes it.</summary>
    [Benchmark]
    public int BusEncode()
    {
        var n = 0;
        foreach (var e in busEvents)
        {
            n += EventFrame.Encode(e.Tag, e.Data, addStamp: false).Length;
        }

        return n;
    }
}
