using System.Runtime;
using Microsoft.Extensions.Hosting;

namespace SaltApi.Host.Hosting;

/// <summary>
/// Gives memory back when a burst of load is over. The GC runs only when the daemon allocates, so after a burst the
/// heap it grew to (gen2 fragmentation, the freed pipes of closed request sockets, free regions) stays committed
/// until the next load. Every <see cref="Period"/> the gen0 collections since the last look tell busy from quiet;
/// on the first quiet look after a busy one, one aggressive compacting collection decommits what is free.
/// </summary>
internal sealed class IdleTrim : BackgroundService
{
    /// <summary>How often the load is looked at.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    private readonly Decider decider = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        decider.Next(GC.CollectionCount(0));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (decider.Next(GC.CollectionCount(0)))
                {
                    GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Busy: at least <see cref="BusyCollections"/> gen0 collections in a period; quiet: at most one.</summary>
    internal sealed class Decider
    {
        public const int BusyCollections = 10;
        private int? last;
        private bool busy;

        /// <summary>Takes the gen0 collection count now; true when memory should be given back.</summary>
        public bool Next(int gen0Collections)
        {
            var delta = last is { } l ? gen0Collections - l : 0;
            last = gen0Collections;
            if (delta >= BusyCollections)
            {
                busy = true;
                return false;
            }

            if (busy && delta <= 1)
            {
                busy = false;
                return true;
            }

            return false;
        }
    }
}
