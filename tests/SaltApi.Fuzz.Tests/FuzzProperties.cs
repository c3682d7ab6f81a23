using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace SaltApi.Fuzz.Tests;

/// <summary>One mutated input: which seed, the mutation stream's seed, how many mutations.</summary>
public sealed record FuzzInput(int Seed, int Rng, int Count, int Split)
{
    /// <summary>The seeds this input mutates (set by the generator).</summary>
    internal byte[][] Pool { get; init; } = [];

    internal byte[] Bytes => Mutator.Mutate(Pool[Seed % Pool.Length], Pool, Rng, Count);

    public override string ToString() => $"seed {Seed} rng {Rng} mutations {Count} split {Split} bytes {Convert.ToHexString(Bytes.AsSpan(0, Math.Min(Bytes.Length, 256)))}";
}

/// <summary>Generators: mutations of the captured vectors, of valid lowstates, of a whole bus stream.</summary>
public static class FuzzArbitraries
{
    private static Arbitrary<FuzzInput> Over(byte[][] pool) => Arb.From(
        from seed in Gen.Choose(0, pool.Length - 1)
         from rng in Gen.Choose(0, int.MaxValue - 1)
         from count in Gen.Choose(0, 8)
         from split in Gen.Choose(0, int.MaxValue - 1)
         select new FuzzInput(seed, rng, count, split) { Pool = pool },
        i => i.Count > 0 ? [i with { Count = i.Count - 1 }, i with { Count = i.Count / 2 }] : []);

    /// <summary>Wire vectors (requests, replies, frames) and lowstates mixed.</summary>
    public static Arbitrary<FuzzInput> Inputs() => Over([.. Seeds.Wire, .. Seeds.Json, Seeds.BusStream]);
}

/// <summary>Mutate the seeds: every decoder of untrusted bytes ends with a value or our typed error.</summary>
public sealed class FuzzProperties
{
    // Bounded for CI: about a second per property on two cores.
    private const int Tests = 1500;

    public FuzzProperties(Xunit.Abstractions.ITestOutputHelper output) => output.WriteLine(FuzzSeed.Again);

    private static void Check(string target, FuzzInput input)
    {
        var error = Targets.Run(target, input.Bytes, input.Split);
        Assert.True(error is null, $"{target}: {error} ({FuzzSeed.Again})");
    }

    [FuzzProperty(MaxTest = Tests, Arbitrary = [typeof(FuzzArbitraries)])]
    public void Msgpack_deserialize_throws_only_protocol_errors_and_round_trips(FuzzInput input) => Check("msgpack", input);

    [FuzzProperty(MaxTest = Tests, Arbitrary = [typeof(FuzzArbitraries)])]
    public void Clear_reply_decode_throws_only_protocol_errors(FuzzInput input) => Check("reply", input);

    [FuzzProperty(MaxTest = Tests, Arbitrary = [typeof(FuzzArbitraries)])]
    public void Event_frame_decode_throws_only_protocol_errors(FuzzInput input) => Check("frame", input);

    [FuzzProperty(MaxTest = Tests, Arbitrary = [typeof(FuzzArbitraries)])]
    public void Event_stream_read_whole_or_in_pieces_agrees_and_throws_only_protocol_errors(FuzzInput input) => Check("stream", input);

    [FuzzProperty(MaxTest = Tests, Arbitrary = [typeof(FuzzArbitraries)])]
    public void Json_parse_throws_only_json_errors_and_round_trips(FuzzInput input) => Check("json", input);

    // The capture's frames, unmutated, split anywhere: every event comes out, in order, as when read whole.
    [FuzzProperty(MaxTest = 500)]
    public void Valid_bus_stream_split_anywhere_yields_every_event(int split)
    {
        Assert.Null(Targets.Run("stream", Seeds.BusStream, split));
        var buffer = Segments.Of(Targets.Split(Seeds.BusStream, new Random(split)));
        var count = 0;
        while (SaltApi.Protocol.Events.EventFrame.TryRead(ref buffer, out var evt))
        {
            Assert.NotNull(evt);
            count++;
        }

        Assert.True(buffer.IsEmpty);
        Assert.Equal(Seeds.Frames.Length, count);
    }
}
