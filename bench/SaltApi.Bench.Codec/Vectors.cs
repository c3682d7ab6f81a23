using System.Buffers;
using SaltApi.Protocol.Events;

namespace SaltApi.Bench.Codec;

/// <summary>The captured wire vectors (tests/data/vectors in the repository).</summary>
public static class Vectors
{
    /// <summary>The vectors folder; set by Program from its argument or the environment.</summary>
    public static string Dir { get; set; } = "";

    /// <summary>Request-channel payloads, both directions (<c>req-*</c>, <c>rep-*</c>): the old-spec dialect.</summary>
    public static byte[][] RequestChannel() => Read("req-").Concat(Read("rep-")).ToArray();

    /// <summary>Whole event-bus frames (<c>event-*</c>): the new-spec dialect with a binary body.</summary>
    public static byte[][] BusFrames() => Read("event-").ToArray();

    /// <summary>Decodes every bus frame once (for the encode benchmark's input).</summary>
    public static BusEvent[] BusEvents() => BusFrames()
        .Select(f => EventFrame.Decode(new ReadOnlySequence<byte>(f)) ?? throw new InvalidDataException("a bus vector is no event"))
        .ToArray();

    private static IEnumerable<byte[]> Read(string prefix) =>
        Directory.GetFiles(Dir, prefix + "*.hex")
            .Order(StringComparer.Ordinal)
            .Select(f => Convert.FromHexString(File.ReadAllText(f).Trim()));
}
