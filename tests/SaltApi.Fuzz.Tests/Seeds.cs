using System.Text;
using SaltApi.Testing;

namespace SaltApi.Fuzz.Tests;

/// <summary>Valid inputs that mutations start from: the captured wire vectors and lowstate bodies.</summary>
internal static class Seeds
{
    private static readonly Lazy<(string Name, byte[] Bytes)[]> WireSeeds = new(LoadWire);

    /// <summary>Request/reply payloads and whole bus frames captured from a real Salt 3006.</summary>
    public static byte[][] Wire => [.. WireSeeds.Value.Select(v => v.Bytes)];

    /// <summary>The captured bus frames.</summary>
    public static byte[][] Frames => [.. WireSeeds.Value.Where(v => v.Name.StartsWith("event-", StringComparison.Ordinal)).Select(v => v.Bytes)];

    /// <summary>Every captured bus frame back to back, as a subscriber reads them.</summary>
    public static byte[] BusStream { get; } = [.. Frames.SelectMany(b => b)];

    /// <summary>Lowstate bodies as clients send them (spec/03, spec/04, spec/05).</summary>
    public static byte[][] Json { get; } =
    [
        .. new[]
        {
            """[{"client": "local", "tgt": "*", "fun": "test.ping", "eauth": "file", "username": "saltdev", "password": "saltdev"}]""",
            """[{"client": "local", "tgt": ["ms--0", "ms--1"], "tgt_type": "list", "fun": "test.arg", "arg": [1, 2.5, "x", null, true], "kwarg": {"a": {"b": [1]}}, "token": "0123456789abcdef0123456789abcdef01234567"}]""",
            """{"client": "runner", "fun": "jobs.lookup_jid", "jid": "20261126190000123456", "timeout": 5, "full_return": false}""",
            """[{"client": "wheel", "fun": "key.list_all", "match": "*"}, {"client": "wheel_async", "fun": "key.accept", "match": "ms--*"}]""",
            """[{"client": "local_batch", "tgt": "*", "fun": "test.sleep", "arg": ["1"], "batch": "50%"}]""",
            """[{"client": "local_subset", "tgt": "*", "fun": "test.echo", "arg": ["h\u00e9llo \ud83d\ude00 \u0000 \\ \" /"], "sub": 2}]""",
            """{"username": "saltdev", "password": "saltdev", "eauth": "file"}""",
            """[{"client": "ssh", "tgt": "*", "fun": "cmd.run", "arg": ["id"], "raw_shell": true}]""",
            """[{"client": "runner_async", "fun": "test.arg", "arg": ["k=v"], "kwarg": {"n": -9223372036854775808, "u": 18446744073709551615, "f": 1e-300, "g": -0.0}}]""",
            """[]""",
            """{}""",
            """[1e400, -1e400, 123456789012345678901234567890, 0.1, 1E+2]""",
            """"\ud800 lone surrogate\udfff"""",
            """[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]""",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    private static (string Name, byte[] Bytes)[] LoadWire() =>
    [
        .. new[] { "req-", "rep-", "event-" }
            .SelectMany(TestData.VectorNames)
            .OrderBy(n => n + ".hex", StringComparer.Ordinal)
            .Select(n => (n + ".hex", TestData.VectorBytes(n))),
    ];
}
