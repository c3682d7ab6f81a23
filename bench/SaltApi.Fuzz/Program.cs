using System.Diagnostics;
using SharpFuzz;

namespace SaltApi.Fuzz;

/// <summary>
/// <list type="bullet">
/// <item><c>SaltApi.Fuzz TARGET</c>: under afl-fuzz (bench/fuzz/fuzz.sh), the input on stdin; a crash,
/// a stack overflow or a time-out of the child process is reported to afl-fuzz and the child restarted.</item>
/// <item><c>SaltApi.Fuzz replay TARGET FILE|DIR...</c>: each input once (a <c>.gz</c> file decompressed), <c>OK name ms</c> or
/// <c>FAIL name error</c>; exit 1 when one failed. A stack overflow ends the process after the
/// <c>BEGIN name</c> line of the input that caused it.</item>
/// <item><c>SaltApi.Fuzz list</c>: the target names.</item>
/// </list>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Instrumented assemblies write their coverage through this pointer; outside afl-fuzz (a replay
        // of a crash with the instrumented build) it must point somewhere. Fuzzer.Run replaces it.
        unsafe
        {
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
        }

        return Bounds.OnDaemonSizedStack(() => Run(args));
    }

    private static int Run(string[] args)
    {
        if (args.Length == 1 && args[0] == "list")
        {
            Console.Out.WriteLine(string.Join('\n', Targets.All.Keys));
            return 0;
        }

        if (args.Length >= 3 && args[0] == "replay" && Targets.All.ContainsKey(args[1]))
        {
            return Replay(args[1], args[2..]);
        }

        if (args.Length == 1 && Targets.All.ContainsKey(args[0]))
        {
            var target = args[0];
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var ms = new MemoryStream();
                stream.CopyTo(ms);
                Bounds.Run(target, ms.ToArray());
            });
            return 0;
        }

        Console.Error.WriteLine($"usage: SaltApi.Fuzz TARGET | replay TARGET FILE|DIR... | list   (targets: {string.Join(", ", Targets.All.Keys)})");
        return 2;
    }

    private static int Replay(string target, string[] paths)
    {
        var failures = 0;
        var files = paths.SelectMany(p => Directory.Exists(p)
            ? Directory.GetFiles(p, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith(".md", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            : (IEnumerable<string>)[p]);
        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            Console.Out.WriteLine($"BEGIN {name}");
            Console.Out.Flush();
            var clock = Stopwatch.StartNew();
            try
            {
                Bounds.Run(target, ReadInput(file));
                Console.Out.WriteLine($"OK {name} {clock.ElapsedMilliseconds}");
            }
            catch (Exception e)
            {
                failures++;
                Console.Out.WriteLine($"FAIL {name} {Describe(e)}");
                if (Environment.GetEnvironmentVariable("FUZZ_STACK") == "1")
                {
                    Console.Out.WriteLine(e);
                }

            }

            Console.Out.Flush();
        }

        return failures == 0 ? 0 : 1;
    }

    // A .gz input is stored compressed (a megabyte of digits is a few hundred bytes).
    private static byte[] ReadInput(string file)
    {
        if (!file.EndsWith(".gz", StringComparison.Ordinal))
        {
            return File.ReadAllBytes(file);
        }

        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(file), System.IO.Compression.CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>The exception and where it was thrown: one line, the same for the same bug.</summary>
    internal static string Describe(Exception e)
    {
        var site = new StackTrace(e).GetFrame(0)?.GetMethod();
        var message = e.Message.ReplaceLineEndings(" ");
        return $"{e.GetType().Name}: {message[..Math.Min(message.Length, 200)]} at {site?.DeclaringType?.FullName}.{site?.Name}";
    }
}
