using System.Diagnostics;

namespace SaltApi.Fuzz;

/// <summary>
/// The property every target is held to beyond "no unexpected exception": one input takes at most
/// <see cref="Time"/> and allocates at most <see cref="MaxAllocated"/> bytes on the fuzzing thread.
/// A stack overflow ends the process, which the fuzzer reports as a crash.
/// </summary>
public static class Bounds
{
    /// <summary>The longest one input may take (instrumented code, a cold JIT on a fresh process included).</summary>
    public static readonly TimeSpan Time = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Decoder threads in the daemon are thread-pool threads: 1.5 MiB of stack on Linux. The fuzzer
    /// runs inputs on a thread of that size so that recursion the daemon cannot afford shows.
    /// </summary>
    public const int StackBytes = 1536 * 1024;

    /// <summary>Generous: 64 MiB plus 64 bytes per input byte (a parsed tree and its written-back text).</summary>
    public static long MaxAllocated(int inputLength) => (64L << 20) + (64L * inputLength);

    /// <summary>Runs one input through a target and checks the bounds; throws <see cref="FuzzPropertyException"/> past one.</summary>
    public static void Run(string target, byte[] data)
    {
        var run = Targets.All[target];
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        run(data);
        var elapsed = clock.Elapsed;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        if (elapsed > Time)
        {
            throw new FuzzPropertyException($"{target}: {data.Length} bytes took {elapsed.TotalMilliseconds:F0} ms (bound {Time.TotalMilliseconds:F0} ms)");
        }

        if (allocated > MaxAllocated(data.Length))
        {
            throw new FuzzPropertyException($"{target}: {data.Length} bytes allocated {allocated >> 20} MiB (bound {MaxAllocated(data.Length) >> 20} MiB)");
        }
    }

    /// <summary>Runs <paramref name="body"/> on a thread with the daemon's stack size and returns its exit code.</summary>
    public static int OnDaemonSizedStack(Func<int> body)
    {
        var rc = 2;
        var thread = new Thread(() => rc = body(), StackBytes);
        thread.Start();
        thread.Join();
        return rc;
    }
}
