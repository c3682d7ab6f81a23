using System.Diagnostics;

namespace SaltApi.Fuzz.Tests;

/// <summary>
/// The fuzz driver, run as <c>dotnet SaltApi.Fuzz.Tests.dll</c> (the test host never calls it):
/// <list type="bullet">
/// <item><c>replay FILE|DIR ...</c> runs every target over each input;</item>
/// <item><c>deep NAME ...</c> runs the generated deep-nesting inputs (<see cref="DeepCases"/>);</item>
/// <item><c>fuzz SECONDS OUTDIR</c> mutates the seeds for a bounded time and saves every input
/// that makes a target fail into OUTDIR (then commit it under corpus/).</item>
/// </list>
/// Each input prints <c>OK name ms</c> or <c>FAIL name target exception</c>; a crash (stack overflow)
/// ends the process, and the last <c>BEGIN</c> line names the input.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Decoders run on thread-pool threads in the daemon (1.5 MiB stacks on Linux): test them on
        // a smaller stack than the main thread's 8 MiB so that unbounded recursion shows.
        var rc = 2;
        var thread = new Thread(() => rc = Run(args), 1024 * 1024);
        thread.Start();
        thread.Join();
        return rc;
    }

    private static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: replay FILE|DIR... | deep NAME... | fuzz SECONDS OUTDIR");
            return 2;
        }

        return args[0] switch
        {
            "replay" => Replay(args[1..]),
            "deep" => Deep(args[1..]),
            "fuzz" => Fuzz(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), args[2]),
            _ => 2,
        };
    }

    private static int Replay(string[] paths)
    {
        var failures = 0;
        foreach (var file in paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]))
        {
            failures += RunOne(Path.GetFileName(file), File.ReadAllBytes(file));
        }

        return failures == 0 ? 0 : 1;
    }

    private static int Deep(string[] names)
    {
        var failures = 0;
        foreach (var name in names.Length == 0 ? DeepCases.All.Keys : names)
        {
            failures += RunOne(name, DeepCases.All[name]());
        }

        return failures == 0 ? 0 : 1;
    }

    private static int RunOne(string name, byte[] data)
    {
        Console.Out.WriteLine($"BEGIN {name}");
        Console.Out.Flush();
        var sw = Stopwatch.StartNew();
        var failures = 0;
        foreach (var (target, error) in Targets.RunAll(data))
        {
            failures++;
            Console.Out.WriteLine($"FAIL {name} {target} {error.GetType().Name}: {error.Message.ReplaceLineEndings(" ")}");
        }

        Console.Out.WriteLine($"{(failures == 0 ? "OK" : "DONE")} {name} {sw.ElapsedMilliseconds}");
        Console.Out.Flush();
        return failures;
    }

    private static int Fuzz(int seconds, string outDir)
    {
        Directory.CreateDirectory(outDir);
        var seeds = Seeds.Wire.Concat(Seeds.Json).Append(Seeds.BusStream).ToArray();
        var rng = new Random();
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        long runs = 0;
        var found = 0;
        while (DateTime.UtcNow < deadline)
        {
            var seed = seeds[rng.Next(seeds.Length)];
            var data = Mutator.Mutate(seed, seeds, rng.Next(), rng.Next(1, 9));
            foreach (var (target, error) in Targets.RunAll(data, rng.Next()))
            {
                var name = $"{target}-{error.GetType().Name}-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data))[..12].ToLowerInvariant()}.bin";
                var path = Path.Combine(outDir, name);
                if (!File.Exists(path))
                {
                    File.WriteAllBytes(path, data);
                    found++;
                    Console.Out.WriteLine($"FAIL {name} {error.Message.ReplaceLineEndings(" ")}");
                }
            }

            runs++;
        }

        Console.Out.WriteLine($"{runs} inputs, {found} new failures");
        return found == 0 ? 0 : 1;
    }
}
