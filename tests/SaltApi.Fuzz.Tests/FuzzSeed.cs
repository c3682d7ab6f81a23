using FsCheck.Xunit;

namespace SaltApi.Fuzz.Tests;

/// <summary>
/// The FsCheck seed of this run: new each run, written to every property's output and failure message, and
/// taken from <see cref="Variable"/> when set, so that a failing run can be run again exactly.
/// </summary>
public static class FuzzSeed
{
    /// <summary>Set to a printed replay (<c>seed,gamma</c>) to run the properties on that seed.</summary>
    public const string Variable = "SALTAPI_FSCHECK_REPLAY";

    /// <summary>FsCheck's replay string for this run: <c>seed,gamma</c> (gamma odd, as FsCheck's Rnd wants it).</summary>
    public static string Replay { get; } = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given
        ? given
        : $"{(ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue)},{(ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue) | 1}";

    /// <summary>How to run this seed again.</summary>
    public static string Again => $"FsCheck replay {Replay}: run again with {Variable}={Replay}";
}

/// <summary>An FsCheck property on this run's <see cref="FuzzSeed"/>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class FuzzPropertyAttribute : PropertyAttribute
{
    public FuzzPropertyAttribute() => Replay = FuzzSeed.Replay;
}
